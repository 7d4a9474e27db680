"""Output writing: unwritable outputs are exit 2 with the path and the reason; staging folders of
killed runs are removed by the next run; a generated clip is committed by ONE directory rename."""
from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine.video.clip_output as co
from engine.fileio import StagingDir, clean_stale_staging, write_error_message
from engine.rig import PANORAMA_ORDER
from engine.video import write_clip_outputs
from engine.worldmodel import GeneratedClip

ROOT = Path(__file__).resolve().parents[3]


def _clip(value: int = 50, t: int = 2) -> GeneratedClip:
    frames = np.full((t, 6, 16, 24, 3), value, np.uint8)
    return GeneratedClip(frames, PANORAMA_ORDER, 12.0, "naive", 1)


def _kill_holding_staging(parent: Path, prefix: str) -> None:
    """A child process creates a staging folder and is killed with SIGKILL while holding it."""
    code = ("import os, signal\nfrom engine.fileio import StagingDir\n"
            f"s = StagingDir.create({str(parent)!r}, {prefix!r})\n"
            "(s.path / 'half.mp4').write_bytes(b'x')\nos.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=60)


# ---------------------------------------------------------------- unwritable outputs, exit 2
def test_script_output_to_root_is_exit_2_with_path_and_reason(tmp_path, capsys):
    from main import main

    src = tmp_path / "s.py"
    src.write_text("forward('car')\n")
    assert main(["script", str(src), "-o", "/"]) == 2
    err = capsys.readouterr().err
    assert "cannot write /: it is a folder, not a file" in err and "Traceback" not in err


def test_script_output_on_a_full_disk(tmp_path, capsys, monkeypatch):
    from main import main
    import engine.fileio as fio

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fio.os, "fsync", full)
    src = tmp_path / "s.py"
    src.write_text("forward('car')\n")
    out = tmp_path / "o.json"
    assert main(["script", str(src), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"cannot write {out}: the disk is full" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [src]                 # no temporary file left


@pytest.mark.parametrize("code,words", [(errno.EROFS, "read-only"), (errno.EACCES, "permission denied"),
                                        (errno.ENOTDIR, "not a folder")])
def test_write_error_messages(code, words):
    msg = write_error_message("/x/y.json", OSError(code, os.strerror(code)))
    assert msg.startswith("cannot write /x/y.json: ") and words in msg


def test_clip_outputs_on_a_full_disk_leave_out_unchanged(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_clip_outputs(_clip(0), out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    def full(path, image, quality=92):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(co, "write_jpeg", full)
    with pytest.raises(OSError) as info:
        write_clip_outputs(_clip(100), out)
    assert info.value.errno == errno.ENOSPC
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]     # no staging left beside it


# ---------------------------------------------------------------- one directory rename
def test_generate_commits_by_one_directory_exchange(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_clip_outputs(_clip(0), out)
    (out / "notes.txt").write_text("mine")
    calls = []
    real_exchange = co._exchange
    monkeypatch.setattr(co, "_exchange", lambda a, b: calls.append((a, b)) or real_exchange(a, b))
    renames = []
    for name in ("rename", "replace"):
        real = getattr(os, name)

        def spy(src, dst, *a, _real=real, **k):
            if Path(dst).resolve().is_relative_to(out.resolve()):
                renames.append((src, dst))
            return _real(src, dst, *a, **k)

        monkeypatch.setattr(os, name, spy)
    write_clip_outputs(_clip(100, t=3), out)
    assert len(calls) == 1 and calls[0][1] == out.absolute()
    if calls and real_exchange is not None:
        assert renames in ([], [(calls[0][0], out.absolute())])    # nothing renamed file by file into OUT
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in (out / "frames" / "CAM_FRONT").iterdir()) == ["0000.jpg", "0001.jpg", "0002.jpg"]


def test_commit_without_exchange_is_one_rename_into_out(tmp_path, monkeypatch):
    out = tmp_path / "out"
    write_clip_outputs(_clip(0), out)
    monkeypatch.setattr(co, "_exchange", lambda a, b: False)
    into_out = []
    real = os.rename

    def spy(src, dst):
        if Path(dst) == out.absolute():
            into_out.append(src)
        return real(src, dst)

    monkeypatch.setattr(os, "rename", spy)
    write_clip_outputs(_clip(100), out)
    assert len(into_out) == 1 and Path(into_out[0]).name.startswith(".generate-out-")
    assert not [p for p in tmp_path.iterdir() if p.name != "out"]


# ---------------------------------------------------------------- staging left by killed runs
def test_staging_of_a_killed_generate_is_removed_by_the_next_run(tmp_path, caplog):
    out = tmp_path / "out"
    _kill_holding_staging(tmp_path, ".generate-out-")
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".generate-out-")]
    assert left                                                # the kill left it behind
    with caplog.at_level("WARNING", logger="cornercase.staging"):
        write_clip_outputs(_clip(), out)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert "left by an interrupted run" in caplog.text


def test_staging_of_a_live_run_is_kept(tmp_path):
    live = StagingDir.create(tmp_path, ".generate-out-")
    _kill_holding_staging(tmp_path, ".generate-out-")
    removed = clean_stale_staging(tmp_path, ".generate-out-")
    assert len(removed) == 1 and live.path.is_dir() and live.lock_path.exists()
    live.release()
    assert list(tmp_path.iterdir()) == []


def test_export_staging_of_a_killed_run_is_removed(tmp_path):
    staging = tmp_path / ".staging"
    _kill_holding_staging(staging, "")
    (staging / "0123456789ab").mkdir()                         # an old-style one without a lock
    assert len(list(staging.iterdir())) == 3
    fresh = StagingDir.create(staging, "", make_dir=False)     # what export_clip does first
    assert [p.name for p in staging.iterdir()] == [fresh.lock_path.name]
    fresh.release()


def test_generate_cli_on_a_full_disk_is_exit_2_with_path_and_reason(tmp_path, monkeypatch, capsys):
    from engine.paths import DEMO_SCENARIO
    from main import main

    def full(path, image, quality=92):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(co, "write_jpeg", full)
    out = tmp_path / "clip"
    code = main(["generate", str(DEMO_SCENARIO), "-o", str(out), "--frames", "2", "--size", "64x32", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot write {out}: the disk is full" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []                     # no OUT, no staging, no lock file
