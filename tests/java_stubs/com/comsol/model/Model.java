package com.comsol.model;

/** The root of a COMSOL model (stub of the documented API). */
public interface Model {
  ModelParam param();
  ModelNodeList component();
  ModelNode component(String tag);
  StudyList study();
  Study study(String tag);
  Results result();
  void label(String label);
  void comments(String comments);
  void modelPath(String path);
  void save(String path);
  void save(String path, String format);
}
