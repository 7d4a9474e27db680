"""What the mouse and keys do on the BEV canvas: select, drag, rotate, add waypoints, drop assets.

Interprets canvas input with `editor.interaction` (hit tests, drag sessions) and edits only through
the Document: a drag is `begin_drag` / `drag_to` ... / `end_drag` (one undo step), everything else
one command. Errors (a locked agent, a waypoint that cannot go) are reported through `message`.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from app.bev_canvas import BevCanvas
from editor import commands as C
from editor.document import Document
from editor.interaction import AgentDrag, DragSession, RotateDrag, WaypointDrag, agents_touching_rect, hit_test
from editor.lane_snap import snap_to_lane
from editor.drop_placement import default_speed, new_agent_at, plan_placement
from editor.speed_profile import waypoint_speeds
from editor.trajectory_edit import is_static, split_point
from engine.classes import default_size
from engine.scenario.model import EGO_ID, Agent

ROTATE_STEP = math.radians(5.0)
NUDGE_STEP = 0.5        # metres per arrow key press
NUDGE_STEP_FINE = 0.1   # with Shift


class CanvasController(QObject):
    """Connects a BevCanvas to a Document. Modes: ``select`` (default) and ``waypoints`` (click appends).

    Snapping to lane centre lines follows `snap_enabled`; holding Shift inverts it for one gesture.
    Ctrl+click appends a waypoint in any mode; a double click on a selected path inserts one.
    Dragging a selected agent's body moves its whole path (and the rest of a multi-selection);
    Alt+drag on a waypoint handle moves that one waypoint. Shift+drag on empty map selects the agents
    whose footprint the rectangle touches (rubber band; Ctrl adds them to the selection).
    """

    message = Signal(str)
    mode_changed = Signal(str)

    def __init__(self, canvas: BevCanvas, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.document: Document | None = None
        self.snap_enabled = True
        self.mode = "select"
        self._session: DragSession | None = None
        self._band: tuple[float, float] | None = None
        self.drag_events = 0
        canvas.set_tool(self)
        self.set_document(document)

    # ---- wiring ---------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        if self.document is not None:
            ev = self.document.events
            ev.scenario_changed.disconnect(self._on_scenario)
            ev.time_changed.disconnect(self.canvas.update_time)
            ev.selection_changed.disconnect(self.canvas.set_selection)
            ev.waypoint_selection_changed.disconnect(self.canvas.set_selected_waypoint)
        self.document = document
        ev = document.events
        ev.scenario_changed.connect(self._on_scenario)
        ev.time_changed.connect(self.canvas.update_time)
        ev.selection_changed.connect(self.canvas.set_selection)
        ev.waypoint_selection_changed.connect(self.canvas.set_selected_waypoint)
        self.canvas.set_selection(document.selection)
        self.canvas.set_selected_waypoint(document.selected_waypoint)
        self.canvas.update_time(document.current_time)
        self.canvas.set_scenario(document.scenario, reset_view=True)

    def _on_scenario(self, scenario) -> None:
        self.canvas.set_scenario(scenario)

    def set_mode(self, mode: str) -> None:
        if mode not in ("select", "waypoints"):
            raise ValueError(f"unknown canvas mode {mode!r}")
        if mode != self.mode:
            self.mode = mode
            self.mode_changed.emit(mode)
            if mode == "waypoints":
                self.message.emit("Add waypoints: click on the map to append to the selected agent's path "
                                  "(Esc or V to stop)")

    def _snap(self, mods) -> bool:
        return self.snap_enabled != bool(mods & Qt.ShiftModifier)

    def _try(self, command) -> bool:
        """Execute a command; show its error instead of raising."""
        try:
            return self.document.execute(command)
        except (ValueError, KeyError, IndexError) as e:
            self.message.emit(str(e).strip("'\""))
            return False

    # ---- drags ----------------------------------------------------------------------
    def drag_start(self, x: float, y: float, mods) -> bool:
        doc = self.document
        t = doc.current_time
        alt = bool(mods & Qt.AltModifier)
        hit = hit_test(doc.scenario, t, x, y, doc.selection, self.canvas.pick_radius(), self.canvas.handle_gap(),
                       prefer_waypoint=alt)
        if hit is None:
            if mods & Qt.ShiftModifier:  # rubber band selection
                self._band = (x, y)
                self.canvas.show_rubber_band(x, y, x, y)
                return True
            return False  # the view pans
        if hit.agent_id not in doc.selection:
            doc.select((hit.agent_id,))
        start = doc.scenario
        try:
            if hit.kind == "agent":
                others = tuple(i for i in doc.selection if i != hit.agent_id)
                self._session = AgentDrag(start, hit.agent_id, x, y, t, also=others)
                what = (f"{hit.agent_id}'s whole path" if not self._session.also
                        else f"{len(self._session.agent_ids)} agents")
                self.message.emit(f"Moving {what}: one undo step. Alt+drag a waypoint handle to move one waypoint; "
                                  "Shift inverts lane snapping; Esc cancels")
            elif hit.kind == "rotate":
                self._session = RotateDrag(start, hit.agent_id, x, y, t)
                self.message.emit(f"Rotating {hit.agent_id} about its position at t = {t:.2f} s "
                                  "(Shift: 15° steps when snapping is off)")
            elif hit.kind == "waypoint":
                doc.select_waypoint(hit.agent_id, hit.index)
                self._session = WaypointDrag(start, hit.agent_id, hit.index, x, y)
                self.message.emit(f"Moving waypoint {hit.index + 1} of {hit.agent_id} only"
                                  + ("" if alt else " (drag the body to move the whole path)"))
            else:  # on the path: a new waypoint there, dragged at once
                wp = split_point(start.agent(hit.agent_id).trajectory, hit.t)
                inserted = C.AddWaypoint(hit.agent_id, waypoint=wp).do(start)
                index = int(np.searchsorted(inserted.agent(hit.agent_id).trajectory.times, wp.t))
                self._session = WaypointDrag(inserted, hit.agent_id, index, x, y)
                self._session.label = f"Add waypoint to {hit.agent_id}"
                self.message.emit(f"New waypoint {index + 1} of {hit.agent_id}")
        except (ValueError, KeyError, IndexError) as e:
            self._session = None
            self.message.emit(str(e).strip("'\""))
            return True  # swallow: a locked agent must not pan the view either
        doc.begin_drag(self._session.label)
        return True

    @property
    def dragging(self) -> bool:
        return self._session is not None

    def drag_move(self, x: float, y: float, mods) -> None:
        if self._band is not None:
            self.canvas.show_rubber_band(self._band[0], self._band[1], x, y)
            return
        if self._session is None:
            return
        if not self.document.is_dragging:  # the drag was ended elsewhere (undo, a command, Esc)
            self._session = None
            self.canvas.show_snap_target(None)
            return
        self.drag_events += 1
        try:
            new = self._session.scenario_at(x, y, snap=self._snap(mods))
        except (ValueError, KeyError, IndexError) as e:
            self.message.emit(str(e))
            return
        self.canvas.show_snap_target(getattr(self._session, "snap_target", None))
        self.document.drag_to(new)
        if isinstance(self._session, WaypointDrag):
            self.document.select_waypoint(self._session.agent_id, self._session.index)

    def drag_end(self, x: float, y: float, mods) -> None:
        if self._band is not None:
            x0, y0 = self._band
            self._band = None
            self.canvas.show_rubber_band(None)
            doc = self.document
            ids = agents_touching_rect(doc.scenario, doc.current_time, x0, y0, x, y)
            if mods & Qt.ControlModifier:
                ids = tuple(dict.fromkeys(doc.selection + ids))
            doc.select(ids)
            self.message.emit(f"{len(ids)} agent{'s' if len(ids) != 1 else ''} selected"
                              + (": drag one of them to move them together, arrow keys nudge" if ids else ""))
            return
        if self._session is None:
            return
        self.drag_move(x, y, mods)
        self.canvas.show_snap_target(None)
        if self._session is None:
            return
        self._session = None
        self.document.end_drag()

    def drag_cancel(self) -> None:
        if self._band is not None:
            self._band = None
            self.canvas.show_rubber_band(None)
            return
        self.canvas.show_snap_target(None)
        if self._session is not None:
            self._session = None
            self.document.cancel_drag()
            self.message.emit("Drag cancelled")

    def escape(self) -> None:
        """Esc: cancel a drag, else leave the waypoint tool, else clear the selection."""
        if self._session is not None:
            self.canvas._vb.cancel_tool_drag()
        elif self.mode != "select":
            self.set_mode("select")
        else:
            self.document.select(())
            self.document.select_waypoint(None)

    # ---- clicks ---------------------------------------------------------------------
    def click(self, x: float, y: float, mods, double: bool) -> None:
        doc = self.document
        t = doc.current_time
        if self.mode == "waypoints" or mods & Qt.ControlModifier:
            self.append_waypoint(x, y, mods)
            return
        hit = hit_test(doc.scenario, t, x, y, doc.selection, self.canvas.pick_radius(), self.canvas.handle_gap())
        if hit is None:
            doc.select(())
            doc.select_waypoint(None)
            return
        if double and hit.kind == "path":
            wp = split_point(doc.scenario.agent(hit.agent_id).trajectory, hit.t)
            if self._try(C.AddWaypoint(hit.agent_id, waypoint=wp)):
                times = doc.scenario.agent(hit.agent_id).trajectory.times
                doc.select_waypoint(hit.agent_id, int(np.argmin(np.abs(times - wp.t))))
            return
        if double and hit.kind == "agent":
            self.canvas.frame_agent(hit.agent_id)
            return
        if hit.kind == "waypoint":
            doc.select_waypoint(hit.agent_id, hit.index)
            return
        if mods & Qt.ShiftModifier and hit.kind == "agent":
            sel = list(doc.selection)
            sel.remove(hit.agent_id) if hit.agent_id in sel else sel.append(hit.agent_id)
            doc.select(tuple(sel))
            return
        if hit.kind in ("agent", "path"):
            doc.select((hit.agent_id,))
            if doc.selected_waypoint and doc.selected_waypoint[0] != hit.agent_id:
                doc.select_waypoint(None)

    def append_waypoint(self, x: float, y: float, mods=Qt.NoModifier) -> bool:
        """Append a waypoint at (x, y) to the single selected agent (snapped to a lane when on)."""
        doc = self.document
        if len(doc.selection) != 1:
            self.message.emit("Select one agent to add waypoints to its path")
            return False
        aid = doc.selection[0]
        agent = doc.scenario.agent(aid)
        if self._snap(mods):
            proj = snap_to_lane(doc.scenario.map, x, y)
            if proj is not None:
                x, y = proj.x, proj.y
        speed = float(waypoint_speeds(agent.trajectory)[-1])
        if speed < 0.5:
            speed = default_speed(agent.cls) or 5.0
        if self._try(C.AppendWaypoint(aid, x=x, y=y, speed=speed)):
            doc.select_waypoint(aid, len(doc.scenario.agent(aid).trajectory.points) - 1)
            return True
        return False

    # ---- drops ----------------------------------------------------------------------
    def drop_preview(self, cls: str, x: float, y: float) -> np.ndarray | None:
        """(4, 2) footprint where a dropped `cls` would stand (lane-snapped, heading along the lane)."""
        try:
            p = plan_placement(self.document.scenario, cls, x, y)
        except (ValueError, KeyError):   # no ghost where the drop would be refused (`drop` reports why)
            return None
        from engine.scenario.trajectory import Trajectory

        ghost = Agent("ghost", cls, default_size(cls), Trajectory.static(p.x, p.y, p.yaw))
        return ghost.box_corners_2d(0.0)[0]

    def drop(self, cls: str, asset: str, x: float, y: float) -> Agent | None:
        """Create an agent of `cls` at (x, y) at the current time: one undoable command, selected."""
        doc = self.document
        try:
            agent, placement = new_agent_at(doc.scenario, cls, x, y, doc.current_time, asset=asset)
        except ValueError as e:
            self.message.emit(str(e))
            return None
        if not self._try(C.AddAgent(agent)):
            return None
        doc.select((agent.id,))
        self.message.emit(f"Added {agent.id}: {placement.reason}")
        return agent

    # ---- keyboard edits (menu actions call these) -----------------------------------------
    def delete_selection(self) -> None:
        """Delete the highlighted waypoint if any, else the selected agents (one undo step)."""
        doc = self.document
        wp = doc.selected_waypoint
        if wp is not None and wp[0] in doc.selection:
            if self._try(C.DeleteWaypoint(wp[0], index=wp[1])):
                doc.select_waypoint(None)
            return
        ids = [i for i in doc.selection if i != EGO_ID]
        if not ids:
            if EGO_ID in doc.selection:
                self.message.emit("The ego cannot be deleted")
            return
        cmds = [C.RemoveAgent(i) for i in ids]
        self._try(cmds[0] if len(cmds) == 1 else C.CompoundCommand(f"Delete {len(cmds)} agents", cmds))

    def duplicate_selection(self) -> None:
        doc = self.document
        ids = [i for i in doc.selection if i != EGO_ID]
        if not ids:
            return
        cmds = [C.DuplicateAgent(i) for i in ids]
        if self._try(cmds[0] if len(cmds) == 1 else C.CompoundCommand(f"Duplicate {len(cmds)} agents", cmds)):
            doc.select(tuple(c.new_id for c in cmds))

    def rotate_selection(self, steps: int) -> None:
        """Turn the selected agents by `steps` x 5 degrees about their position now."""
        doc = self.document
        ids = list(doc.selection)
        if not ids:
            return
        cmds = [C.RotateAgent(i, angle=steps * ROTATE_STEP, pivot_time=doc.current_time) for i in ids]
        self._try(cmds[0] if len(cmds) == 1 else C.CompoundCommand(f"Rotate {len(cmds)} agents", cmds))

    def nudge_selection(self, dx: float, dy: float) -> bool:
        """Move the selected (unlocked) agents by (dx, dy) metres: one undo step; False when nothing moved."""
        doc = self.document
        ids = [i for i in doc.selection if not doc.scenario.agent(i).locked]
        if not ids:
            if doc.selection:
                self.message.emit("The selected agents come from the real scene and are locked")
            return False
        cmds = [C.MoveAgent(i, dx=dx, dy=dy) for i in ids]
        label = f"Nudge {ids[0]}" if len(ids) == 1 else f"Nudge {len(ids)} agents"
        ok = self._try(C.CompoundCommand(label, cmds))
        if ok:
            self.message.emit(f"{label} by ({dx:+.2f}, {dy:+.2f}) m (arrow keys; Shift for {NUDGE_STEP_FINE} m steps)")
        return ok

    def nudge_key(self, key, mods) -> bool:
        """Arrow key on the canvas: nudge the selection (screen directions); True when handled."""
        step = NUDGE_STEP_FINE if mods & Qt.ShiftModifier else NUDGE_STEP
        d = {Qt.Key_Left: (-step, 0.0), Qt.Key_Right: (step, 0.0), Qt.Key_Up: (0.0, step),
             Qt.Key_Down: (0.0, -step)}.get(key)
        if d is None or not self.document.selection:
            return False
        self.nudge_selection(*d)
        return True

    def snap_selection_to_lane(self) -> None:
        """Move each selected agent onto the nearest lane centre line at the current time."""
        doc = self.document
        cmds = []
        for aid in doc.selection:
            a = doc.scenario.agent(aid)
            x, y, yaw = a.trajectory.pose_at(doc.current_time)
            proj = snap_to_lane(doc.scenario.map, x, y, max_distance=10.0)
            if proj is None:
                continue
            cmds.append(C.MoveAgent(aid, dx=proj.x - x, dy=proj.y - y))
            if is_static(a.trajectory):
                cmds.append(C.RotateAgent(aid, angle=math.remainder(proj.heading - yaw, 2 * math.pi),
                                          pivot_time=doc.current_time))
        if cmds:
            self._try(C.CompoundCommand("Snap to lane", cmds))
