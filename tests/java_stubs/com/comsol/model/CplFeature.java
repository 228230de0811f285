package com.comsol.model;

public interface CplFeature extends Settable<CplFeature> {
  Selection selection();
}
