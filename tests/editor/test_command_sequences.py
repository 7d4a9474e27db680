"""Random command sequences (hypothesis): undoing all returns the original scenario exactly, redoing
all returns the final one, and every intermediate state is met again on the way back."""
from __future__ import annotations

import math

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from editor import commands as C
from editor.document import Document
from editor.interaction import AgentDrag, RotateDrag, WaypointDrag
from editor.drop_placement import new_agent_at
from editor.trajectory_edit import split_point
from engine.classes import class_names
from engine.roadmap.procedural import intersection_map, straight_road_map
from engine.scenario.model import TIMES_OF_DAY, WEATHERS, Environment, Scenario
from tests.editor.conftest import make_road_scenario, straight_agent

coord = st.floats(min_value=-60, max_value=60, allow_nan=False)
small = st.floats(min_value=-8, max_value=8, allow_nan=False)
MAPS = (straight_road_map(), intersection_map())


def _prompt_result(draw) -> Scenario:
    k = draw(st.integers(1, 3))
    agents = tuple(straight_agent(draw(st.sampled_from(["car_1", "truck_1", "pedestrian_7"])) if i == 0 else f"bus_{i}",
                                  cls="bus" if i else "car", x0=draw(coord)) for i in range(k))
    env = Environment(draw(st.sampled_from(TIMES_OF_DAY)), draw(st.sampled_from(WEATHERS)))
    return Scenario(name="from_prompt", agents=agents, environment=env, map=MAPS[0], script="forward()")


def _command(draw, s: Scenario, t: float):
    """One random command against scenario `s` (it may be invalid: the document must then refuse it)."""
    ids = [a.id for a in s.all_agents] + ["nobody"]
    aid = draw(st.sampled_from(ids))
    n_wp = len(s.agent(aid).trajectory.points) if aid != "nobody" else 1
    kind = draw(st.sampled_from([
        "add", "remove", "duplicate", "move", "rotate", "add_wp", "append_wp", "move_wp", "delete_wp",
        "speed", "class", "asset", "size", "env", "map", "prompt", "compound", "set_wp"]))
    if kind == "add":
        agent, _ = new_agent_at(s, draw(st.sampled_from(class_names())), draw(coord), draw(coord), t)
        return C.AddAgent(agent)
    if kind == "remove":
        return C.RemoveAgent(aid)
    if kind == "duplicate":
        return C.DuplicateAgent(aid, (draw(small), draw(small)))
    if kind == "move":
        return C.MoveAgent(aid, dx=draw(small), dy=draw(small))
    if kind == "rotate":
        return C.RotateAgent(aid, angle=draw(st.floats(-math.pi, math.pi)), pivot_time=t)
    if kind == "add_wp":
        if aid == "nobody":
            return C.AddWaypoint(aid)
        traj = s.agent(aid).trajectory
        tw = draw(st.floats(traj.start_time, traj.end_time + 1.0))
        return C.AddWaypoint(aid, waypoint=split_point(traj, tw))
    if kind == "append_wp":
        return C.AppendWaypoint(aid, x=draw(coord), y=draw(coord), speed=draw(st.floats(0.0, 20.0)))
    if kind == "move_wp":
        return C.MoveWaypoint(aid, index=draw(st.integers(0, n_wp)), x=draw(coord), y=draw(coord))
    if kind == "delete_wp":
        return C.DeleteWaypoint(aid, index=draw(st.integers(-1, n_wp)))
    if kind == "set_wp":
        return C.SetWaypoint(aid, index=draw(st.integers(0, n_wp - 1)),
                             values={"t": draw(st.floats(-1.0, 4.0)), "v": draw(st.floats(0.0, 15.0))})
    if kind == "speed":
        return C.SetSpeedProfile(aid, speeds=draw(st.lists(st.floats(0.0, 20.0), min_size=n_wp, max_size=n_wp)))
    if kind == "class":
        return C.SetAgentClass(aid, cls=draw(st.sampled_from(class_names() + ["spaceship"])))
    if kind == "asset":
        return C.SetAgentAsset(aid, asset=draw(st.sampled_from(["builtin:car", "assets/x.glb", " "])))
    if kind == "size":
        return C.SetAgentSize(aid, size=(draw(st.floats(-1, 5)), draw(st.floats(0.1, 15)), draw(st.floats(0.1, 4))))
    if kind == "env":
        return C.SetEnvironment(Environment(draw(st.sampled_from(TIMES_OF_DAY + ("noon",))), draw(st.sampled_from(WEATHERS))))
    if kind == "map":
        return C.SetMap(draw(st.sampled_from(MAPS)))
    if kind == "prompt":
        return C.ApplyPromptResult(_prompt_result(draw), mode=draw(st.sampled_from(C.PROMPT_MODES)), prompt="p")
    return C.CompoundCommand("Two moves", [C.MoveAgent(aid, dx=1.0), C.RotateAgent(aid, angle=0.3)])


def _drag(draw, doc: Document) -> None:
    s, t = doc.scenario, doc.current_time
    aid = draw(st.sampled_from([a.id for a in s.all_agents]))
    kind = draw(st.sampled_from(["agent", "waypoint", "rotate"]))
    x0, y0, _ = s.agent(aid).trajectory.pose_at(t)
    if kind == "agent":
        session = AgentDrag(s, aid, x0, y0, t)
    elif kind == "rotate":
        session = RotateDrag(s, aid, x0 + 3.0, y0, t)
    else:
        i = draw(st.integers(0, len(s.agent(aid).trajectory.points) - 1))
        p = s.agent(aid).trajectory.points[i]
        session = WaypointDrag(s, aid, i, p.x, p.y)
    doc.begin_drag(session.label)
    for _ in range(draw(st.integers(1, 4))):
        doc.drag_to(session.scenario_at(x0 + draw(small), y0 + draw(small), snap=draw(st.booleans())))
    if draw(st.booleans()):
        doc.end_drag()
    else:
        doc.cancel_drag()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_undo_all_restores_original_and_redo_all_the_final(data):
    doc = Document(make_road_scenario())
    original = doc.scenario
    states = [original]  # the scenario after each recorded step, in stack order
    for _ in range(data.draw(st.integers(1, 20), label="steps")):
        action = data.draw(st.sampled_from(["cmd", "cmd", "cmd", "drag", "undo", "redo", "time"]), label="action")
        before, depth = doc.scenario, doc.undo_stack.index
        if action == "cmd":
            cmd = _command(data.draw, doc.scenario, doc.current_time)
            try:
                changed = doc.execute(cmd)
            except (ValueError, KeyError, IndexError):
                event(f"refused {type(cmd).__name__}")
                assert doc.scenario == before and doc.undo_stack.index == depth
                continue
            event(f"done {type(cmd).__name__}")
            if changed:
                del states[depth + 1:]
                states.append(doc.scenario)
        elif action == "drag":
            _drag(data.draw, doc)
            if doc.undo_stack.index == depth + 1:
                del states[depth + 1:]
                states.append(doc.scenario)
            else:
                assert doc.scenario == before
        elif action == "undo":
            doc.undo()
        elif action == "redo":
            doc.redo()
        else:
            doc.set_time(data.draw(st.floats(0.0, 3.0)))
        assert doc.scenario == states[doc.undo_stack.index]
    while doc.undo_stack.can_redo:
        doc.redo()
    final = doc.scenario
    assert final == states[-1]
    for k in range(len(states) - 1, 0, -1):
        assert doc.scenario == states[k]
        doc.undo()
    assert doc.scenario == original
    assert not doc.is_dirty
    while doc.undo_stack.can_redo:
        doc.redo()
    assert doc.scenario == final
    assert doc.is_dirty == (doc.undo_stack.index > 0)
