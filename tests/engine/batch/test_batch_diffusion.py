"""A batch variant through the diffusion backend (a seeded tiny random-weight model on the CPU)."""
from __future__ import annotations

import json

from engine.batch.runner import BatchOptions, run_batch
from engine.batch.spec import parse_spec


def test_diffusion_backend_variant_records_its_model(tmp_path):
    """A batch through the diffusion backend (a seeded tiny random-weight model on the CPU)."""
    from engine.worldmodel.diffusion.configs import write_pipeline_folder

    model = write_pipeline_folder(tmp_path / "tiny_model", kind="tiny")
    spec = parse_spec({"name": "d", "base": "demo", "seeds": [5],
                       "export": {"formats": ["nuscenes"], "size": [64, 32], "frames": 1, "backend": "diffusion",
                                  "model_dir": str(model), "steps": 2, "device": "cpu", "videos": False,
                                  "guidance": False}})
    assert not spec.export.needs_gpu  # forced onto the CPU: a Ray task would not ask for a GPU
    report = run_batch(spec, tmp_path / "b", BatchOptions(executor="inline"))
    assert report.done == 1, report.records["v0000"].error
    folder = tmp_path / "b" / report.records["v0000"].files["scene_folder"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["backend"] == "diffusion" and manifest["seed"] == 5
    assert manifest["generation"]["steps"] == 2
