package com.comsol.model;

/** A mesh sequence (mesh1). */
public interface MeshSequence {
  MeshFeature create(String tag, String type);
  MeshFeature feature(String tag);
  void autoMeshSize(int size);
  void run();
  void export(String filename);
}
