package com.comsol.model;

/** Component couplings (integration, average, ... operators). */
public interface CplList {
  CplFeature create(String tag, String type);
}
