package com.comsol.model;

public interface SelectionList {
  SelectionFeature create(String tag, String type);
}
