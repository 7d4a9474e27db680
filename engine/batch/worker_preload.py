"""Imported once by the batch pool's fork server (`runner._pool_context`), before it forks the workers.

A worker forked from the server starts with these modules (and the libraries they pull in: numpy,
OpenCV, scenariogeneration, nuscenes-devkit, moderngl...) already imported, instead of importing
them again in every spawned process: the import time is paid once per batch run, not once per
worker. Nothing here may start a thread or create a GL context (a forked child would inherit a
broken copy); GL contexts are created in the workers, on their first variant.

The server ends when the process that started it does; it holds that process's stdout and stderr
(inherited), so a reader of those pipes (`main.py batch ... | tee log`, a benchmark, CI) waits for
it. Tearing down an interpreter with all these modules takes about half a second, so the server
leaves with `os._exit` instead (it has nothing to flush or save).
"""
from __future__ import annotations

import atexit
import importlib
import os

MODULES = (
    "engine.batch.job", "engine.batch.materialize", "engine.checks", "engine.conditions",
    "engine.conditions.rendered", "engine.export.clip_source", "engine.export.opendrive",
    "engine.export.openscenario", "engine.export.pipeline", "engine.render.guidance", "engine.scenario.io",
    "engine.worldmodel", "engine.worldmodel.naive.backend", "engine.worldmodel.scenario_conditions",
    "moderngl",      # the Python module only: no GL context is created here
)


def _preload() -> None:
    for name in MODULES:
        importlib.import_module(name)
    # the ASAM schemas every OpenSCENARIO export validates against (loaded once, cached per process)
    from engine.export.openscenario import DEFAULT_MINOR_VERSION
    from engine.export.xml_schemas import opendrive_schema, openscenario_schema

    openscenario_schema(DEFAULT_MINOR_VERSION)
    opendrive_schema()
    # only in the fork server (the variable is removed, so the workers it forks never see it; they end
    # with os._exit after their task anyway): registered last, so it runs first at exit
    from engine.batch.runner import FORK_SERVER_VAR

    if os.environ.pop(FORK_SERVER_VAR, None) == "1":
        atexit.register(os._exit, 0)


_preload()
