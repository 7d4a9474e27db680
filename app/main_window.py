"""The main window: BEV canvas in the centre, dockable panels around it, menus, toolbar, status bar.

Extending it: `add_dock(title, widget, area)` adds a panel (and its View-menu toggle); menus are
attributes (`file_menu`, `edit_menu`, `view_menu`, `tools_menu`, `help_menu`); `document_replaced`
(Document) fires after Open / New / restore so a panel can follow the new document.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QToolBar,
                               QWidget)

from app import theme
from app.asset_palette import PaletteWidget
from app.elided_label import ElidedLabel
from app.autosave import AutosaveController, ask_restore
from app.bev_canvas import BevCanvas
from app.canvas_tools import CanvasController
from app.check_runner import CheckRunner
from app.environment_panel import EnvironmentPanel
from app.inspector import InspectorWidget
from app.timeline import Mark, TimelineWidget
from app.ui_state import UiState
from editor.document import Document
# engine.config (pydantic) is imported here, on the UI thread before any worker thread exists: imported
# for the first time while a worker thread imports too, PySide6's import hook inspects pydantic's modules
# and pydantic's lazy module __getattr__ can re-enter a half-imported module ("circular import" abort, 3 in
# 15 runs of tests/app/test_autosave_bursts.py's crash script once the checks thread's imports changed).
import engine.config  # noqa: F401,I001
from engine.paths import DEMO_SCENARIO
from engine.scenario.errors import ScenarioFormatError

APP_NAME = "Corner-Case Studio"
ORG_NAME = "CornerCaseStudio"
FILE_FILTER = "Scenario (*.json);;All files (*)"
LAYOUT_VERSION = 5  # bump when docks are added or moved: old saved layouts are then ignored


def flag_levels(report, t: float) -> dict[str, int]:
    """Agent id -> the highest severity (1 warning, 2 error) of the findings covering time t."""
    if report is None:
        return {}
    tol = 0.5 / report.fps if getattr(report, "fps", 0) else 0.05
    out: dict[str, int] = {}
    for f in report.findings:
        if int(f.severity) >= 1 and f.covers(t, tol):
            for a in f.agents:
                out[a] = max(out.get(a, 0), int(f.severity))
    return out


def finding_points(report, t: float) -> list[tuple[float, float, int]]:
    """(x, y, severity) of the findings with a location that cover time t (warnings and errors)."""
    if report is None:
        return []
    tol = 0.5 / report.fps if getattr(report, "fps", 0) else 0.05
    return [(float(f.where[0]), float(f.where[1]), int(f.severity)) for f in report.findings
            if f.where is not None and int(f.severity) >= 1 and f.covers(t, tol)]


class MainWindow(QMainWindow):
    """Hosts one Document with every editing panel.

    recovery_dir: where autosave writes (default: AppDataLocation/recovery); enable_preview /
    enable_3d: start the render worker / the vispy view (tests switch them off when not needed).
    defer_heavy: start the render and checks workers (and their imports) only after the window is
    shown (`start_deferred`, called by `run_app` once the window is on screen). The vispy 3D view is
    always made when its dock is first shown (or `view3d` is read), not while the window is built.
    """

    document_replaced = Signal(object)

    def __init__(self, document: Document | None = None, *, recovery_dir: str | os.PathLike | None = None,
                 enable_preview: bool = True, enable_3d: bool = True, autosave_interval_ms: int = 15000,
                 restore_layout: bool = True, defer_heavy: bool = False) -> None:
        super().__init__()
        self.document = document or Document()
        self.ui_state = UiState()
        self._heavy_started = not defer_heavy
        self._layout_restored = False
        self._after_paint: list = []
        self.first_paint_at: float | None = None   # perf_counter time of the first paint
        self.resize(1600, 950)
        self.setDockNestingEnabled(True)
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowNestedDocks | QMainWindow.AllowTabbedDocks)
        # side panels run the full height; preview and timeline sit under the map
        self.setCorner(Qt.BottomLeftCorner, Qt.LeftDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)
        self.view_menu_actions: list[QAction] = []
        self.docks: dict[str, QDockWidget] = {}
        self._heights_before_focus: dict[str, int] = {}   # dock name -> its height before a camera was enlarged

        self.canvas = BevCanvas(self)
        self.setCentralWidget(self.canvas)
        self.controller = CanvasController(self.canvas, self.document, self)
        self.controller.snap_enabled = self.ui_state.flag("snap_to_lanes", True)

        self.palette = PaletteWidget()
        self.palette_dock = self.add_dock("Assets", self.palette, Qt.LeftDockWidgetArea)
        self.environment = EnvironmentPanel(self.document)
        self.environment_dock = self.add_dock("Environment", self.environment, Qt.LeftDockWidgetArea)
        self.inspector = InspectorWidget(self.document)
        self.inspector_dock = self.add_dock("Inspector", self.inspector, Qt.RightDockWidgetArea)
        self._view3d = None
        self.view3d_dock = None
        if enable_3d:  # a placeholder: vispy and the scene geometry load when the dock is first shown
            placeholder = QLabel("3D view: loading…")
            placeholder.setAlignment(Qt.AlignCenter)
            self.view3d_dock = self.add_dock("3D view", placeholder, Qt.RightDockWidgetArea)
            self.splitDockWidget(self.inspector_dock, self.view3d_dock, Qt.Vertical)
            self.view3d_dock.visibilityChanged.connect(self._on_view3d_visible)
        self.prompt_panel = self._make_prompt_panel()
        self.prompt_dock = self.add_dock("Prompt", self.prompt_panel, Qt.RightDockWidgetArea)
        self.tabifyDockWidget(self.inspector_dock, self.prompt_dock)
        self.inspector_dock.raise_()
        self.preview = None
        self.preview_dock = None
        if enable_preview:
            from app.preview_pane import PreviewPane

            self.preview = PreviewPane(self.document, start_worker=not defer_heavy)
            self.preview_dock = self.add_dock("Camera preview", self.preview, Qt.BottomDockWidgetArea)
            self.preview.row.focus_changed.connect(lambda name: self._room_for_focus(self.preview_dock, name))
        self.timeline = TimelineWidget(self.document, self)  # docked below the preview/player tabs, later

        self.checks = CheckRunner(self.document, self, start=not defer_heavy)
        from app.checks_dock import ChecksDock

        self.checks_panel = ChecksDock(self.document)
        self.checks_dock = self.add_dock("Checks", self.checks_panel, Qt.RightDockWidgetArea)
        self.tabifyDockWidget(self.inspector_dock, self.checks_dock)
        self.inspector_dock.raise_()
        self.autosave = AutosaveController(self.document, recovery_dir, autosave_interval_ms, self)

        self._build_status_bar()
        self._build_menus()
        self._build_toolbar()
        self._connect_document()
        self._connect_panels()
        self._features_installed = False
        if not defer_heavy:
            self._install_features()
        # last in the bottom area: under the preview and player tabs (docking it before tabifying them
        # leaves a stale tab bar over the preview)
        self.timeline_dock = self.add_dock("Timeline", self.timeline, Qt.BottomDockWidgetArea, Qt.Vertical)
        self.timeline_dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
        from app.maneuver_strip import ManeuverStrip    # H16: per-agent manoeuvre sequences under the timeline

        self.maneuver_strip = ManeuverStrip(self.document, self)
        self.maneuver_strip.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.maneuver_strip_dock = self.add_dock("Manoeuvres", self.maneuver_strip, Qt.BottomDockWidgetArea,
                                                 Qt.Vertical)
        self._initial_sizes()
        if restore_layout:
            self._restore_layout()
        self._update_title()

    # ---- construction ----------------------------------------------------------------
    def add_dock(self, title: str, widget, area=Qt.RightDockWidgetArea, orientation=None) -> QDockWidget:
        """Add a dockable panel (split `orientation` within its area, Qt's default when None); its toggle goes
        into the View menu."""
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(widget)
        if orientation is None:
            self.addDockWidget(area, dock)
        else:
            self.addDockWidget(area, dock, orientation)
        self.docks[title] = dock
        self.view_menu_actions.append(dock.toggleViewAction())
        if hasattr(self, "panels_menu"):
            self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    @property
    def view3d(self):
        """The vispy 3D view (made on first use), or None when the window has none."""
        if self._view3d is None and self.view3d_dock is not None:
            from app.view3d import View3D

            self._view3d = View3D(self.document)
            self.view3d_dock.setWidget(self._view3d)
        return self._view3d

    def _build_view3d(self) -> None:
        """Timer target: build the 3D view unless the window is closing (timers are tied to the window,
        so none fires after it is deleted)."""
        if not getattr(self, "_shut", False):
            self.view3d  # noqa: B018 (the property builds it)

    def _on_view3d_visible(self, visible: bool) -> None:
        if visible and self._view3d is None and self._heavy_started:
            QTimer.singleShot(200, self, self._build_view3d)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        if self._after_paint:
            pending, self._after_paint = self._after_paint, []
            for fn in pending:
                QTimer.singleShot(30, self, fn)
        if self.first_paint_at is None:
            import time

            self.first_paint_at = time.perf_counter()

    def call_after_first_paint(self, fn) -> None:
        """Run `fn` once the window has painted (so heavy start-up work does not delay its appearance)."""
        if self.first_paint_at is not None:
            QTimer.singleShot(0, self, fn)
        else:
            self._after_paint.append(fn)

    def start_deferred(self) -> None:
        """Start what `defer_heavy` held back (idempotent): generation, export and nuScenes features (their
        docks get the saved layout back), then the checks and render workers."""
        if getattr(self, "_shut", False):
            return
        if not self._features_installed:
            before = set(self.docks.values())
            self._install_features()
            closed = set(self.ui_state.text("window/closed_docks").split(",")) if self._layout_restored else set()
            for dock in set(self.docks.values()) - before:
                # docks added to a shown window start hidden, and restoreDockWidget leaves a restored tabbed
                # dock hidden too: show each one unless the user had closed it when the layout was saved
                if self._layout_restored:
                    self.restoreDockWidget(dock)
                if dock.objectName() not in closed:
                    dock.show()
            self.inspector_dock.raise_()
            if self.preview_dock is not None:
                self.preview_dock.raise_()
        self.checks.start()
        if self.preview is not None:
            self.preview.start_worker()
        self._heavy_started = True
        if self.view3d_dock is not None and self.view3d_dock.isVisible():
            QTimer.singleShot(300, self, self._build_view3d)

    def _install_features(self) -> None:
        """World-model generation, export / batch, and real nuScenes scenes: each adds its own docks and menus."""
        from app.export_dialog import install_export
        from app.generate_panel import install_generation
        from app.nuscenes_dialog import install_nuscenes

        self._features_installed = True

        install_generation(self)
        self.tabifyDockWidget(self.prompt_dock, self.generation_dock)
        self.inspector_dock.raise_()
        if self.preview_dock is not None:
            # the player shares the preview's place; it is raised when a clip is ready
            self.tabifyDockWidget(self.preview_dock, self.player_dock)
            self.preview_dock.raise_()
            if hasattr(self.generation, "player"):   # its Compare row shows the preview's guidance
                self.generation.player.set_guidance_source(self.preview)
        if hasattr(self.generation, "player"):
            self.generation.player.strip.focus_changed.connect(
                lambda name: self._room_for_focus(self.player_dock, name))
        install_export(self)
        install_nuscenes(self)

    def _room_for_focus(self, dock: QDockWidget, name: str | None) -> None:
        """A camera enlarged by double-click needs room: a short bottom dock grows to about 45 % of the
        window while one is enlarged (else the big tile is no bigger than before and the others are slivers),
        and gets its height back when the row returns."""
        if dock.isFloating():
            return
        key = dock.objectName()
        if name is not None:
            target = int(self.height() * 0.45)
            if dock.height() < target:
                self._heights_before_focus.setdefault(key, dock.height())
                self.resizeDocks([dock], [target], Qt.Vertical)
        elif key in self._heights_before_focus:
            self.resizeDocks([dock], [self._heights_before_focus.pop(key)], Qt.Vertical)

    def _make_prompt_panel(self) -> QWidget:
        from app.prompt_panel import PromptPanel

        return PromptPanel(self.document)

    def _initial_sizes(self) -> None:
        self.resizeDocks([self.palette_dock], [250], Qt.Horizontal)
        self.resizeDocks([self.inspector_dock], [420], Qt.Horizontal)
        bottoms = [(d, h) for d, h in ((self.preview_dock, 230), (self.timeline_dock, 60),
                                       (getattr(self, "maneuver_strip_dock", None), 110)) if d is not None]
        self.resizeDocks([d for d, _ in bottoms], [h for _, h in bottoms], Qt.Vertical)
        if self.view3d_dock is not None:
            self.resizeDocks([self.inspector_dock, self.view3d_dock], [520, 420], Qt.Vertical)
        self.resizeDocks([self.palette_dock, self.environment_dock], [420, 200], Qt.Vertical)

    def _build_status_bar(self) -> None:
        self.status_message = ElidedLabel()  # long hints are cut, never widen the window
        self.checks_label = QLabel("checks: …")
        self.checks_label.setToolTip("engine.checks on the whole clip, after every edit; the Checks dock lists them")
        self.cursor_label = QLabel()
        self.cursor_label.setMinimumWidth(180)
        sb = self.statusBar()
        sb.addWidget(self.status_message, 1)
        sb.addPermanentWidget(self.checks_label)
        sb.addPermanentWidget(self.cursor_label)
        self.canvas.mouse_moved.connect(lambda x, y: self.cursor_label.setText(f"x {x:8.2f} m   y {y:8.2f} m"))

    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(shortcut)
        if tip:
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({QKeySequence(shortcut).toString()})" if shortcut else tip)
        a.triggered.connect(lambda _=False: slot())
        if menu is not None:
            menu.addAction(a)
        else:
            self.addAction(a)
        return a

    def _build_menus(self) -> None:
        mb = self.menuBar()
        c = self.controller
        file_menu = mb.addMenu("&File")
        self.action_new = self._action(file_menu, "&New scenario", self.new_document, QKeySequence.New)
        self.action_open = self._action(file_menu, "&Open…", self.open_dialog, QKeySequence.Open)
        self.action_open_demo = self._action(file_menu, "Open &Demo", lambda: self.open_file(DEMO_SCENARIO))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        self.action_save = self._action(file_menu, "&Save", self.save, QKeySequence.Save)
        self.action_save_as = self._action(file_menu, "Save &As…", self.save_as, QKeySequence.SaveAs)
        file_menu.addSeparator()
        self.action_quit = self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)
        self.file_menu = file_menu

        edit_menu = mb.addMenu("&Edit")
        self.action_undo = self._action(edit_menu, "Undo", lambda: self.document.undo(), QKeySequence.Undo)
        self.action_redo = self._action(edit_menu, "Redo", lambda: self.document.redo(), QKeySequence.Redo)
        edit_menu.addSeparator()
        self.action_delete = self._action(edit_menu, "&Delete", c.delete_selection, QKeySequence.Delete,
                                          "Delete the selected waypoint, or the selected agents")
        self.action_duplicate = self._action(edit_menu, "D&uplicate", c.duplicate_selection, "Ctrl+D",
                                             "Duplicate the selected agents")
        self.action_rotate_left = self._action(edit_menu, "Rotate left 5°", lambda: c.rotate_selection(1), "[")
        self.action_rotate_right = self._action(edit_menu, "Rotate right 5°", lambda: c.rotate_selection(-1), "]")
        self.action_snap_now = self._action(edit_menu, "Move onto &lane centre", c.snap_selection_to_lane, "L",
                                            "Move the selected agents onto the nearest lane centre line")
        edit_menu.addSeparator()
        self.action_select_none = self._action(edit_menu, "Cancel / select &none", c.escape, "Esc",
                                               "Cancel a drag, leave the waypoint tool, or clear the selection")
        self.edit_menu = edit_menu

        tools = mb.addMenu("&Tools")
        self.tool_group = QActionGroup(self)
        self.action_tool_select = self._action(tools, "&Select and move", lambda: c.set_mode("select"), "V",
                                               "Select, drag agents and waypoints, rotate with the handle")
        self.action_tool_waypoints = self._action(tools, "Add &waypoints", lambda: c.set_mode("waypoints"), "W",
                                                  "Click on the map to append waypoints to the selected agent")
        for a in (self.action_tool_select, self.action_tool_waypoints):
            a.setCheckable(True)
            self.tool_group.addAction(a)
        self.action_tool_select.setChecked(True)
        tools.addSeparator()
        self.action_snap = QAction("Snap to &lane centres", self)
        self.action_snap.setCheckable(True)
        self.action_snap.setChecked(c.snap_enabled)
        self.action_snap.setShortcut("S")
        self.action_snap.setToolTip("Snap dragged agents and waypoints to lane centre lines (S; hold Shift to invert)")
        self.action_snap.toggled.connect(self._set_snap)
        tools.addAction(self.action_snap)
        self.action_recheck = self._action(tools, "Run &checks now", self.checks.run)
        self.tools_menu = tools

        self.view_menu = mb.addMenu("&View")
        self._action(self.view_menu, "&Frame scenario", self.canvas.frame_scenario, "F")
        self._action(self.view_menu, "Frame &selection", self._frame_selection, "Shift+F")
        self.view_menu.addSeparator()
        self.panels_menu = self.view_menu.addMenu("&Panels")
        for a in self.view_menu_actions:
            self.panels_menu.addAction(a)
        self._action(self.view_menu, "&Reset layout", self.reset_layout)

        play = mb.addMenu("&Playback")
        t = self.timeline
        self.action_play = self._action(play, "Play / pause", t.toggle_play, Qt.Key_Space)
        self._action(play, "Next frame", lambda: t.step(1), Qt.Key_Right)
        self._action(play, "Previous frame", lambda: t.step(-1), Qt.Key_Left)
        self._action(play, "Next key frame", lambda: t.step_keyframe(1), "Shift+Right")
        self._action(play, "Previous key frame", lambda: t.step_keyframe(-1), "Shift+Left")
        self._action(play, "First frame", lambda: self.document.set_frame(0), Qt.Key_Home)
        self._action(play, "Last frame", lambda: self.document.set_frame(self.document.scenario.num_frames - 1),
                     Qt.Key_End)
        self.playback_menu = play

        self.help_menu = mb.addMenu("&Help")
        self._action(self.help_menu, "&Keyboard and mouse", self._show_help, QKeySequence.HelpContents)
        self._update_undo_actions()

    def _build_toolbar(self) -> None:
        tb = QToolBar("Main toolbar", self)
        tb.setObjectName("MainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonTextOnly)
        for a in (self.action_open, self.action_save):
            tb.addAction(a)
        tb.addSeparator()
        tb.addAction(self.action_undo)
        tb.addAction(self.action_redo)
        tb.addSeparator()
        self.action_tool_select.setIconText("Select")
        self.action_tool_waypoints.setIconText("Add waypoints")
        self.action_snap.setIconText("Snap to lanes")
        tb.addAction(self.action_tool_select)
        tb.addAction(self.action_tool_waypoints)
        tb.addAction(self.action_snap)
        tb.addSeparator()
        tb.addAction(self.action_delete)
        tb.addAction(self.action_duplicate)
        self.toolbar = tb
        self.addToolBar(Qt.TopToolBarArea, tb)

    def _connect_document(self) -> None:
        ev = self.document.events
        ev.history_changed.connect(self._update_undo_actions)
        ev.scenario_changed.connect(self._on_scenario_changed)
        ev.dirty_changed.connect(self._on_dirty)
        ev.path_changed.connect(self._on_path)
        ev.command_done.connect(self.show_message)
        ev.time_changed.connect(self._on_time)

    def _disconnect_document(self) -> None:
        ev = self.document.events
        ev.history_changed.disconnect(self._update_undo_actions)
        ev.scenario_changed.disconnect(self._on_scenario_changed)
        ev.dirty_changed.disconnect(self._on_dirty)
        ev.path_changed.disconnect(self._on_path)
        ev.command_done.disconnect(self.show_message)
        ev.time_changed.disconnect(self._on_time)

    def _connect_panels(self) -> None:
        for src in (self.controller, self.inspector, self.environment):
            src.message.connect(self.show_message)
        if hasattr(self.prompt_panel, "message"):
            self.prompt_panel.message.connect(self.show_message)
        self.controller.mode_changed.connect(
            lambda m: (self.action_tool_waypoints if m == "waypoints" else self.action_tool_select).setChecked(True))
        self.palette.entry_activated.connect(self._add_at_view_centre)
        self.checks.report_ready.connect(self._on_report)
        self.checks_panel.finding_activated.connect(
            lambda f: self.show_message(f"{f.code} at {f.t_start:.2f} s: {f.message}", 10000))
        self.checks.failed.connect(lambda msg: self.checks_label.setText(f"checks failed: {msg}"))
        self.autosave.error.connect(self.show_message)

    # ---- document --------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        """Replace the open document (after Open, New or a restore)."""
        self._disconnect_document()
        self.document = document
        self.controller.set_document(document)
        for panel in (self.environment, self.inspector, self.timeline, self.prompt_panel, self._view3d, self.preview,
                      getattr(self, "maneuver_strip", None)):
            if panel is not None and hasattr(panel, "set_document"):
                panel.set_document(document)
        self.checks.set_document(document)
        self.checks_panel.set_document(document)
        self.autosave.set_document(document)
        self._connect_document()
        self.timeline.set_marks([])
        self.canvas.set_flagged({})
        self._update_title()
        self._update_undo_actions()
        self.document_replaced.emit(document)

    def _on_scenario_changed(self, scenario) -> None:
        if not self.document.is_dragging:
            self._update_undo_actions()

    def _on_time(self, t: float) -> None:
        report = self.checks.report
        self.canvas.set_flagged(flag_levels(report, t))
        self.canvas.set_finding_points(finding_points(report, t))

    def _on_report(self, report) -> None:
        self._on_time(self.document.current_time)
        marks = [Mark(f.t_start, f.t_end, int(f.severity), f"{f.code}: {f.message}") for f in report.findings
                 if int(f.severity) >= 1]
        self.timeline.set_marks(marks)
        self.inspector.set_report(report)
        self.checks_panel.set_report(report, stale=self.document.is_dragging)
        counts = report.counts() if hasattr(report, "counts") else {}
        errors, warnings = counts.get("error", 0), counts.get("warning", 0)
        if errors or warnings:
            parts = ([f"<span style='color:#ff453a'>✖ {errors} error{'s' if errors != 1 else ''}</span>"] if errors else [])
            parts += [f"<span style='color:#ff9f0a'>⚠ {warnings} warning{'s' if warnings != 1 else ''}</span>"] if warnings else []
            self.checks_label.setText("checks: " + "  ".join(parts))
        else:
            self.checks_label.setText("<span style='color:#7ee081'>✔ checks pass</span>")
        self.checks_label.setToolTip("\n".join(str(f) for f in report.findings[:20]) or "no findings")

    def _on_dirty(self, _dirty: bool) -> None:
        self._update_title()

    def _on_path(self, path) -> None:
        self._update_title()
        if path:
            self.ui_state.add_recent(path)

    def _update_undo_actions(self) -> None:
        st = self.document.undo_stack
        self.action_undo.setText(st.undo_label())
        self.action_redo.setText(st.redo_label())
        for action, short in ((self.action_undo, "Undo"), (self.action_redo, "Redo")):
            # the toolbar keeps a short, fixed label (a long "Undo Move waypoint 10 of car_1" shifted every
            # button after it); the menu and the tooltip name the step
            action.setIconText(short)
            action.setToolTip(f"{action.text()} ({action.shortcut().toString(QKeySequence.NativeText)})")
        self.action_undo.setEnabled(st.can_undo)
        self.action_redo.setEnabled(st.can_redo)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name()}[*] — {APP_NAME}")
        self.setWindowModified(self.document.is_dirty)

    def show_message(self, text: str, timeout_ms: int = 6000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def _set_snap(self, on: bool) -> None:
        self.controller.snap_enabled = on
        self.ui_state.set_flag("snap_to_lanes", on)
        self.show_message("Snapping to lane centre lines " + ("on" if on else "off"))

    def _frame_selection(self) -> None:
        if self.document.selection:
            self.canvas.frame_agent(self.document.selection[0])

    def _add_at_view_centre(self, cls: str, asset: str) -> None:
        r = self.canvas.getPlotItem().vb.viewRect()
        self.controller.drop(cls, asset, r.center().x(), r.center().y())

    def _show_help(self) -> None:
        QMessageBox.information(self, "Keyboard and mouse", (
            "Map: drag an agent's body to move its whole path (Alt+drag a white waypoint handle to move only that "
            "waypoint), drag the round handle ahead of the selected agent to rotate it about where it is now; "
            "Shift+drag on the empty map selects the agents in the rectangle, dragging one moves them all; "
            "arrow keys on the map nudge the selection (Shift: 0.1 m); drag on the empty map to pan, wheel "
            "to zoom.\n\n"
            "Click selects (Shift+click adds), double click on a selected path inserts a waypoint, "
            "Ctrl+click (or the Waypoints tool, W) appends one. S toggles snapping to lane centres "
            "(hold Shift to invert while dragging), Esc cancels a drag.\n\n"
            "Delete removes the selected waypoint or agents, Ctrl+D duplicates, [ and ] rotate by 5°, "
            "L moves onto the nearest lane centre.\n\n"
            "Space plays, Left/Right step a frame (when the map does not have the focus with a selection), "
            "Shift+Left/Right a key frame, Home/End jump.\n\n"
            "Camera preview: double-click a camera to enlarge it (again to go back), right-click it to choose "
            "its own map. Checks dock: click a finding to select its agents and go to its time."))

    # ---- layout and settings ------------------------------------------------------------
    def _restore_layout(self) -> None:
        geo = self.ui_state.bytes_value("window/geometry")
        state = self.ui_state.bytes_value("window/state")
        if self.ui_state.text("window/layout_version") != str(LAYOUT_VERSION):
            return
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        if isinstance(state, QByteArray):
            self._layout_restored = bool(self.restoreState(state, LAYOUT_VERSION))

    def _save_layout(self) -> None:
        self.ui_state.set_value("window/geometry", self.saveGeometry())
        self.ui_state.set_value("window/state", self.saveState(LAYOUT_VERSION))
        # the docks made after the first paint are restored by name (start_deferred): note which were closed
        self.ui_state.set_text("window/closed_docks", ",".join(
            sorted(d.objectName() for d in self.docks.values() if not d.toggleViewAction().isChecked())))
        self.ui_state.set_text("window/layout_version", str(LAYOUT_VERSION))
        self.ui_state.sync()

    def reset_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self._initial_sizes()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.ui_state.recent_files()
        if not files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
            return
        for f in files:
            a = self.recent_menu.addAction(f)
            a.triggered.connect(lambda _=False, p=f: self._open_recent(p))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear list").triggered.connect(lambda: self.ui_state.set_value("recent_files", []))

    def _open_recent(self, path: str) -> None:
        if not Path(path).exists():
            QMessageBox.warning(self, APP_NAME, f"{path} no longer exists; removed from the recent files.")
            self.ui_state.remove_recent(path)
            return
        self.open_file(path)

    # ---- files -----------------------------------------------------------------------
    def new_document(self) -> None:
        if not self.maybe_save():
            return
        from engine.roadmap.procedural import straight_road_map
        from engine.scenario.model import Scenario

        self.set_document(Document(Scenario(name="untitled", map=straight_road_map())))
        self.show_message("New scenario: drag assets from the palette onto the road")

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open scenario", self.dialog_folder(), FILE_FILTER)
        if path:
            self.ui_state.set_last_folder("scenarios", path)
            self.open_file(path, ask=False)

    def dialog_folder(self) -> str:
        """Where Open / Save As start: the open file's folder unless it is a bundled one (the demo), else
        the last folder used, else the home folder."""
        from engine.paths import RESOURCES_DIR

        p = self.document.path
        if p is not None and not Path(p).resolve().is_relative_to(RESOURCES_DIR.resolve()) and Path(p).parent.is_dir():
            return str(Path(p).parent)
        return self.ui_state.last_folder("scenarios")

    def open_file(self, path: str | os.PathLike, ask: bool = True) -> bool:
        """Open a scenario file; shows every problem in a dialog when it is invalid."""
        if ask and not self.maybe_save():
            return False
        try:
            doc = Document.open(path)
        except ScenarioFormatError as e:
            self.show_problems(f"Cannot open {Path(path).name}", e)
            return False
        self.set_document(doc)
        self.ui_state.add_recent(path)
        self.show_message(f"Opened {path}")
        return True

    def show_problems(self, title: str, error: ScenarioFormatError) -> None:
        box = QMessageBox(QMessageBox.Warning, title,
                          f"{len(error.problems)} problem(s) found; nothing was changed.", parent=self)
        box.setDetailedText("\n".join(str(p) for p in error.problems))
        box.setInformativeText("\n".join(str(p) for p in error.problems[:8]))
        box.exec()

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        name = self.document.path.name if self.document.path else f"{self.document.scenario.name}.json"
        start = str(Path(self.dialog_folder()) / name)
        path, _ = QFileDialog.getSaveFileName(self, "Save scenario as", start, FILE_FILTER)
        if path:
            self.ui_state.set_last_folder("scenarios", path)
        return self._save_to(path) if path else False

    def _save_to(self, path) -> bool:
        try:
            self.document.save(path)
        except OSError as e:
            QMessageBox.critical(self, "Save failed", f"Could not write {path}:\n{e}\nThe scenario is still open "
                                 "and autosaved for recovery.")
            return False
        self.ui_state.add_recent(path)
        self.show_message(f"Saved {path}")
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.document.is_dirty:
            return True
        r = QMessageBox.question(
            self, APP_NAME, f"Save changes to {self.document.display_name()}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if r == QMessageBox.Save:
            return self.save()
        return r == QMessageBox.Discard

    # ---- crash recovery ------------------------------------------------------------------
    def offer_restore(self) -> bool:
        """After a crash: offer the newest orphaned recovery file; True when it was restored."""
        orphans = self.autosave.orphans()
        if not orphans:
            return False
        rec = orphans[0]
        answer = ask_restore(self, rec, len(orphans) - 1)
        if answer == QMessageBox.Discard:
            self.autosave.store.remove(rec)
            self.show_message("Recovered work discarded")
            return False
        if answer != QMessageBox.Yes:
            return False
        try:
            doc = self.autosave.store.load(rec)
        except ScenarioFormatError as e:
            self.show_problems("Cannot restore the recovered work", e)
            return False
        self.set_document(doc)
        self.autosave.tick()  # our own recovery file takes over before the orphan goes
        self.autosave.store.remove(rec)
        self.show_message(f"Restored unsaved work of {rec.describe()} — save it to keep it")
        return True

    def shutdown(self) -> None:
        """Stop background threads (render, checks) and the autosave; idempotent."""
        if getattr(self, "_shut", False):
            return
        self._shut = True
        self.timeline._timer.stop()
        if self.preview is not None:
            self.preview.shutdown()
        if hasattr(self.prompt_panel, "shutdown"):
            self.prompt_panel.shutdown()
        self.checks.stop()
        for feature in (getattr(self, "generation", None), getattr(self, "export_actions", None)):
            if feature is not None:
                feature.shutdown()
        self.autosave.close()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.maybe_save():
            self._save_layout()
            self.shutdown()
            event.accept()
        else:
            event.ignore()


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the studio's name and dark Fusion style (one per process)."""
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    theme.apply_dark_theme(app)
    return app


def run_app(path: str | None = None) -> int:
    """Open the editor on `path` (default: the bundled demo), offer crash recovery, run the event loop."""
    import pyqtgraph as pg

    app = create_app()
    pg.setConfigOptions(antialias=True)
    target = Path(path) if path else DEMO_SCENARIO
    error = None
    try:
        doc = Document.open(target)
    except ScenarioFormatError as e:
        print(str(e), file=sys.stderr)
        doc, error = Document(), e
    window = MainWindow(doc, defer_heavy=True)
    window.show()
    window.call_after_first_paint(window.start_deferred)
    if error is not None:
        window.show_problems(f"Cannot open {target.name}", error)
    elif path:
        window.ui_state.add_recent(target)
    QTimer.singleShot(300, window.offer_restore)
    return app.exec()
