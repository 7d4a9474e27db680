"""A batch run by the local process pool writes, variant by variant, what the inline executor writes:
the same camera images (byte for byte), the same labels (annotations, visibility, attributes, poses,
calibration), the same map masks, scene files and OpenSCENARIO; a failing variant is recorded and
costs the others nothing. Tokens and capture timestamps are fresh per export, so scenes are compared
with them replaced by their order.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from engine.batch.runner import BatchOptions, _thread_settings, run_batch
from engine.batch.spec import parse_spec
from engine.export.nuscenes_dataset import check_tables, load_tables

TINY = {"formats": ["nuscenes", "openscenario"], "size": [64, 36], "frames": 7, "videos": False, "guidance": False}


def _without_header(xml: bytes) -> bytes:
    """OpenSCENARIO / OpenDRIVE text without the export date (the FileHeader's / header's `date`)."""
    stripped, count = re.subn(rb'(<(?:FileHeader|header)\b[^>]*?)\sdate="[^"]*"', rb"\1", xml, count=1)
    assert count == 1, "no dated header"
    return stripped


def _scene_dump(root: Path, version: str, variant: str) -> dict[str, Any]:
    """Everything the dataset at `root` holds for the scene of `variant`, tokens and timestamps replaced
    by order: per camera frame (channel, time order) the image bytes, key-frame flag, ego pose and
    calibration; per key frame the annotations (category, box, visibility, attributes, lidar points)."""
    manifest = json.loads((root / "manifest.json").read_text())
    entry = next(s for s in manifest["scenes"] if s["variant"] == variant)
    t = load_tables(root, version)
    by_token = {name: {r["token"]: r for r in t[name]} for name in t if t[name] and "token" in t[name][0]}
    scene = by_token["scene"][entry["scene_token"]]
    samples = sorted((s for s in t["sample"] if s["scene_token"] == scene["token"]), key=lambda s: s["timestamp"])
    sample_index = {s["token"]: i for i, s in enumerate(samples)}
    t0 = samples[0]["timestamp"]
    frames = []
    for sd in t["sample_data"]:
        if sd["sample_token"] not in sample_index:
            continue
        cal = by_token["calibrated_sensor"][sd["calibrated_sensor_token"]]
        pose = by_token["ego_pose"][sd["ego_pose_token"]]
        frames.append({
            "channel": by_token["sensor"][cal["sensor_token"]]["channel"], "dt": sd["timestamp"] - t0,
            "sample": sample_index[sd["sample_token"]], "key": sd["is_key_frame"], "size": (sd["width"], sd["height"]),
            "image": (root / sd["filename"]).read_bytes(), "ego": (pose["translation"], pose["rotation"]),
            "calibration": (cal["translation"], cal["rotation"], cal["camera_intrinsic"])})
    frames.sort(key=lambda f: (f["channel"], f["dt"]))
    annotations = []
    for a in t["sample_annotation"]:
        if a["sample_token"] not in sample_index:
            continue
        inst = by_token["instance"][a["instance_token"]]
        annotations.append({
            "sample": sample_index[a["sample_token"]], "category": by_token["category"][inst["category_token"]]["name"],
            "box": (a["translation"], a["size"], a["rotation"]), "visibility": a["visibility_token"],
            "attributes": sorted(by_token["attribute"][k]["name"] for k in a["attribute_tokens"]),
            "points": (a.get("num_lidar_pts"), a.get("num_radar_pts")), "track_length": inst["nbr_annotations"]})
    annotations.sort(key=lambda a: (a["sample"], a["category"], a["box"]))
    log = by_token["log"][scene["log_token"]]
    map_png = [(root / m["filename"]).read_bytes() for m in t["map"] if log["token"] in m["log_tokens"]]
    folder = root / entry["folder"]
    scene_manifest = json.loads((folder / "manifest.json").read_text())
    kept = {k: scene_manifest[k] for k in ("scenario", "seed", "backend", "image_size", "cameras", "fps", "num_frames",
                                           "times", "key_frames", "visibility", "files")}
    kept["instances"] = sorted(json.dumps(v, sort_keys=True) for v in scene_manifest["instances"].values())
    return {"scene": (scene["name"], scene["description"], scene["nbr_samples"]), "frames": frames,
            "annotations": annotations, "map": map_png, "manifest": kept,
            "scenario.json": (folder / "scenario.json").read_bytes(),
            "xosc": _without_header((folder / "scenario.xosc").read_bytes()),
            "entry": {k: entry[k] for k in ("scenario", "backend", "seed", "frames", "variant", "variant_key", "params")}}


def test_pool_writes_what_the_inline_run_writes_and_a_failure_costs_nothing(tmp_path):
    spec = parse_spec({"name": "same", "base": "demo", "sweep": {"agent.car_1.delay": [0.0, "soon", 0.4]},
                       "seeds": {"start": 3, "count": 1}, "export": TINY})
    pool = run_batch(spec, tmp_path / "pool", BatchOptions(executor="local", workers=2))
    inline = run_batch(spec, tmp_path / "inline", BatchOptions(executor="inline"))
    for report in (pool, inline):
        assert (report.done, report.failed) == (2, 1)
        assert "agent.car_1.delay: expected a finite number" in (report.records["v0001"].error or "")
    assert {r.worker.split(":")[1] for r in pool.records.values()}.isdisjoint({str(os.getpid())})  # ran in workers
    version = spec.export.version
    for out in ("pool", "inline"):
        root = tmp_path / out / "dataset"
        assert check_tables(load_tables(root, version), root) == []
    for v in ("v0000", "v0002"):
        a = _scene_dump(tmp_path / "pool" / "dataset", version, v)
        b = _scene_dump(tmp_path / "inline" / "dataset", version, v)
        assert len(a["frames"]) == 6 * 7 and a["annotations"]      # 6 cameras x 7 frames, labelled key frames
        for key in a:
            assert a[key] == b[key], f"{v}: {key} differs between the pool and the inline run"
        for ext in ("xosc", "xodr"):
            assert _without_header((tmp_path / "pool" / "openscenario" / f"{v}.{ext}").read_bytes()) \
                == _without_header((tmp_path / "inline" / "openscenario" / f"{v}.{ext}").read_bytes())
    assert not (tmp_path / "pool" / "openscenario" / "v0001.xosc").exists()
    assert "Traceback" in (tmp_path / "pool" / ".batch" / "logs" / "v0001.log").read_text()


def test_workers_share_the_cores_unless_the_user_chose(monkeypatch):
    """One library thread per worker when the workers fill the cores, and llvmpipe then rasterises in
    the drawing thread (no rasteriser thread to hand tiles to); a value the user set is left alone."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    assert _thread_settings(1) == {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                                   "LP_NUM_THREADS": "0"}
    assert _thread_settings(4)["LP_NUM_THREADS"] == "4"
    monkeypatch.setenv("LP_NUM_THREADS", "3")
    assert "LP_NUM_THREADS" not in _thread_settings(1)


DRIVER = """
import sys, tempfile
from pathlib import Path
from engine.batch.runner import BatchOptions, run_batch
from engine.batch.spec import parse_spec

def main():
    spec = parse_spec({"name": "light", "base": "demo", "sweep": {"agent.car_1.delay": [0.0, 0.3]},
                       "export": %r})
    with tempfile.TemporaryDirectory() as td:
        report = run_batch(spec, Path(td), BatchOptions(executor="local", workers=2))
    print(report.done, sorted(m for m in ("engine.export.pipeline", "engine.render.guidance", "moderngl") if m in sys.modules))

if __name__ == "__main__":
    main()
"""


def test_the_pool_driver_merges_without_loading_the_renderer(tmp_path):
    """The driver of a local pool only merges what its workers staged: it never imports the export
    pipeline, the renderer or GL (those load in the pool's fork server and its workers)."""
    import subprocess
    import sys

    script = tmp_path / "driver.py"
    script.write_text(DRIVER % (dict(TINY, frames=2),))
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    r = subprocess.run([sys.executable, str(script)], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split("\n")[-2] == "2 []"


def test_the_base_scenario_is_read_once_while_its_file_is_unchanged(tmp_path):
    """Every variant of a batch starts from the same base: it is loaded once per process, and loaded
    again when the file changes."""
    from dataclasses import replace

    from engine.batch.materialize import build_variant_scenario
    from engine.batch.variants import expand_variants
    from engine.paths import DEMO_SCENARIO
    from engine.scenario.io import load_scenario, save_scenario

    base = tmp_path / "base.json"
    save_scenario(load_scenario(DEMO_SCENARIO), base)
    spec = parse_spec({"name": "b", "base": str(base), "sweep": {"environment.weather": ["clear", "fog"]},
                       "export": TINY})
    a, b = (build_variant_scenario(spec, v) for v in expand_variants(spec))
    assert a.map is b.map and a.environment.weather != b.environment.weather
    changed = load_scenario(base)
    save_scenario(replace(changed, description=changed.description + " (edited)"), base)
    c = build_variant_scenario(spec, expand_variants(spec)[0])
    assert c.description.endswith(" (edited)") and c.map is not a.map


def test_only_the_fork_server_skips_interpreter_teardown(tmp_path, monkeypatch):
    """`worker_preload` makes the process exit with os._exit (the fork server, which would otherwise
    hold its driver's output pipes open while it tears down) only when the driver flagged it, and it
    removes the flag so that forked workers never see it; starting the server leaves the driver's
    environment as it was."""
    import subprocess
    import sys

    from engine.batch.runner import FORK_SERVER_VAR, start_pool_server

    root = Path(__file__).resolve().parents[3]
    probe = ("import os, sys\nimport engine.batch.worker_preload\n"
             f"print(os.environ.get({FORK_SERVER_VAR!r}))\nsys.stdout.flush()\nsys.exit(3)\n")
    codes = {}
    for flag in (None, "1"):
        env = {k: v for k, v in os.environ.items() if k != FORK_SERVER_VAR}
        env["PYTHONPATH"] = str(root)
        if flag is not None:
            env[FORK_SERVER_VAR] = flag
        r = subprocess.run([sys.executable, "-c", probe], cwd=root, env=env, capture_output=True, text=True, timeout=300)
        codes[flag] = (r.returncode, r.stdout.strip())
    assert codes == {None: (3, "None"), "1": (0, "None")}
    monkeypatch.delenv(FORK_SERVER_VAR, raising=False)
    start_pool_server(2)
    assert FORK_SERVER_VAR not in os.environ
