package com.comsol.model;

/** A physics interface (tds, solid). */
public interface Physics {
  PhysicsFeature create(String tag, String type, int dim);
  PhysicsFeature feature(String tag);
  PropFeature prop(String name);
  Selection selection();
  Physics label(String label);
}
