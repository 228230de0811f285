package com.comsol.model;

public interface MeshFeature extends Settable<MeshFeature> {
  MeshFeature create(String tag, String type);
  MeshFeature feature(String tag);
  Selection selection();
}
