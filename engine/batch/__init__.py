"""Batch runs: many variants of a scenario (seeds, sweeps over function arguments, prompts) exported headless.

Public API
----------
``load_spec(path) -> BatchSpec`` / ``parse_spec(doc, base_dir)``
    Read and validate a batch spec (format in `spec`); BatchSpecError lists every problem.
``expand_variants(spec) -> list[Variant]``
    The variants with stable ids (``v0007``) and keys (what makes a finished variant skippable).
``run_batch(spec, out_dir, BatchOptions(executor="local" | "inline" | "ray", ray_address="local"),
           progress=None) -> BatchReport``
    Run the pending variants; resumable; one failing variant never spoils the others (`runner`).
``start_pool_server(workers=None)``
    Start the local pool's fork server ahead of `run_batch`, so that its imports overlap the caller's.
``build_variant_scenario(spec, variant) -> Scenario``
    The scenario of one variant, without exporting it (`materialize`).
Closed sets are StrEnums whose values are the strings of the spec and the batch folder's files:
`Executor` (inline | local | ray), `VariantStatus` (done | filtered | failed | pending),
`VariantSource` (base | script | prompt), `Interpreter`, `SweepKind`, `ExportFormat`.
"""
from engine.batch.materialize import VariantError, build_variant_scenario
from engine.batch.records import BatchState, VariantRecord, VariantStatus
from engine.batch.runner import (
    BatchBusyError, BatchOptions, BatchProgress, BatchReport, Executor, run_batch, start_pool_server,
)
from engine.batch.spec import (
    BatchSpec, BatchSpecError, ExportFormat, ExportSpec, Interpreter, SweepKind, load_spec, parse_spec,
)
from engine.batch.variants import Variant, VariantSource, expand_variants

__all__ = [
    "BatchBusyError", "BatchOptions", "BatchProgress", "BatchReport", "BatchSpec", "BatchSpecError", "BatchState",
    "Executor", "ExportFormat", "ExportSpec", "Interpreter", "SweepKind", "Variant", "VariantError",
    "VariantRecord", "VariantSource", "VariantStatus", "build_variant_scenario", "expand_variants",
    "load_spec", "parse_spec", "run_batch", "start_pool_server",
]
