"""`batch SPEC -o DIR`: run every variant of a batch spec, resumably, locally or on a Ray cluster."""
from __future__ import annotations

import argparse
import sys

COMMAND = "batch"
HELP = "run a batch of variants (seeds, sweeps, prompts) from a JSON spec; resumable; --ray ADDRESS for Ray"
ORDER = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="batch spec JSON file (see resources/batch_examples/)")
    parser.add_argument("-o", "--out", required=True, help="batch output folder (created; reused to resume)")
    ex = parser.add_mutually_exclusive_group()
    ex.add_argument("--ray", metavar="ADDRESS", default=None,
                    help="run the variants as Ray tasks: 'local' starts a local Ray, or a cluster address / 'auto'")
    ex.add_argument("--inline", action="store_true", help="run in this process, one variant after another")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the CPU count)")
    parser.add_argument("--stop-after", type=int, default=None, metavar="N", help="run at most N variants this time")
    parser.add_argument("--no-retry-failed", action="store_true", help="skip variants that failed in an earlier run")
    parser.add_argument("--list", action="store_true", help="list the variants and their status, run nothing")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from engine.batch.records import BatchState, VariantStatus
    from engine.batch.runner import BatchOptions, BatchProgress, Executor, run_batch
    from engine.batch.spec import BatchSpecError, load_spec
    from engine.batch.variants import expand_variants
    from engine.cli._progress import CountBar

    if not (args.ray or args.inline or args.list):
        from engine.batch.runner import start_pool_server

        start_pool_server(args.workers)    # the pool's fork server imports while this process reads the spec
    try:
        spec = load_spec(args.spec)
        variants = expand_variants(spec)
        executor = Executor.RAY if args.ray else (Executor.INLINE if args.inline else Executor.LOCAL)
        options = BatchOptions(executor=executor, workers=args.workers, ray_address=args.ray or "local",
                               stop_after=args.stop_after, retry_failed=not args.no_retry_failed)
    except (BatchSpecError, ValueError) as e:
        print(str(e), file=sys.stderr)
        return 2
    if spec.base is not None and spec.base != "demo":   # a malformed base scenario is bad input, not N failed variants
        from engine.scenario.errors import ScenarioFormatError
        from engine.scenario.io import load_scenario

        try:
            load_scenario(spec.base)
        except ScenarioFormatError as e:
            print(f"{args.spec}: base: {e}", file=sys.stderr)
            return 2
    if args.list:
        state = BatchState(args.out)
        for v in variants:
            print(f"{state.status_of(v):9s} {v.label}")
        return 0
    if options.executor == Executor.RAY:
        from engine.batch.ray_backend import RayNotInstalledError, require_ray

        try:
            require_ray("batch --ray")
        except RayNotInstalledError as e:   # the optional [ray] extra is missing: bad input, one line
            print(str(e), file=sys.stderr)
            return 2
    bar: CountBar | None = None

    def progress(p: BatchProgress) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            bar = CountBar(p.to_run, spec.name, unit="variant")
        last = p.last
        msg = "" if last is None else f"{last.id} {last.status}" + (f": {last.error}" if last.error else "")
        bar.update(p.finished, f"{p.failed} failed, {p.skipped} already done  |  {msg}")

    if not args.quiet:
        print(f"{spec.name}: {len(variants)} variant(s) -> {args.out} ({options.executor})", file=sys.stderr)
    try:
        report = run_batch(spec, args.out, options, progress)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print("interrupted: finished variants are recorded; run the same command again to resume", file=sys.stderr)
        return 130
    except OSError as e:   # the batch folder cannot be written (a file in the way, read-only, disk full)
        if bar is not None:
            bar.close()
        from engine.fileio import write_error_message

        print(f"batch: {write_error_message(args.out, e)}", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - a failure of the run itself (not of a variant) becomes one line for the user
        if bar is not None:
            bar.close()
        import logging

        logging.getLogger(__name__).debug("the batch run failed", exc_info=True)
        print(f"batch failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if bar is not None:
        bar.close()
    print(f"{report.done} exported, {report.filtered} filtered out, {report.failed} failed, "
          f"{report.skipped} already done, {report.pending} still pending; dataset: {report.dataset_dir}")
    for rec in report.records.values():
        if rec.status == VariantStatus.FAILED:
            print(f"  {rec.id} failed: {rec.error}", file=sys.stderr)
    return 0 if report.ok else 1
