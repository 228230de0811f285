package com.comsol.model;

/** A physics feature (FluxBoundary, LinearElasticModel, ExternalStrain...). */
public interface PhysicsFeature extends Settable<PhysicsFeature> {
  Selection selection();
  PhysicsFeature create(String tag, String type, int dim);
  PhysicsFeature feature(String tag);
}
