package com.comsol.model;

/** A geometry sequence (geom1). */
public interface GeomSequence {
  GeomFeature create(String tag, String type);
  GeomFeature feature(String tag);
  void run();
  void run(String tag);
  void lengthUnit(String unit);
}
