package com.comsol.model;

/** A study (std1). */
public interface Study {
  StudyFeature create(String tag, String type);
  StudyFeature feature(String tag);
  void createAutoSequences(String type);
  void run();
  Study label(String label);
}
