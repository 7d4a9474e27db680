"""`export SCENARIO -o DIR --format nuscenes|openscenario`: write a scenario as a nuScenes scene or as OpenSCENARIO."""
from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False       # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from engine.export.pipeline import ExportProgress
    from engine.scenario.model import Scenario

COMMAND = "export"
HELP = "export a scenario: generate its clip and add it as a scene to a nuScenes-format dataset, or write OpenSCENARIO"
ORDER = 40


def _size(text: str) -> tuple[int, int]:
    from engine.config import parse_size

    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from engine.export.nuscenes_schema import DEFAULT_VERSION

    parser.add_argument("scenario", help="scenario JSON file")
    parser.add_argument("-o", "--out", required=True, help="output folder (nuScenes dataroot, or where the .xosc goes)")
    parser.add_argument("--format", choices=("nuscenes", "openscenario"), default="nuscenes")
    g = parser.add_argument_group("generation (nuscenes)")
    g.add_argument("--backend", choices=("naive", "diffusion", "cosmos", "magicdrive"), default="naive",
                   help="world model: naive (default), diffusion, cosmos or magicdrive")
    g.add_argument("--model", dest="model_dir", default=None, help="local model folder (diffusion backend)")
    g.add_argument("--size", type=_size, default=(448, 256), help="camera image size WIDTHxHEIGHT (default 448x256)")
    g.add_argument("--frames", type=int, default=None, help="export only the first N frames")
    g.add_argument("--seed", type=int, default=None, help="generation seed (default: the scenario's)")
    g.add_argument("--steps", type=int, default=20, help="denoising steps (diffusion)")
    g.add_argument("--guidance-scale", type=float, default=4.0)
    g.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    n = parser.add_argument_group("nuScenes tables")
    n.add_argument("--version", default=DEFAULT_VERSION, help=f"table folder name (default {DEFAULT_VERSION})")
    n.add_argument("--scene-name", default=None, help="scene name (default: the scenario name)")
    n.add_argument("--jpeg-quality", type=int, default=90)
    n.add_argument("--lidar-stub", action="store_true",
                   help="also write empty LIDAR_TOP sample data (0 points) for converters that need it")
    n.add_argument("--no-videos", action="store_true", help="skip the per-camera and panorama MP4s")
    n.add_argument("--no-guidance", action="store_true", help="skip saving the guidance maps")
    o = parser.add_argument_group("OpenSCENARIO")
    o.add_argument("--osc-version", type=int, choices=(0, 1, 2, 3), default=2, help="OpenSCENARIO 1.x minor version")
    o.add_argument("--no-road", action="store_true", help="do not write the OpenDRIVE road")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    from engine.scenario.errors import ScenarioFormatError
    from engine.scenario.io import load_scenario

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioFormatError as e:
        print(str(e), file=sys.stderr)
        return 2
    if args.format == "openscenario":
        return _openscenario(scenario, args)
    return _nuscenes(scenario, args)


def _openscenario(scenario: Scenario, args: argparse.Namespace) -> int:
    from engine.export.openscenario import OpenScenarioExportError, export_openscenario
    from engine.export.xml_schemas import SchemaNotFoundError, SchemaValidationError

    try:
        res = export_openscenario(scenario, args.out, minor_version=args.osc_version, write_road=not args.no_road)
    except (OpenScenarioExportError, SchemaValidationError, SchemaNotFoundError) as e:
        print(f"{args.scenario}: {e}", file=sys.stderr)
        return 1
    except OSError as e:   # an unwritable output (a file in the way, a read-only folder, a full disk): bad output path
        from engine.fileio import write_error_message

        print(f"export: {write_error_message(args.out, e)}", file=sys.stderr)
        return 2
    print(f"wrote {res.xosc_path} (OpenSCENARIO 1.{res.minor_version}, schema-valid)")
    print(f"road: {res.xodr_path if res.xodr_path else '-'} ({res.road_note})")
    return 0


def _nuscenes(scenario: Scenario, args: argparse.Namespace) -> int:
    from engine.cli._progress import StageBars
    from engine.config import ExportConfig, GenerationConfig, error_message
    from engine.export.pipeline import export_nuscenes

    try:
        config = ExportConfig(
            generation=GenerationConfig(backend=args.backend, model_dir=args.model_dir, steps=args.steps,
                                        guidance_scale=args.guidance_scale, seed=args.seed, device=args.device,
                                        size=args.size, frames=args.frames),
            version=args.version, jpeg_quality=args.jpeg_quality, scene_name=args.scene_name,
            lidar_stub=args.lidar_stub, videos=not args.no_videos, guidance=not args.no_guidance)
        settings = config.settings()
    except ValueError as e:
        print(f"export: {error_message(e)}", file=sys.stderr)
        return 2
    bars = StageBars(enabled=not args.quiet)

    def progress(p: ExportProgress) -> None:
        bars.update(p.stage, p.done, p.total, p.message)

    from engine.export.nuscenes_dataset import NuScenesDatasetError
    from engine.sources.errors import SceneSourceError

    try:
        res = export_nuscenes(scenario, args.out, settings, progress)
    except SceneSourceError as e:   # the real scene the scenario edits cannot be read: bad input
        bars.close()
        print(f"{args.scenario}: {e}; the dataset is unchanged", file=sys.stderr)
        return 2
    except NuScenesDatasetError as e:   # -o names a dataset whose tables are malformed: bad input
        bars.close()
        print(f"export: {e}; the dataset is unchanged", file=sys.stderr)
        return 2
    except OSError as e:   # an unwritable output (a file in the way, a read-only folder, a full disk)
        bars.close()
        from engine.fileio import write_error_message

        print(f"export: {write_error_message(args.out, e)}; the dataset is unchanged", file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - any failure becomes one line for the user; the dataset is left as it was
        bars.close()
        import logging

        logging.getLogger(__name__).debug("export of %s failed", args.scenario, exc_info=True)
        print(f"{args.scenario}: export failed, the dataset is unchanged: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    bars.close()
    total = sum(res.timings.values())
    print(f"scene '{res.scene_name}' ({res.num_frames} frames x 6 cameras) added to {res.dataroot} "
          f"[{res.version}, {res.num_scenes} scene(s)] in {total:.1f} s")
    print(f"load it with NuScenes(version={res.version!r}, dataroot={str(res.dataroot)!r}); "
          f"extras in {res.scene_dir}")
    return 0
