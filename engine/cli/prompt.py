"""`prompt "TEXT" -o OUT.json`: turn a sentence into a scenario (offline interpreter or an LLM)."""
from __future__ import annotations

import argparse
import sys

COMMAND = "prompt"
HELP = ("turn a sentence into a scenario file via a library script (prints the script, then on stderr the "
        "check findings that still contradict the prompt); exit 0 when a scenario was written")
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help="the prompt, e.g. \"a truck cuts in from the left at night\"")
    parser.add_argument("-o", "--output", required=True, help="scenario JSON file to write")
    parser.add_argument("--llm", choices=("offline", "openai"), default="offline",
                        help="interpreter: the embedded offline one (default) or an OpenAI-compatible endpoint "
                             "(OPENAI_BASE_URL / OPENAI_API_KEY / OPENAI_MODEL)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for the library's choices (default 0)")
    parser.add_argument("--duration", type=float, default=None,
                        help="clip length in seconds, 1 to 60 (default: what the prompt says, e.g. "
                             "'for 10 seconds', else 2.75)")
    parser.add_argument("--fps", type=float, default=12.0, help="frame rate (default 12)")
    parser.add_argument("--base-url", default=None, help="LLM endpoint base URL (overrides OPENAI_BASE_URL)")
    parser.add_argument("--model", default=None, help="LLM model name (overrides OPENAI_MODEL)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="total seconds per LLM request, not per read (default 60); all rounds of a prompt "
                             "together get at most timeout x 3")
    parser.add_argument("--no-check", action="store_true",
                        help="do not check the result against the prompt (no repair, no findings)")


def run(args: argparse.Namespace) -> int:
    from engine.prompting.pipeline import prompt_to_scenario
    from engine.prompting.settings import LLMSettings
    from engine.sandbox.errors import ScriptError
    from engine.sandbox.runner import RunOptions
    from engine.scenario.io import save_scenario

    if args.seed < 0:
        print("error: --seed must be 0 or more", file=sys.stderr)
        return 2
    from engine.prompting.duration import clip_duration

    if args.duration is not None and not 1.0 <= args.duration <= 60.0:
        print(f"error: --duration must be between 1 and 60 seconds (got {args.duration:g})", file=sys.stderr)
        return 2
    duration = args.duration if args.duration is not None else clip_duration(args.text)
    options = RunOptions(seed=args.seed, fps=args.fps, duration=duration, name="prompted", prompt=args.text)
    settings = None
    try:
        if args.llm == "openai":
            settings = LLMSettings.from_env(base_url=args.base_url, model=args.model, timeout_s=args.timeout)
        result = prompt_to_scenario(args.text, args.llm, options, settings, check=not args.no_check)
    except ScriptError as e:
        print(f"error: the script for this prompt could not run:\n{e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:   # LLMError
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        save_scenario(result.scenario, args.output)
    except OSError as e:
        from engine.fileio import write_error_message

        print(f"error: {write_error_message(args.output, e)}", file=sys.stderr)
        return 2
    print(result.script, end="")
    for item in result.not_understood:
        print(f"not understood: {item}", file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    for f in result.findings:
        print(f"finding: {f}", file=sys.stderr)
    seed = "" if result.scenario.seed == args.seed else f" (seed {result.scenario.seed}, derived from {args.seed})"
    verdict = ("" if args.no_check else "; matches the prompt" if result.matches_prompt else
               f"; {len(result.findings)} finding(s) contradict the prompt")
    print(f"wrote {args.output}: {len(result.scenario.agents)} agents{seed}{verdict}", file=sys.stderr)
    return 0
