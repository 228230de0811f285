"""Print a :class:`~solvers.comsol.builder.ModelPlan` as a COMSOL model file for Java (``.java``).

The layout is the one COMSOL writes with File > Save As > Model File for Java, so the file can be
compiled and run with COMSOL's own tools, with no Python on the compute node::

    comsol compile OctantModel.java                       # -> OctantModel.class
    comsol batch -inputfile OctantModel.class -outputfile OctantModel.mph
                                                          # -> OctantModel_Model.mph
                                                          #    (<outputfile>_<model tag>.mph)

Layout::

    import com.comsol.model.*;
    import com.comsol.model.util.*;

    public class OctantModel {
      public static Model run() {
        Model model = ModelUtil.create("Model");
        ...
        return model;
      }
      public static Model run2(Model model) { ... return model; }   // when run() would be too big
      public static void main(String[] args) { Model model = run(); run2(model); }
    }

A JVM method's bytecode is limited to 64 KB, so, like COMSOL, the statements are split into
``run``, ``run2(Model model)``, ``run3``... of at most ``max_method_bytes`` of source each.
"""

from __future__ import annotations

import re
from pathlib import Path

from .builder import ModelPlan

__all__ = ["DEFAULT_METHOD_BYTES", "java_class_name", "render_java", "write_java"]

#: Source bytes per method before starting the next ``runN`` method (COMSOL uses about 60 KB).
DEFAULT_METHOD_BYTES = 60_000

_JAVA_RESERVED = {
    "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const", "continue",
    "default", "do", "double", "else", "enum", "extends", "final", "finally", "float", "for", "goto", "if",
    "implements", "import", "instanceof", "int", "interface", "long", "native", "new", "package", "private",
    "protected", "public", "return", "short", "static", "strictfp", "super", "switch", "synchronized", "this",
    "throw", "throws", "transient", "try", "void", "volatile", "while", "true", "false", "null", "var", "record",
}


def java_class_name(path_or_name: str | Path) -> str:
    """The class name for a ``.java`` file (its stem); ``ValueError`` if it is not a Java identifier."""
    name = Path(path_or_name).stem if str(path_or_name).endswith(".java") else str(path_or_name)
    if not re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", name) or name in _JAVA_RESERVED:
        raise ValueError(
            f"{name!r} is not a valid Java class name; the file name must be a Java identifier such as OctantModel.java"
        )
    return name


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def render_java(
    plan: ModelPlan,
    class_name: str = "OctantModel",
    *,
    header: str = "",
    max_method_bytes: int = DEFAULT_METHOD_BYTES,
) -> str:
    """The ``.java`` source of ``plan`` (deterministic: the same plan gives the same bytes)."""
    class_name = java_class_name(class_name)
    starts = dict(plan.sections)
    chunks: list[list[str]] = [[]]
    size = 0
    for index, call in enumerate(plan.calls):
        lines = []
        if index in starts:
            lines.append("")
            lines.append(f"    // {_comment(starts[index])}")
        lines.append(f"    {call.java()};")
        text_size = sum(len(line.encode()) + 1 for line in lines)
        if size + text_size > max_method_bytes and chunks[-1]:
            chunks.append([])
            size = 0
        chunks[-1].extend(lines)
        size += text_size

    out: list[str] = []
    out.append("/*")
    out.append(f" * {class_name}.java")
    for line in (header.strip().splitlines() if header.strip() else []):
        out.append(f" * {_comment(line)}".rstrip())
    out.append(" *")
    out.append(f" * Build and solve:  comsol compile {class_name}.java")
    out.append(f" *                   comsol batch -inputfile {class_name}.class -outputfile {class_name}.mph")
    out.append(f" * Solved model:     {class_name}_Model.mph (<outputfile>_<model tag>.mph)")
    if plan.mesh_file or plan.data_file:
        out.append(f" * Results:          {plan.mesh_file}, {plan.data_file}")
    out.append(" */")
    out.append("")
    out.append("import com.comsol.model.*;")
    out.append("import com.comsol.model.util.*;")
    out.append("")
    out.append("/** Model exported by octant. */")
    out.append(f"public class {class_name} {{")
    for k, body in enumerate(chunks):
        out.append("")
        if k == 0:
            out.append("  public static Model run() {")
            out.append('    Model model = ModelUtil.create("Model");')
        else:
            out.append(f"  public static Model run{k + 1}(Model model) {{")
        out.extend(body if body and body[0] else body[1:] if body else [])
        out.append("")
        out.append("    return model;")
        out.append("  }")
    out.append("")
    out.append("  public static void main(String[] args) {")
    out.append("    Model model = run();")
    for k in range(1, len(chunks)):
        out.append(f"    run{k + 1}(model);")
    out.append("  }")
    out.append("")
    out.append("}")
    return "\n".join(out) + "\n"


def write_java(path: str | Path, plan: ModelPlan, *, header: str = "", max_method_bytes: int = DEFAULT_METHOD_BYTES) -> Path:
    """Write ``plan`` to ``path`` (the class is named after the file); return the path."""
    path = Path(path)
    text = render_java(plan, java_class_name(path), header=header, max_method_bytes=max_method_bytes)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
