"""The main window: BEV canvas in the centre, docks around it, File/Edit menus, status bar."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox

from app.bev_canvas import BevCanvas
from app.timeline import TimelineWidget
from editor.document import Document
from engine.paths import DEMO_SCENARIO
from engine.scenario.errors import ScenarioFormatError

APP_NAME = "Corner-Case Studio"
FILE_FILTER = "Scenario (*.json);;All files (*)"


class MainWindow(QMainWindow):
    """Hosts one Document. Later panels are docks (`add_dock`)."""

    def __init__(self, document: Document | None = None) -> None:
        super().__init__()
        self.document = document or Document()
        self.resize(1600, 950)
        self.setDockNestingEnabled(True)
        self.canvas = BevCanvas(self)
        self.setCentralWidget(self.canvas)
        self.timeline = TimelineWidget(self.document, self)
        self.timeline_dock = self.add_dock("Timeline", self.timeline, Qt.BottomDockWidgetArea)
        self._build_status_bar()
        self._build_menus()
        self._connect_document()
        self.canvas.set_scenario(self.document.scenario, reset_view=True)
        self._update_title()

    # ---- construction ----------------------------------------------------------------
    def add_dock(self, title: str, widget, area=Qt.RightDockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.view_menu_actions = getattr(self, "view_menu_actions", [])
        self.view_menu_actions.append(dock.toggleViewAction())
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _build_status_bar(self) -> None:
        self.status_message = QLabel()
        self.cursor_label = QLabel()
        self.cursor_label.setMinimumWidth(180)
        sb = self.statusBar()
        sb.addWidget(self.status_message, 1)
        sb.addPermanentWidget(self.cursor_label)
        self.canvas.mouse_moved.connect(lambda x, y: self.cursor_label.setText(f"x {x:8.2f} m   y {y:8.2f} m"))

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self.action_open = self._action(file_menu, "&Open…", self.open_dialog, QKeySequence.Open)
        self.action_open_demo = self._action(file_menu, "Open &Demo", lambda: self.open_file(DEMO_SCENARIO))
        file_menu.addSeparator()
        self.action_save = self._action(file_menu, "&Save", self.save, QKeySequence.Save)
        self.action_save_as = self._action(file_menu, "Save &As…", self.save_as, QKeySequence.SaveAs)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.Quit)
        self.file_menu = file_menu

        edit_menu = mb.addMenu("&Edit")
        self.action_undo = self._action(edit_menu, "Undo", self.document.undo, QKeySequence.Undo)
        self.action_redo = self._action(edit_menu, "Redo", self.document.redo, QKeySequence.Redo)
        self.edit_menu = edit_menu

        self.view_menu = mb.addMenu("&View")
        self._action(self.view_menu, "&Frame scenario", self.canvas.frame_scenario, "F")
        self.view_menu.addSeparator()
        for a in getattr(self, "view_menu_actions", []):
            self.view_menu.addAction(a)

        play = QAction("Play / pause", self)
        play.setShortcut(Qt.Key_Space)
        play.triggered.connect(self.timeline.toggle_play)
        self.addAction(play)
        for key, step in ((Qt.Key_Right, 1), (Qt.Key_Left, -1)):
            a = QAction(self)
            a.setShortcut(key)
            a.triggered.connect(lambda _=False, s=step: self.timeline.step(s))
            self.addAction(a)
        self._update_undo_actions()

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(shortcut)
        a.triggered.connect(lambda _=False: slot())
        menu.addAction(a)
        return a

    def _connect_document(self) -> None:
        ev = self.document.events
        ev.scenario_changed.connect(self._on_scenario_changed)
        ev.time_changed.connect(self.canvas.update_time)
        ev.selection_changed.connect(self.canvas.set_selection)
        ev.dirty_changed.connect(lambda d: self._update_title())
        ev.path_changed.connect(lambda p: self._update_title())
        ev.command_done.connect(lambda label: self.show_message(label))
        self.canvas.agent_clicked.connect(lambda aid: self.document.select((aid,)))
        self.canvas.background_clicked.connect(lambda x, y: self.document.select(()))

    # ---- document --------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        """Replace the open document (after Open)."""
        old_time_cb = self.canvas.update_time
        self.document.events.time_changed.disconnect(old_time_cb)
        self.document = document
        self.timeline.deleteLater()
        self.timeline = TimelineWidget(document, self)
        self.timeline_dock.setWidget(self.timeline)
        self.action_undo.triggered.disconnect()
        self.action_redo.triggered.disconnect()
        self.action_undo.triggered.connect(lambda _=False: self.document.undo())
        self.action_redo.triggered.connect(lambda _=False: self.document.redo())
        self._connect_document()
        self.canvas.set_scenario(document.scenario, reset_view=True)
        self._update_title()
        self._update_undo_actions()

    def _on_scenario_changed(self, scenario) -> None:
        self.canvas.set_scenario(scenario)
        self._update_undo_actions()

    def _update_undo_actions(self) -> None:
        st = self.document.undo_stack
        self.action_undo.setText(st.undo_label())
        self.action_redo.setText(st.redo_label())
        self.action_undo.setEnabled(st.can_undo)
        self.action_redo.setEnabled(st.can_redo)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.display_name()}[*] — {APP_NAME}")
        self.setWindowModified(self.document.is_dirty)

    def show_message(self, text: str, timeout_ms: int = 5000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ---- files -----------------------------------------------------------------------
    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open scenario", str(Path.cwd()), FILE_FILTER)
        if path:
            self.open_file(path, ask=False)

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
        start = str(self.document.path or Path.cwd() / f"{self.document.scenario.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save scenario as", start, FILE_FILTER)
        return self._save_to(path) if path else False

    def _save_to(self, path) -> bool:
        try:
            self.document.save(path)
        except OSError as e:
            QMessageBox.critical(self, "Save failed", f"Could not write {path}:\n{e}\nThe scenario is still open.")
            return False
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

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.maybe_save():
            event.accept()
        else:
            event.ignore()


def create_app(argv: list[str] | None = None) -> QApplication:
    """The QApplication with the studio's name and style (one per process)."""
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("CornerCaseStudio")
    app.setStyle("Fusion")
    return app


def run_app(path: str | None = None) -> int:
    """Open the editor on `path` (default: the bundled demo) and run the event loop."""
    import pyqtgraph as pg

    app = create_app()
    pg.setConfigOptions(antialias=True)
    target = Path(path) if path else DEMO_SCENARIO
    try:
        doc = Document.open(target)
    except ScenarioFormatError as e:
        print(str(e), file=sys.stderr)
        doc = Document()
        window = MainWindow(doc)
        window.show()
        window.show_problems(f"Cannot open {target.name}", e)
    else:
        window = MainWindow(doc)
        window.show()
    return app.exec()
