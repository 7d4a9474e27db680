"""`python main.py export ...` end to end (in process)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from engine.export.xml_schemas import validate_openscenario
from engine.paths import DEMO_SCENARIO
from main import main


def test_export_openscenario_cli(tmp_path, capsys):
    assert main(["export", str(DEMO_SCENARIO), "-o", str(tmp_path), "--format", "openscenario", "--osc-version", "1"]) == 0
    out = capsys.readouterr().out
    xosc = tmp_path / "demo_intersection.xosc"
    assert "schema-valid" in out and xosc.is_file() and (tmp_path / "demo_intersection.xodr").is_file()
    assert validate_openscenario(ET.parse(xosc)) == []


def test_export_nuscenes_cli_twice_adds_a_scene(tmp_path, capsys):
    args = ["export", str(DEMO_SCENARIO), "-o", str(tmp_path), "--size", "64x48", "--frames", "7", "--no-videos",
            "--no-guidance", "-q"]
    assert main(args) == 0
    assert main(args + ["--scene-name", "second"]) == 0
    out = capsys.readouterr().out
    assert "2 scene(s)" in out
    names = [s["name"] for s in json.loads((tmp_path / "v1.0-cornercase" / "scene.json").read_text())]
    assert names == ["demo_intersection", "second"]


def test_export_cli_reports_bad_input(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format_version": 1, "agents": 3}')
    assert main(["export", str(bad), "-o", str(tmp_path / "out")]) == 2
    assert "bad.json" in capsys.readouterr().err
    assert main(["export", str(DEMO_SCENARIO), "-o", str(tmp_path / "o"), "--backend", "diffusion", "-q"]) == 1
    err = capsys.readouterr().err
    assert "export failed, the dataset is unchanged" in err
    assert not (tmp_path / "o" / "v1.0-cornercase").exists()


def test_export_nuscenes_cli_progress_bars_per_stage(tmp_path, capsys):
    """Without -q each stage (generate, write, merge) draws its own bar on stderr; results stay on stdout."""
    args = ["export", str(DEMO_SCENARIO), "-o", str(tmp_path), "--size", "64x48", "--frames", "7", "--no-videos",
            "--no-guidance"]
    assert main(args) == 0
    text = capsys.readouterr()
    lines = [seg for seg in text.err.replace("\r", "\n").splitlines() if seg.strip()]
    for stage, total in (("generate", 7), ("write", 7), ("merge", 1)):
        assert any(seg.startswith(f"{stage}:") and f"{total}/{total}" in seg for seg in lines), (stage, lines[-6:])
    assert "added to" in text.out and "generate:" not in text.out
    assert main(args + ["-q", "--scene-name", "quiet"]) == 0
    assert capsys.readouterr().err == ""
