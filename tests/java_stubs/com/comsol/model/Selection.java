package com.comsol.model;

/** The geometric-entity selection of a feature. */
public interface Selection {
  Selection geom(String geomTag, int entityDim);
  Selection named(String selectionTag);
  Selection set(int... entities);
  Selection all();
}
