"""The child process that talks to COMSOL: ``python -m solvers.comsol.worker REQUEST.json``.

Only this process imports mph (which replaces ``sys.exit`` and ``sys.excepthook`` and allows one
client per process). The parent (:mod:`solvers.comsol.client`) writes a request file and reads the
response file; the results themselves are files COMSOL exports (mesh ``.mphtxt`` + Data export).

Request (JSON)::

    {"plan": <builder.plan_to_json>, "executable": "/usr/local/comsol62/multiphysics/bin/comsol",
     "version_text": "COMSOL Multiphysics 6.2.0.290", "cores": 2, "response": "/tmp/.../response.json"}

Steps: start ``comsol mphserver`` and read its port (:class:`~solvers.comsol.server.ComsolServer`),
connect ``mph.Client(port=...)``, create a model, replay the plan on ``model.java`` (build, mesh,
solve, export; each section timed), disconnect, stop the server. The response says ``ok`` or gives
an error ``kind`` -- ``licence`` and ``server`` are worth retrying, ``client``/``model`` are not --
with the message and the COMSOL server output.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["main", "run", "to_java"]

log = logging.getLogger(__name__)


def to_java(value: Any) -> Any:
    """Convert a plan argument for JPype with an explicit Java type, as mph's ``node.cast`` does.

    Explicit types matter: COMSOL overloads ``set(String, int)``, ``set(String, boolean)``,
    ``set(String, double)``..., and JPype finds a bare Python ``int`` ambiguous between ``int`` and
    ``boolean``. Tuples become typed Java arrays.
    """
    import jpype

    from .api_table import java_kind

    kind = java_kind(value)
    if kind == "bool":
        return jpype.JBoolean(value)
    if kind == "int":
        return jpype.JInt(value)
    if kind == "double":
        return jpype.JDouble(value)
    if kind == "str":
        return jpype.JString(value)
    if kind == "str[]":
        return jpype.JArray(jpype.JString)(list(value))
    if kind == "int[]":
        return jpype.JArray(jpype.JInt)(list(value))
    if kind == "double[]":
        return jpype.JArray(jpype.JDouble)([float(v) for v in value])
    if kind == "str[][]":
        return jpype.JArray(jpype.JString, 2)([list(row) for row in value])
    raise ValueError(f"cannot convert {value!r} to a Java argument")


def _respond(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    tmp.replace(path)


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Do the work of one request; return the response payload (never raises)."""
    from .builder import apply_plan, plan_from_json
    from .discovery import ComsolInstall, parse_version
    from .server import ComsolServer, LicenceError, ServerStartError, is_licence_problem

    timings: dict[str, float] = {}
    server = None
    client = None
    section = {"name": "start", "t0": time.perf_counter()}

    def on_section(title: str) -> None:
        now = time.perf_counter()
        timings[section["name"]] = timings.get(section["name"], 0.0) + now - section["t0"]
        section.update(name=title.split(":")[0].strip().lower(), t0=now)

    try:
        plan = plan_from_json(request["plan"])
        name, major, minor, patch, build = parse_version(request["version_text"])
        install = ComsolInstall(
            executable=Path(request["executable"]), root=Path(request.get("root", ".")), name=name, major=major,
            minor=minor, patch=patch, build=build, version=request["version_text"], java_api=True,
        )
        cores = request.get("cores")
        try:
            server = ComsolServer.start(install, cores=cores, port=0, timeout=float(request.get("server_timeout", 180)))
        except LicenceError as exc:
            return {"ok": False, "kind": "licence", "message": str(exc), "log": exc.log}
        except ServerStartError as exc:
            return {"ok": False, "kind": "server", "message": str(exc), "log": exc.log}
        on_section("connect")
        try:
            import mph  # only ever imported in this child process
        except ImportError:
            return {"ok": False, "kind": "client", "message": "mph is not installed in the worker's Python: pip install mph",
                    "log": server.log_text}
        try:
            client = mph.Client(cores=cores, version=install.name, port=server.port)
        except Exception as exc:  # mph raises RuntimeError/LookupError; JPype raises Java exceptions
            text = f"{type(exc).__name__}: {exc}"
            kind = "licence" if is_licence_problem(text) else "client"
            return {"ok": False, "kind": kind, "message": f"mph could not connect to the COMSOL server on port {server.port}: {text}",
                    "log": server.log_text}
        model = client.create("octant")
        on_section("build")
        try:
            apply_plan(plan, model.java, convert=to_java, on_section=on_section)
        except Exception as exc:
            text = str(exc)
            kind = "licence" if is_licence_problem(text) else "model"
            return {"ok": False, "kind": kind, "message": text, "log": server.log_text, "timings_s": timings}
        on_section("done")
        missing = [f for f in (plan.mesh_file, plan.data_file) if not Path(f).is_file()]
        if missing:
            return {"ok": False, "kind": "model", "message": f"COMSOL finished but did not write {', '.join(missing)}",
                    "log": server.log_text, "timings_s": timings}
        try:  # informational only: a failure here must not lose a finished solve
            version, used_cores = str(client.version), int(client.cores)
        except Exception:  # noqa: BLE001
            version, used_cores = install.name, int(cores or 0)
        return {
            "ok": True,
            "comsol_version": version,
            "cores": used_cores,
            "timings_s": timings,
            "mesh_file": plan.mesh_file,
            "data_file": plan.data_file,
            "log": server.log_text,
        }
    except Exception as exc:  # anything unexpected: report it, with the traceback
        return {"ok": False, "kind": "worker", "message": f"{type(exc).__name__}: {exc}",
                "log": traceback.format_exc() + ("\n" + server.log_text if server else "")}
    finally:
        if client is not None:
            try:
                client.disconnect()
            except Exception:  # noqa: BLE001 - shutting down; the response is what matters
                log.debug("client disconnect failed", exc_info=True)
        if server is not None:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point: read the request, write the response, exit without waiting for the JVM."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m solvers.comsol.worker REQUEST.json", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    request_path = Path(argv[0])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    response_path = Path(request.get("response") or request_path.with_name("response.json"))
    payload = run(request)
    _respond(response_path, payload)
    return 0 if payload.get("ok") else 1


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # a JVM started by JPype can keep a normal interpreter exit waiting
