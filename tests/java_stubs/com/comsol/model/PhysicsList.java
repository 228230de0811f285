package com.comsol.model;

public interface PhysicsList {
  Physics create(String tag, String type, String geomTag);
}
