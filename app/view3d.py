"""3D view (vispy): the map, the agents' meshes, and the six camera frustums on the ego, orbitable.

It follows the timeline (poses at the current time) and the selection (the orbit centre follows the
selected agent, or the ego; the selected agent gets a yellow box). vispy needs a real OpenGL
context: under the offscreen Qt platform, or when GL fails, a placeholder explains why and the rest
of the app works as before.
"""
from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.scene3d_geometry import box_wire_segments, camera_label_position, frustum_segments, map_line_sets
from editor.document import Document
from engine.scenario.model import EGO_ID, Scenario

CAMERA_COLORS = {
    "CAM_FRONT_LEFT": "#ff9f0a", "CAM_FRONT": "#ff453a", "CAM_FRONT_RIGHT": "#ffd60a",
    "CAM_BACK_RIGHT": "#30d158", "CAM_BACK": "#64d2ff", "CAM_BACK_LEFT": "#bf5af2",
}


def gl_view_available() -> tuple[bool, str]:
    """Whether a vispy canvas can be made here, and why not."""
    if os.environ.get("CORNERCASE_NO_3D"):
        return False, "3D view disabled (CORNERCASE_NO_3D is set)"
    platform = QGuiApplication.platformName()
    if platform in ("offscreen", "minimal", "vnc"):
        return False, f"3D view needs OpenGL; the Qt platform '{platform}' has none (run under an X server or Xvfb)"
    try:
        import vispy

        vispy.use("pyside6")
    except Exception as e:  # noqa: BLE001 - optional view: any backend failure (no vispy, no GL binding) means no 3D view
        return False, f"3D view unavailable: {e}"
    return True, ""


class View3D(QWidget):
    """The dock's contents. `available` tells whether the GL canvas exists (`reason` otherwise)."""

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.canvas = None
        self.redraws = 0
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        ok, why = gl_view_available()
        self.reason = why
        if ok:
            try:
                self._build()
            except Exception as e:  # noqa: BLE001 - a GL failure must not take the editor down
                self.canvas = None
                self.reason = f"3D view unavailable: {type(e).__name__}: {e}"
        if self.canvas is None:
            label = QLabel(self.reason)
            label.setObjectName("panelHint")
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignCenter)
            lay.addWidget(label)
        else:
            lay.addWidget(self.canvas.native)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._update_now)
        self._scenario_dirty = True
        self.set_document(document)

    @property
    def available(self) -> bool:
        return self.canvas is not None

    # ---- construction -------------------------------------------------------------------
    def _build(self) -> None:
        from vispy import scene

        from engine.rig import CameraRig

        self.canvas = scene.SceneCanvas(keys=None, bgcolor="#15171a", parent=self, show=False)
        self.canvas.native.setMinimumSize(200, 160)
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(up="+z", elevation=28.0, azimuth=-115.0, distance=38.0, fov=45.0)
        self._scene_mod = scene
        self.rig = CameraRig.default()
        self._ground = None
        self._map_lines: dict[str, object] = {}
        self._map_of = None
        self._agents: dict[str, tuple[object, object, str]] = {}  # id -> (mesh visual, transform, asset key)
        self._library = None
        self._frustum = scene.visuals.Line(pos=np.zeros((2, 3)), connect="segments", width=1.5,
                                           parent=self.view.scene, antialias=True)
        self._labels = scene.visuals.Text(text=[""], pos=np.zeros((1, 3)), color="white", font_size=8, bold=True,
                                          parent=self.view.scene)
        self._selection_box = scene.visuals.Line(pos=np.zeros((2, 3)), connect="segments", color="#ffd60a",
                                                 width=2.0, parent=self.view.scene)
        self._labels.order = 10

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            ev = self.document.events
            ev.scenario_changed.disconnect(self._on_scenario)
            ev.time_changed.disconnect(self._schedule)
            ev.selection_changed.disconnect(self._schedule)
        self.document = document
        ev = document.events
        ev.scenario_changed.connect(self._on_scenario)
        ev.time_changed.connect(self._schedule)
        ev.selection_changed.connect(self._schedule)
        self._scenario_dirty = True
        self._update_now()

    def _on_scenario(self, _s) -> None:
        self._scenario_dirty = True
        self._schedule()

    def _schedule(self, *_args) -> None:
        if self.canvas is not None and not self._timer.isActive():
            self._timer.start()

    # ---- drawing ------------------------------------------------------------------------
    def _update_now(self) -> None:
        if self.canvas is None or self.document is None:
            return
        s = self.document.scenario
        t = self.document.current_time
        if self._scenario_dirty:
            if self._map_of is not s.map:
                self._draw_map(s)
            self._sync_agents(s)
            self._scenario_dirty = False
        self._place_agents(s, t)
        self._draw_frustums(s, t)
        self._draw_selection(s, t)
        self.canvas.update()
        self.redraws += 1

    def _draw_map(self, s: Scenario) -> None:
        scene = self._scene_mod
        from engine.render.triangulate import triangulate

        if self._ground is not None:
            self._ground.parent = None
        verts, faces = triangulate(s.map.drivable_geometry)
        if len(faces):
            v3 = np.column_stack([verts, np.zeros(len(verts))]).astype(np.float32)
            self._ground = scene.visuals.Mesh(vertices=v3, faces=faces.astype(np.uint32), color=(0.29, 0.31, 0.33, 1.0),
                                              parent=self.view.scene)
        else:
            self._ground = None
        for v in self._map_lines.values():
            v.parent = None
        colors = {"boundaries": "#e8e8e8", "dividers": "#f2c94c", "centres": (0.47, 0.67, 1.0, 0.35),
                  "crossings": "#d0d0d0"}
        self._map_lines = {}
        for name, segs in map_line_sets(s.map).items():
            if len(segs):
                self._map_lines[name] = scene.visuals.Line(pos=segs.astype(np.float32), connect="segments",
                                                           color=colors[name], width=1.5, parent=self.view.scene)
        self._map_of = s.map

    def _mesh_for(self, agent):
        if self._library is None:
            from engine.assets import AssetLibrary

            self._library = AssetLibrary()
        asset, _warning = self._library.for_agent(agent.asset, agent.cls)
        return asset.mesh

    def _sync_agents(self, s: Scenario) -> None:
        scene = self._scene_mod
        from vispy.visuals.transforms import MatrixTransform

        wanted = {a.id: a for a in s.all_agents}
        for aid in list(self._agents):
            key = (wanted[aid].asset, wanted[aid].cls) if aid in wanted else None
            if aid not in wanted or self._agents[aid][2] != key:
                self._agents.pop(aid)[0].parent = None
        for aid, a in wanted.items():
            if aid in self._agents:
                continue
            mesh = self._mesh_for(a)
            colors = np.asarray(mesh.visual.vertex_colors, dtype=np.float32) / 255.0
            if aid == EGO_ID:  # the ego in the canvas's red, keeping the mesh's light and dark parts
                lum = colors[:, :3].mean(axis=1, keepdims=True)
                shade = np.clip(0.45 + lum, 0.0, 1.2)
                colors = np.column_stack([np.clip(shade * np.array([1.0, 0.23, 0.19]), 0, 1), colors[:, 3]])
                colors = colors.astype(np.float32)
            visual = scene.visuals.Mesh(vertices=np.asarray(mesh.vertices, dtype=np.float32),
                                        faces=np.asarray(mesh.faces, dtype=np.uint32),
                                        vertex_colors=colors, shading="flat", parent=self.view.scene)
            tr = MatrixTransform()
            visual.transform = tr
            self._agents[aid] = (visual, tr, (a.asset, a.cls))

    def _place_agents(self, s: Scenario, t: float) -> None:
        from engine.rig import agent_model_matrix, agent_present

        for a in s.all_agents:
            entry = self._agents.get(a.id)
            if entry is None:
                continue
            visual, tr, _ = entry
            present = agent_present(a, t)
            visual.visible = present
            if present:
                tr.matrix = agent_model_matrix(a, t).T.astype(np.float32)  # vispy maps row vectors

    def _draw_frustums(self, s: Scenario, t: float) -> None:
        from engine.rig import ego_pose

        pose = ego_pose(s, t)
        segs, colors, labels, label_pos = [], [], [], []
        for cam in self.rig:
            seg = frustum_segments(cam, pose, depth=7.0)
            segs.append(seg)
            colors += [CAMERA_COLORS.get(cam.name, "#ffffff")] * len(seg)
            labels.append("".join(w[0] for w in cam.name.replace("CAM_", "").split("_")))
            label_pos.append(camera_label_position(cam, pose, depth=7.6))
        from vispy.color import ColorArray

        self._frustum.set_data(pos=np.concatenate(segs).astype(np.float32), color=ColorArray(colors).rgba,
                               connect="segments")
        self._labels.text = labels
        self._labels.pos = np.asarray(label_pos, dtype=np.float32)
        sel = self.document.selection
        target = s.agent(sel[0]) if len(sel) == 1 and (sel[0] == EGO_ID or sel[0] in s.agent_ids()) else s.ego
        x, y, _ = target.trajectory.pose_at(t)
        self.view.camera.center = (float(x), float(y), 1.0)

    def _draw_selection(self, s: Scenario, t: float) -> None:
        sel = [i for i in self.document.selection if i == EGO_ID or i in s.agent_ids()]
        segs = [box_wire_segments(s.agent(i).box_corners_3d(t)) for i in sel]
        if segs:
            self._selection_box.set_data(pos=np.concatenate(segs).astype(np.float32), connect="segments")
            self._selection_box.visible = True
        else:
            self._selection_box.visible = False

    def grab_image(self) -> np.ndarray | None:
        """(H, W, 4) uint8 render of the view (None without GL)."""
        if self.canvas is None:
            return None
        return self.canvas.render()
