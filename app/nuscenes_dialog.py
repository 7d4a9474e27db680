"""File > Open nuScenes scene…: choose a dataset folder, a version and a scene; open it as a new document.

    install_nuscenes(window)     # adds the actions to a MainWindow (file_menu, tools_menu)

The scene list reads only the dataset's scene / log / sample tables, so it appears at once even
for v1.0-trainval; opening the scene (the devkit database, the tracks, the map) runs on a worker
thread behind a progress dialog, and the window gets a new `Document` with the scene's scenario
(annotated agents locked, `Scenario.source` naming the scene). Tools > Propose insertions… adds
collision-free straight-line insertions (engine.realscene.proposals) as one undoable edit and
selects them, so the user confirms them or moves them on the canvas.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox, QProgressDialog, QPushButton,
                               QSpinBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from app.workers import FunctionWorker
from editor.commands import ReplaceScenario
from editor.document import Document
from engine.classes import class_names
from engine.sources import SceneSourceError, available_versions, list_scenes

SETTINGS_KEY = "nuscenes/dataroot"
COLUMNS = ("Scene", "Location", "Length", "Description")


@dataclass(frozen=True)
class SceneChoice:
    """What the dialog returns: the scene and the clip length (None = the whole scene)."""

    dataroot: str
    version: str
    scene: str
    duration: float | None


class NuScenesDialog(QDialog):
    """Dataroot chooser, version list, scene list with descriptions, clip length."""

    def __init__(self, parent: QWidget | None = None, dataroot: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open nuScenes scene")
        self.resize(860, 520)
        self.root_edit = QLineEdit()
        self.root_edit.setPlaceholderText("folder that holds v1.0-mini/, samples/, sweeps/, maps/")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.root_edit, 1)
        row.addWidget(browse)
        self.version_combo = QComboBox()
        self.scene_list = QTreeWidget()
        self.scene_list.setHeaderLabels(list(COLUMNS))
        self.scene_list.setRootIsDecorated(False)
        self.scene_list.setAlternatingRowColors(True)
        self.scene_list.header().setSectionResizeMode(3, QHeaderView.Stretch)
        self.duration_spin = QDoubleSpinBox()
        self.duration_spin.setRange(0.0, 600.0)
        self.duration_spin.setDecimals(2)
        self.duration_spin.setSingleStep(0.25)
        self.duration_spin.setSpecialValueText("whole scene")
        self.duration_spin.setSuffix(" s")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b")
        self.buttons = QDialogButtonBox(QDialogButtonBox.Open | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Dataset folder", row)
        form.addRow("Version", self.version_combo)
        form.addRow("Clip length", self.duration_spin)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.scene_list, 1)
        lay.addWidget(self.message)
        lay.addWidget(self.buttons)
        self.root_edit.editingFinished.connect(self._load_versions)
        self.version_combo.currentTextChanged.connect(self._load_scenes)
        self.scene_list.itemSelectionChanged.connect(self._update_ok)
        self.scene_list.itemDoubleClicked.connect(lambda *_: self.accept() if self._ok_button().isEnabled() else None)
        start = dataroot if dataroot is not None else QSettings().value(SETTINGS_KEY, "", str)
        self.root_edit.setText(start or "")
        self._load_versions()

    # ---- state -------------------------------------------------------------------------
    def _ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.Open)

    def _update_ok(self) -> None:
        self._ok_button().setEnabled(bool(self.scene_list.selectedItems()))

    def set_dataroot(self, path: str) -> None:
        """Show the versions and scenes of the dataset at `path`."""
        self.root_edit.setText(path)
        self._load_versions()

    def choice(self) -> SceneChoice | None:
        """The selected scene, or None."""
        items = self.scene_list.selectedItems()
        if not items:
            return None
        d = self.duration_spin.value()
        return SceneChoice(self.root_edit.text().strip(), self.version_combo.currentText(),
                           items[0].data(0, Qt.UserRole), d if d > 0 else None)

    def select_scene(self, name: str) -> bool:
        for i in range(self.scene_list.topLevelItemCount()):
            item = self.scene_list.topLevelItem(i)
            if item.data(0, Qt.UserRole) == name:
                self.scene_list.setCurrentItem(item)
                return True
        return False

    # ---- loading -----------------------------------------------------------------------
    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "nuScenes dataset folder", self.root_edit.text() or str(Path.home()))
        if path:
            self.set_dataroot(path)

    def _load_versions(self) -> None:
        root = self.root_edit.text().strip()
        self.version_combo.blockSignals(True)
        self.version_combo.clear()
        self.version_combo.blockSignals(False)
        self.scene_list.clear()
        self.message.clear()
        self._update_ok()
        if not root:
            return
        try:
            versions = available_versions(root)
        except SceneSourceError as e:
            self.message.setText(str(e))
            return
        if not versions:
            self.message.setText(f"{root}: no version folder with nuScenes tables (like v1.0-mini/scene.json) found")
            return
        self.version_combo.addItems(versions)       # fills the scene list through currentTextChanged

    def _load_scenes(self, version: str) -> None:
        self.scene_list.clear()
        self.message.clear()
        if not version:
            return
        try:
            scenes = list_scenes(self.root_edit.text().strip(), version)
        except SceneSourceError as e:
            self.message.setText(str(e))
            return
        for s in scenes:
            item = QTreeWidgetItem([s.name, s.location, f"{s.duration:.1f} s", s.description])
            item.setData(0, Qt.UserRole, s.name)
            item.setToolTip(3, s.description)
            self.scene_list.addTopLevelItem(item)
        for c in range(3):
            self.scene_list.resizeColumnToContents(c)
        if scenes:
            self.scene_list.setCurrentItem(self.scene_list.topLevelItem(0))
        self._update_ok()

    def accept(self) -> None:  # noqa: D102 (Qt name)
        if self.choice() is None:
            return
        QSettings().setValue(SETTINGS_KEY, self.root_edit.text().strip())
        super().accept()


class SceneOpener(FunctionWorker):
    """Opens a scene off the UI thread (`app.workers.FunctionWorker`): `succeeded(NuScenesScene)` or
    `failed(message, details)` arrive on the UI thread; a missing or unreadable dataset fails with its own
    message, anything else as "Type: message"."""

    def __init__(self, choice: SceneChoice, parent=None) -> None:
        super().__init__(lambda _report: _open_choice(choice), parent, expected=(SceneSourceError, OSError))
        self.choice = choice


def _open_choice(c: SceneChoice):
    from engine.sources import open_nuscenes_scene

    return open_nuscenes_scene(c.dataroot, c.version, c.scene, duration=c.duration)


def open_scene(window, choice: SceneChoice) -> SceneOpener:
    """Open `choice` on a worker thread and make it the window's document when done (returns the thread)."""
    progress = QProgressDialog(f"Opening {choice.scene}…", None, 0, 0, window)
    progress.setWindowTitle("Open nuScenes scene")
    progress.setWindowModality(Qt.WindowModal)
    progress.setMinimumDuration(300)
    opener = SceneOpener(choice, window)

    def done(scene) -> None:
        progress.close()
        window.set_document(Document(scene.scenario))
        n_locked = sum(a.locked for a in scene.scenario.agents)
        msg = (f"Opened {scene.source.scene}: {scene.num_frames} frames, {n_locked} annotated agents (locked), "
               f"map from {scene.map_source}")
        if scene.warnings:
            msg += f" — {len(scene.warnings)} warning(s): {scene.warnings[0]}"
        _message(window, msg)

    def failed(text: str, _details: str) -> None:
        progress.close()
        QMessageBox.warning(window, "Cannot open the scene", text)

    opener.succeeded.connect(done)
    opener.failed.connect(failed)
    opener.finished.connect(opener.deleteLater)
    window._nuscenes_opener = opener       # keep the thread alive while it runs
    opener.start()
    return opener


def _message(window, text: str) -> None:
    if hasattr(window, "show_message"):
        window.show_message(text)


# ---------------------------------------------------------------------------------- insertions
class ProposalDialog(QDialog):
    """Class, speed and count of the insertions to propose."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Propose insertions")
        self.class_combo = QComboBox()
        self.class_combo.addItems(class_names())
        self.speed_combo = QComboBox()
        self.speed_combo.addItems(["2, 5 and 8 m/s", "2 m/s", "5 m/s", "8 m/s"])
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 12)
        self.count_spin.setValue(3)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Asset class", self.class_combo)
        form.addRow("Speed", self.speed_combo)
        form.addRow("How many", self.count_spin)
        form.addRow(buttons)

    def speeds(self) -> tuple[float, ...]:
        i = self.speed_combo.currentIndex()
        return (2.0, 5.0, 8.0) if i == 0 else ((2.0,), (5.0,), (8.0,))[i - 1]


def insert_proposals(window, cls: str, speeds: tuple[float, ...], count: int) -> list[str]:
    """Add up to `count` proposed insertions to the window's document as one undoable edit; select them."""
    from engine.realscene.proposals import propose_insertions

    doc = window.document
    before = doc.scenario
    proposals = propose_insertions(before, cls, speeds=speeds, count=count)
    if not proposals:
        _message(window, f"No place found for a {cls}: no free lane space on the drivable area over the whole clip")
        return []
    after = before
    for p in proposals:
        after = after.with_agent(p.agent)
    ids = [p.agent.id for p in proposals]
    doc.execute(ReplaceScenario(f"Insert {len(ids)} proposed {cls}{'s' if len(ids) > 1 else ''}", before, after))
    doc.select(tuple(ids))
    _message(window, f"Inserted {', '.join(ids)}; move them on the canvas or undo")
    return ids


def install_nuscenes(window) -> dict[str, QAction]:
    """Add File > Open nuScenes scene… and Tools > Propose insertions… to a MainWindow; returns the actions."""
    def open_dialog() -> None:
        if hasattr(window, "maybe_save") and not window.maybe_save():
            return
        dlg = NuScenesDialog(window)
        if dlg.exec() == QDialog.Accepted and dlg.choice() is not None:
            open_scene(window, dlg.choice())

    def propose_dialog() -> None:
        dlg = ProposalDialog(window)
        if dlg.exec() == QDialog.Accepted:
            insert_proposals(window, dlg.class_combo.currentText(), dlg.speeds(), dlg.count_spin.value())

    open_action = QAction("Open nuScenes &scene…", window)
    open_action.setStatusTip("Open a scene of a nuScenes-format dataset as a new scenario (annotations locked)")
    open_action.triggered.connect(lambda _=False: open_dialog())
    menu = window.file_menu
    anchor = getattr(window, "action_open_demo", None)
    actions = menu.actions()
    if anchor in actions and actions.index(anchor) + 1 < len(actions):
        menu.insertAction(actions[actions.index(anchor) + 1], open_action)
    else:
        menu.addAction(open_action)
    propose_action = QAction("Propose &insertions…", window)
    propose_action.setStatusTip("Add assets where they collide with nothing over the whole clip")
    propose_action.triggered.connect(lambda _=False: propose_dialog())
    (getattr(window, "tools_menu", None) or window.edit_menu).addAction(propose_action)
    window.action_open_nuscenes = open_action
    window.action_propose_insertions = propose_action
    return {"open": open_action, "propose": propose_action}


__all__ = ["NuScenesDialog", "SceneChoice", "SceneOpener", "ProposalDialog", "install_nuscenes", "insert_proposals",
           "open_scene"]

