package com.comsol.model;

public interface MeshList {
  MeshSequence create(String tag);
  MeshSequence create(String tag, String geomTag);
}
