package com.comsol.model;

/** A property group of a physics interface (COMSOL writes set("Migration", true) on it, too). */
public interface PropFeature {
  PropFeature set(String name, String value);
  PropFeature set(String name, boolean value);
}
