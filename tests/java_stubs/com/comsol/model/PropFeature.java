package com.comsol.model;

/** A property group of a physics interface. */
public interface PropFeature {
  PropFeature set(String name, String value);
}
