package com.comsol.model;

public interface GeomList {
  GeomSequence create(String tag, int sdim);
}
