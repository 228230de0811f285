package com.comsol.model;

public interface ExportFeatureList {
  ExportFeature create(String tag, String type);
}
