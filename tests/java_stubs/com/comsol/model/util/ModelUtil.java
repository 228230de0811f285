package com.comsol.model.util;

import com.comsol.model.Model;

/** Stub of COMSOL's model utility class: only the signature, for compiling exported files. */
public final class ModelUtil {
  private ModelUtil() {}

  public static Model create(String tag) {
    throw new UnsupportedOperationException("stub of the COMSOL API: compile only, run with COMSOL");
  }
}
