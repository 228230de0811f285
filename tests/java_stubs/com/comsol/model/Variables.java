package com.comsol.model;

/** A group of variables (var1). */
public interface Variables {
  Variables set(String name, String expr);
  Variables set(String name, String expr, String descr);
  Variables label(String label);
  Selection selection();
}
