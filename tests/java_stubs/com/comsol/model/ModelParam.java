package com.comsol.model;

/** Global parameters. */
public interface ModelParam {
  ModelParam set(String name, String expr);
  ModelParam set(String name, String expr, String descr);
}
