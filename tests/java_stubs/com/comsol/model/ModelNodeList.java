package com.comsol.model;

/** The list of model components. */
public interface ModelNodeList {
  ModelNode create(String tag, boolean defaultGeometry);
}
