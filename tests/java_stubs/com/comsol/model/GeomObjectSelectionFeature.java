package com.comsol.model;

/** The input objects of a geometry operation. */
public interface GeomObjectSelectionFeature {
  GeomObjectSelectionFeature set(String... tags);
}
