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
``build_variant_scenario(spec, variant) -> Scenario``
    The scenario of one variant, without exporting it (`materialize`).
"""
from engine.batch.materialize import VariantError, build_variant_scenario
from engine.batch.records import BatchState, VariantRecord
from engine.batch.runner import BatchBusyError, BatchOptions, BatchProgress, BatchReport, run_batch
from engine.batch.spec import BatchSpec, BatchSpecError, ExportSpec, load_spec, parse_spec
from engine.batch.variants import Variant, expand_variants

__all__ = [
    "BatchBusyError", "BatchOptions", "BatchProgress", "BatchReport", "BatchSpec", "BatchSpecError", "BatchState",
    "ExportSpec", "Variant", "VariantError", "VariantRecord", "build_variant_scenario", "expand_variants",
    "load_spec", "parse_spec", "run_batch",
]
