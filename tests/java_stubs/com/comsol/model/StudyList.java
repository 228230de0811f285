package com.comsol.model;

public interface StudyList {
  Study create(String tag);
}
