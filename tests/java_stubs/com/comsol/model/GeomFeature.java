package com.comsol.model;

/** A geometry feature (Sphere, Block, Intersection...). */
public interface GeomFeature extends Settable<GeomFeature> {
  GeomObjectSelectionFeature selection(String name);
}
