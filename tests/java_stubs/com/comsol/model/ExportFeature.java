package com.comsol.model;

/** A result export (Data, Mesh). */
public interface ExportFeature extends Settable<ExportFeature> {
  void run();
}
