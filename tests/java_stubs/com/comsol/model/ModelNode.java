package com.comsol.model;

/** A model component (comp1). */
public interface ModelNode {
  GeomList geom();
  GeomSequence geom(String tag);
  SelectionList selection();
  SelectionFeature selection(String tag);
  VariablesList variable();
  Variables variable(String tag);
  CplList cpl();
  CplFeature cpl(String tag);
  PhysicsList physics();
  Physics physics(String tag);
  MeshList mesh();
  MeshSequence mesh(String tag);
}
