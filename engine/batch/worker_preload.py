"""Imported once by the batch pool's fork server (`runner._pool_context`), before it forks the workers.

A worker forked from the server starts with these modules (and the libraries they pull in: numpy,
OpenCV, scenariogeneration, nuscenes-devkit, moderngl...) already imported, instead of importing
them again in every spawned process: the import time is paid once per batch run, not once per
worker. Nothing here may start a thread or create a GL context (a forked child would inherit a
broken copy); GL contexts are created in the workers, on their first variant.
"""
from __future__ import annotations

import importlib

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


_preload()
