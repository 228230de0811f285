package com.comsol.model;

/** The results node. */
public interface Results {
  ExportFeatureList export();
  ExportFeature export(String tag);
}
