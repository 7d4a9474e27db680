"""Environment panel: time of day, weather and the road map, each change one undoable command."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QToolButton,
                               QVBoxLayout, QWidget)

from editor import commands as C
from editor.document import Document
from engine.roadmap.procedural import intersection_map, straight_road_map
from engine.roadmap.roundabout import roundabout_map
from engine.scenario.model import TIMES_OF_DAY, WEATHERS, Environment

MAP_CHOICES = {
    "4-way intersection": lambda: intersection_map(),
    "Roundabout, 4 arms": lambda: roundabout_map(),
    "Straight road, 2+2 lanes": lambda: straight_road_map(),
    "Straight road, 3+3 lanes": lambda: straight_road_map(lanes_per_direction=3),
    "One-way road, 2 lanes": lambda: straight_road_map(one_way=True),
}
ICONS = {"day": "☀", "dusk": "◐", "night": "☾", "clear": "◯", "rain": "☂", "fog": "≋", "snow": "❄"}


class EnvironmentPanel(QWidget):
    """Segmented buttons for time of day and weather; a procedural map can replace the road map."""

    message = Signal(str)

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.tod_group = QButtonGroup(self)
        self.weather_group = QButtonGroup(self)
        self.tod_buttons = self._segmented(TIMES_OF_DAY, self.tod_group)
        self.weather_buttons = self._segmented(WEATHERS, self.weather_group)
        self.map_box = QComboBox()
        self.map_box.addItems(list(MAP_CHOICES))
        self.apply_map = QPushButton("Replace")
        self.apply_map.setToolTip("Replace the road map (agents stay where they are; undoable)")
        self.summary = QLabel()
        self.summary.setObjectName("panelHint")
        self.summary.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Time of day", self._row(self.tod_buttons))
        form.addRow("Weather", self._row(self.weather_buttons))
        map_row = QHBoxLayout()
        map_row.addWidget(self.map_box, 1)
        map_row.addWidget(self.apply_map)
        form.addRow("New map", map_row)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(form)
        lay.addWidget(self.summary)
        lay.addStretch(1)
        self.tod_group.idClicked.connect(lambda _i: self._apply_env())
        self.weather_group.idClicked.connect(lambda _i: self._apply_env())
        self.apply_map.clicked.connect(self._apply_map)
        self.set_document(document)

    @staticmethod
    def _segmented(names, group: QButtonGroup) -> dict[str, QToolButton]:
        out = {}
        for i, n in enumerate(names):
            b = QToolButton(text=f"{ICONS.get(n, '')} {n}")
            b.setCheckable(True)
            b.setObjectName(f"env_{n}")
            group.addButton(b, i)
            out[n] = b
        return out

    @staticmethod
    def _row(buttons: dict[str, QToolButton]) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(2)
        for b in buttons.values():
            row.addWidget(b)
        row.addStretch(1)
        return row

    def set_document(self, document: Document) -> None:
        if self.document is not None:
            self.document.events.scenario_changed.disconnect(self._sync)
        self.document = document
        self._synced = None
        document.events.scenario_changed.connect(self._sync)
        self._sync(document.scenario)

    def _sync(self, scenario) -> None:
        key = (scenario.environment, scenario.name, scenario.description, len(scenario.agents), scenario.duration,
               scenario.fps)
        if key == getattr(self, "_synced", None):
            return
        self._synced = key
        env = scenario.environment
        if env.time_of_day in self.tod_buttons:
            self.tod_buttons[env.time_of_day].setChecked(True)
        if env.weather in self.weather_buttons:
            self.weather_buttons[env.weather].setChecked(True)
        self.summary.setText(f"<b>{scenario.name}</b> · {len(scenario.agents)} agents + ego · "
                             f"{scenario.duration:.2f} s at {scenario.fps:g} Hz ({scenario.num_frames} frames)"
                             + (f"<br>{scenario.description}" if scenario.description else ""))

    def _selected(self, buttons: dict[str, QToolButton]) -> str:
        return next(n for n, b in buttons.items() if b.isChecked())

    def _apply_env(self) -> None:
        env = Environment(self._selected(self.tod_buttons), self._selected(self.weather_buttons))
        if env != self.document.scenario.environment:
            self._execute(C.SetEnvironment(env, label=f"Set {env.time_of_day}, {env.weather}"))

    def _apply_map(self) -> None:
        name = self.map_box.currentText()
        self._execute(C.SetMap(MAP_CHOICES[name](), label=f"Map: {name}"))

    def _execute(self, command) -> None:
        try:
            self.document.execute(command)
        except ValueError as e:
            self.message.emit(str(e))
            self._synced = None
            self._sync(self.document.scenario)
