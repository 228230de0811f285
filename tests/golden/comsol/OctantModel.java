/*
 * OctantModel.java
 * Golden file of tests/test_comsol_java.py (Si defaults).
 *
 * Build and solve:  comsol compile OctantModel.java
 *                   comsol batch -inputfile OctantModel.class -outputfile OctantModel.mph
 * Solved model:     OctantModel_Model.mph (<outputfile>_<model tag>.mph)
 * Results:          /scratch/octant/run/mesh.mphtxt, /scratch/octant/run/fields.txt
 */

import com.comsol.model.*;
import com.comsol.model.util.*;

/** Model exported by octant. */
public class OctantModel {

  public static Model run() {
    Model model = ModelUtil.create("Model");
    // Parameters (SI)
    model.param().set("R", "4.11e-06[m]", "Particle radius");
    model.param().set("c0", "0.0[mol/m^3]", "Initial concentration");
    model.param().set("c_ref", "0.0[mol/m^3]", "Stress-free reference concentration");
    model.param().set("i_m", "100.0[A/kg]", "Specific current");
    model.param().set("T_K", "298.15[K]", "Temperature");
    model.param().set("c_max", "311142.13259548036[mol/m^3]", "Maximum Li concentration, Si (matrix)");
    model.param().set("rho_p", "2330.0[kg/m^3]", "Density, Si (matrix)");
    model.param().set("Omega", "9e-06[m^3/mol]", "Partial molar volume, Si (matrix)");
    model.param().set("E_p", "80000000000.0[Pa]", "Young's modulus, Si (matrix)");
    model.param().set("nu_p", "0.22", "Poisson's ratio, Si (matrix)");

    // Component and geometry: the octant = Sphere(R) intersected with Block(R, R, R)
    model.component().create("comp1", true);
    model.component("comp1").geom().create("geom1", 3);
    model.component("comp1").geom("geom1").create("sph1", "Sphere");
    model.component("comp1").geom("geom1").feature("sph1").set("r", "R");
    model.component("comp1").geom("geom1").create("blk1", "Block");
    model.component("comp1").geom("geom1").feature("blk1").set("size", new String[]{"R", "R", "R"});
    model.component("comp1").geom("geom1").create("int1", "Intersection");
    model.component("comp1").geom("geom1").feature("int1").selection("input").set(new String[]{"sph1", "blk1"});
    model.component("comp1").geom("geom1").run();

    // Selections: the three symmetry planes, the spherical surface, the material domains
    model.component("comp1").selection().create("plx", "Box");
    model.component("comp1").selection("plx").set("entitydim", 2);
    model.component("comp1").selection("plx").set("xmin", "-0.001*R");
    model.component("comp1").selection("plx").set("xmax", "0.001*R");
    model.component("comp1").selection("plx").set("ymin", "-0.1*R");
    model.component("comp1").selection("plx").set("ymax", "1.1*R");
    model.component("comp1").selection("plx").set("zmin", "-0.1*R");
    model.component("comp1").selection("plx").set("zmax", "1.1*R");
    model.component("comp1").selection("plx").set("condition", "inside");
    model.component("comp1").selection().create("ply", "Box");
    model.component("comp1").selection("ply").set("entitydim", 2);
    model.component("comp1").selection("ply").set("xmin", "-0.1*R");
    model.component("comp1").selection("ply").set("xmax", "1.1*R");
    model.component("comp1").selection("ply").set("ymin", "-0.001*R");
    model.component("comp1").selection("ply").set("ymax", "0.001*R");
    model.component("comp1").selection("ply").set("zmin", "-0.1*R");
    model.component("comp1").selection("ply").set("zmax", "1.1*R");
    model.component("comp1").selection("ply").set("condition", "inside");
    model.component("comp1").selection().create("plz", "Box");
    model.component("comp1").selection("plz").set("entitydim", 2);
    model.component("comp1").selection("plz").set("xmin", "-0.1*R");
    model.component("comp1").selection("plz").set("xmax", "1.1*R");
    model.component("comp1").selection("plz").set("ymin", "-0.1*R");
    model.component("comp1").selection("plz").set("ymax", "1.1*R");
    model.component("comp1").selection("plz").set("zmin", "-0.001*R");
    model.component("comp1").selection("plz").set("zmax", "0.001*R");
    model.component("comp1").selection("plz").set("condition", "inside");
    model.component("comp1").selection().create("pln", "Union");
    model.component("comp1").selection("pln").set("entitydim", 2);
    model.component("comp1").selection("pln").set("input", new String[]{"plx", "ply", "plz"});
    model.component("comp1").selection().create("sph", "Complement");
    model.component("comp1").selection("sph").set("entitydim", 2);
    model.component("comp1").selection("sph").set("input", new String[]{"pln"});

    // Definitions: integration operators, per-domain material variables, the inward flux
    model.component("comp1").cpl().create("intop1", "Integration");
    model.component("comp1").cpl("intop1").selection().geom("geom1", 3);
    model.component("comp1").cpl("intop1").selection().all();
    model.component("comp1").cpl().create("intop2", "Integration");
    model.component("comp1").cpl("intop2").selection().geom("geom1", 2);
    model.component("comp1").cpl("intop2").selection().named("sph");
    model.component("comp1").variable().create("var1");
    model.component("comp1").variable("var1").set("theta", "c/c_max", "State of charge, Si (matrix)");
    model.component("comp1").variable("var1").set("D_Li", "((1e-17+(9.95e-16*(1.0+tanh((((c/c_max)-0.85)/0.02))))))*1[m^2/s]", "Diffusivity D(theta), step law, Si (matrix)");
    model.component("comp1").variable("var1").set("rho_loc", "rho_p", "Density, Si (matrix)");
    model.component("comp1").variable("var1").set("cmax_loc", "c_max", "Maximum Li concentration, Si (matrix)");
    model.component("comp1").variable("var1").set("Omega_loc", "Omega", "Partial molar volume, Si (matrix)");
    model.component("comp1").variable("var1").set("E_loc", "E_p", "Young's modulus, Si (matrix)");
    model.component("comp1").variable("var1").set("nu_loc", "nu_p", "Poisson's ratio, Si (matrix)");
    model.component("comp1").variable("var1").label("Material: Si (matrix)");
    model.component("comp1").variable().create("var2");
    model.component("comp1").variable("var2").set("J_in", "i_m*intop1(rho_loc)/(F_const*intop2(1))", "Inward molar flux on the sphere");

    // Transport of Diluted Species
    model.component("comp1").physics().create("tds", "DilutedSpecies", "geom1");
    model.component("comp1").physics("tds").feature("cdm1").set("D_c", new String[]{"D_Li", "0", "0", "0", "D_Li", "0", "0", "0", "D_Li"});
    model.component("comp1").physics("tds").feature("init1").setIndex("initc", "c0", 0);
    model.component("comp1").physics("tds").create("fl1", "FluxBoundary", 2);
    model.component("comp1").physics("tds").feature("fl1").selection().named("sph");
    model.component("comp1").physics("tds").feature("fl1").setIndex("species", true, 0);
    model.component("comp1").physics("tds").feature("fl1").setIndex("J0", "J_in", 0);

    // Solid Mechanics: quasi-static, swelling eigenstrain, rollers on the planes
    model.component("comp1").physics().create("solid", "SolidMechanics", "geom1");
    model.component("comp1").physics("solid").prop("StructuralTransientBehavior").set("StructuralTransientBehavior", "Quasistatic");
    model.component("comp1").physics("solid").feature("lemm1").set("E_mat", "userdef");
    model.component("comp1").physics("solid").feature("lemm1").set("E", "E_loc");
    model.component("comp1").physics("solid").feature("lemm1").set("nu_mat", "userdef");
    model.component("comp1").physics("solid").feature("lemm1").set("nu", "nu_loc");
    model.component("comp1").physics("solid").feature("lemm1").set("rho_mat", "userdef");
    model.component("comp1").physics("solid").feature("lemm1").set("rho", "rho_loc");
    model.component("comp1").physics("solid").feature("lemm1").create("eiel1", "ExternalStrain", 3);
    model.component("comp1").physics("solid").feature("lemm1").feature("eiel1").set("StrainInput", "StrainTensor");
    model.component("comp1").physics("solid").feature("lemm1").feature("eiel1").set("eext", new String[]{"Omega_loc*(c-c_ref)/3", "0", "0", "0", "Omega_loc*(c-c_ref)/3", "0", "0", "0", "Omega_loc*(c-c_ref)/3"});
    model.component("comp1").physics("solid").create("sym1", "SymmetrySolid", 2);
    model.component("comp1").physics("solid").feature("sym1").selection().named("pln");

    // Mesh: free tetrahedral
    model.component("comp1").mesh().create("mesh1");
    model.component("comp1").mesh("mesh1").create("ftet1", "FreeTet");
    model.component("comp1").mesh("mesh1").feature("size").set("hauto", 5);
    model.component("comp1").mesh("mesh1").run();

    // Study: transient, stored at the output times
    model.study().create("std1");
    model.study("std1").create("time", "Transient");
    model.study("std1").feature("time").set("tunit", "s");
    model.study("std1").feature("time").set("tlist", "0.0 6442.2 12884.4 19326.6 25768.8 32211.0 38653.2 45095.4 51537.6 57979.799999999996 64422.0 70864.2 77306.4 83748.59999999999 90190.8 96633.0 103075.2 109517.4 115959.59999999999 122401.8 128844.0");
    model.study("std1").feature("time").set("usertol", true);
    model.study("std1").feature("time").set("rtol", "0.0001");
    model.study("std1").createAutoSequences("all");

    // Solve
    model.study("std1").run();

    // Export: mesh (.mphtxt) and fields at every stored time (spreadsheet text)
    model.component("comp1").mesh("mesh1").export("/scratch/octant/run/mesh.mphtxt");
    model.result().export().create("data1", "Data");
    model.result().export("data1").set("data", "dset1");
    model.result().export("data1").set("expr", new String[]{"c", "u", "v", "w", "solid.sx", "solid.sy", "solid.sz", "solid.syz", "solid.sxz", "solid.sxy", "solid.mises", "solid.evol"});
    model.result().export("data1").set("unit", new String[]{"mol/m^3", "m", "m", "m", "Pa", "Pa", "Pa", "Pa", "Pa", "Pa", "Pa", "1"});
    model.result().export("data1").set("looplevelinput", new String[]{"all"});
    model.result().export("data1").set("filename", "/scratch/octant/run/fields.txt");
    model.result().export("data1").run();

    return model;
  }

  public static void main(String[] args) {
    Model model = run();
  }

}
