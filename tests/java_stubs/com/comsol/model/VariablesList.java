package com.comsol.model;

public interface VariablesList {
  Variables create(String tag);
}
