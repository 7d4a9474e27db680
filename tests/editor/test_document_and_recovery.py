"""Document events, drags as one command, and crash recovery files."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from editor import commands as C
from editor.document import Document
from editor.recovery import Autosaver, RecoveryStore


def test_events_fire_once_per_burst_and_drags_are_one_command(road_scenario):
    doc = Document(road_scenario)
    seen = {"finished": 0, "history": 0, "changed": 0}
    doc.events.edit_finished.connect(lambda s: seen.__setitem__("finished", seen["finished"] + 1))
    doc.events.history_changed.connect(lambda: seen.__setitem__("history", seen["history"] + 1))
    doc.events.scenario_changed.connect(lambda s: seen.__setitem__("changed", seen["changed"] + 1))
    doc.begin_drag("Move car_1")
    for dx in (1.0, 2.0, 3.0):
        doc.drag_to(doc.scenario.with_agent(C.move_agent(road_scenario.agent("car_1"), dx, 0.0)))
    assert seen == {"finished": 0, "history": 0, "changed": 3} and doc.is_dirty
    doc.end_drag()
    assert seen == {"finished": 1, "history": 1, "changed": 3}
    assert len(doc.undo_stack) == 1 and doc.undo_stack.undo_label() == "Undo Move car_1"
    assert doc.execute(C.MoveAgent("car_1", dx=0.0)) is False  # no change: nothing recorded
    doc.undo()
    assert doc.scenario is road_scenario and not doc.is_dirty


def test_waypoint_selection_is_cleared_when_the_waypoint_goes(road_scenario):
    doc = Document(road_scenario)
    doc.select_waypoint("car_1", 11)
    with pytest.raises(IndexError):
        doc.select_waypoint("car_1", 12)
    doc.execute(C.DeleteWaypoint("car_1", index=11))
    assert doc.selected_waypoint is None


def test_autosaver_writes_on_edits_and_removes_the_file_when_clean(tmp_path, road_scenario):
    doc = Document(road_scenario, tmp_path / "case.json")
    store = RecoveryStore(tmp_path / "rec")
    saver = Autosaver(store, doc)
    assert not store.own_file.exists()
    doc.execute(C.MoveAgent("car_1", dx=2.0))
    assert store.own_file.exists() and saver.writes == 1
    assert saver.tick() is False  # nothing new to write
    rec = json.loads(store.own_file.read_text())
    assert rec["original_path"].endswith("case.json")
    assert rec["scenario"]["agents"][0]["trajectory"][0]["x"] == pytest.approx(22.0)
    doc.save()
    assert not store.own_file.exists()
    doc.execute(C.MoveAgent("car_1", dx=1.0))
    saver.close()
    assert not store.own_file.exists()


_CRASH = r"""
import os, sys
sys.path.insert(0, sys.argv[1])
from editor.document import Document
from editor.recovery import Autosaver, RecoveryStore
from editor import commands as C
from tests.editor.conftest import make_road_scenario
doc = Document(make_road_scenario(), sys.argv[3])
Autosaver(RecoveryStore(sys.argv[2]), doc)
doc.execute(C.MoveAgent("car_1", dx=5.0))
doc.execute(C.SetAgentClass("car_2", cls="bus"))
os._exit(3)  # a crash: no cleanup runs
"""


def test_a_crashed_session_is_found_and_restored(tmp_path, road_scenario):
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", _CRASH, repo, str(tmp_path / "rec"), str(tmp_path / "case.json")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stderr
    store = RecoveryStore(tmp_path / "rec")
    orphans = store.orphans()
    assert len(orphans) == 1 and orphans[0].original_path == tmp_path / "case.json"
    assert "road" in orphans[0].describe()
    doc = store.load(orphans[0])
    assert doc.is_dirty and doc.path == tmp_path / "case.json"
    assert doc.scenario.agent("car_2").cls == "bus"
    assert doc.scenario.agent("car_1").trajectory.points[0].x == pytest.approx(25.0)
    store.remove(orphans[0])
    assert store.orphans() == []


def test_live_sessions_and_broken_files_are_not_orphans(tmp_path, road_scenario):
    me = RecoveryStore(tmp_path)
    me.write(road_scenario, None)
    other = RecoveryStore(tmp_path, pid=os.getppid())  # a running process (our parent)
    other.write(road_scenario, None)
    (tmp_path / "session-999999999.recovery.json").write_text("{half a file")
    assert RecoveryStore(tmp_path).orphans() == []
