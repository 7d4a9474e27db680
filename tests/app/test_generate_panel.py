"""Generation in the window: docks and menu, a real naive run, a responsive event loop, cancel within a
step, and a backend's exception shown as a message while the window keeps working."""
from __future__ import annotations

import time

import numpy as np

from engine.rig import PANORAMA_ORDER
from engine.worldmodel import FrameReady, GeneratedClip, GenerationDone, StepProgress, WorldModel


class FakeBackend(WorldModel):
    """Sleeps `delay` per step; raises at (frame, step) == fail_at; records the steps it ran."""

    name = "fake"

    def __init__(self, frames=3, steps=4, delay=0.02, fail_at=None, size=(16, 8)):
        self.frames, self.steps, self.delay, self.fail_at, self.size = frames, steps, delay, fail_at, size
        self.ran: list[tuple[int, int]] = []

    def generate(self, conditions, settings, cancel=None):
        w, h = self.size
        out = np.zeros((self.frames, 6, h, w, 3), np.uint8)
        for f in range(self.frames):
            for s in range(self.steps):
                if cancel is not None:
                    cancel.raise_if_cancelled()
                time.sleep(self.delay)
                if self.fail_at == (f, s):
                    raise RuntimeError("boom in the backend")
                self.ran.append((f, s))
                yield StepProgress(s + 1, self.steps, f, self.frames, np.full((6, h, w, 3), 10 * s, np.uint8))
            out[f] = 20 * f
            yield FrameReady(f, self.frames, out[f])
        yield GenerationDone(GeneratedClip(out, PANORAMA_ORDER, 12.0, self.name, settings.seed))


def _install(window, backend=None, **opts):
    from app.generate_panel import install_generation
    from app.generate_settings import GenerationOptions

    factory = None if backend is None else (lambda name, model: backend)
    conditions = None if backend is None else (lambda scenario, size: None)
    options = GenerationOptions(**{"size": "64x32", **opts})
    return install_generation(window, backend_factory=factory, conditions_factory=conditions, options=options,
                              persist=False)


def _wait_outcome(qtbot, panel, timeout=60000):
    with qtbot.waitSignal(panel.outcome, timeout=timeout) as blocker:
        assert panel.generate()
    qtbot.waitUntil(lambda: not panel.running, timeout=timeout)
    return blocker.args


def test_install_adds_docks_and_a_generate_menu(main_window):
    from PySide6.QtWidgets import QDockWidget

    panel = _install(main_window)
    titles = {d.windowTitle() for d in main_window.findChildren(QDockWidget)}
    assert {"Generate", "Generated video"} <= titles
    texts = [a.text() for a in main_window.generate_menu.actions()]
    assert texts == ["&Generate video", "&Cancel generation", "&Play generated video"]
    assert panel.action_generate.shortcut().toString() == "Ctrl+G"
    assert not panel.action_cancel.isEnabled() and not panel.cancel_button.isEnabled()
    assert main_window.generation is panel


def test_naive_generation_fills_the_player_in_panorama_order_and_follows_the_timeline(main_window, qtbot):
    panel = _install(main_window)
    shown = []
    panel.player.frame_shown.connect(shown.append)
    previews = []
    show = panel.player.show_preview
    panel.player.show_preview = lambda f, images, final: (previews.append((f, final, images.shape)),
                                                          show(f, images, final))
    kind, message = _wait_outcome(qtbot, panel)
    assert kind == "done", message
    clip = panel.player.clip
    n = main_window.document.scenario.num_frames
    assert clip.frames.shape == (n, 6, 32, 64, 3) and clip.camera_names == PANORAMA_ORDER
    assert panel.progress.value() == 1000 and panel.action_generate.isEnabled()
    # scrubbing the player moves the document's time; moving the timeline moves the player
    panel.player.slider.setValue(10)
    assert main_window.document.current_frame == 10
    main_window.document.set_frame(20)
    assert panel.player.shown_frame == 20
    front = panel.player.tiles["CAM_FRONT"].image
    assert front is not None and (front.width(), front.height()) == (64, 32)
    assert len(panel.player.results) == 1
    finals = [p for p in previews if p[1]]
    assert [p[0] for p in finals] == list(range(n)) and finals[0][2] == (6, 32, 64, 3)


def test_event_loop_keeps_running_during_generation(main_window, qtbot):
    from PySide6.QtCore import QTimer

    backend = FakeBackend(frames=4, steps=10, delay=0.03)
    panel = _install(main_window, backend)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    progress = []
    with qtbot.waitSignal(panel.outcome, timeout=30000):
        assert panel.generate()
        panel.job.progress.connect(lambda *a: progress.append(a))
        qtbot.waitUntil(lambda: len(progress) >= 3, timeout=10000)
        main_window.document.set_frame(7)                 # editing goes on while it runs
        assert main_window.document.current_frame == 7
        assert panel.running and panel.cancel_button.isEnabled() and not panel.generate_button.isEnabled()
    timer.stop()
    assert len(ticks) > 30                                 # ~1.2 s of generation: the loop ticked throughout
    gaps = np.diff(ticks)
    assert gaps.max() < 0.5
    assert len(progress) >= 20 and panel.player.clip.num_frames == 4


def test_cancel_takes_effect_within_one_step(main_window, qtbot):
    backend = FakeBackend(frames=5, steps=10, delay=0.05)
    panel = _install(main_window, backend)
    with qtbot.waitSignal(panel.outcome, timeout=30000) as blocker:
        assert panel.generate()
        panel.job.progress.connect(lambda *a: panel.cancel() if a[3] == 2 else None)
    assert blocker.args[0] == "cancelled"
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    assert panel.job.steps_after_cancel <= 1
    assert len(backend.ran) <= 3 + 1                       # steps 1, 2 (cancel seen), at most one more
    assert panel.player.clip is None and panel.progress_label.text() == "cancelled"
    assert panel.generate_button.isEnabled()


def test_backend_exception_is_shown_as_a_message_and_editing_goes_on(main_window, qtbot):
    from editor.commands import SetAgent, move_agent

    backend = FakeBackend(frames=3, steps=3, fail_at=(1, 1))
    panel = _install(main_window, backend)
    kind, message = _wait_outcome(qtbot, panel)
    assert kind == "failed" and "boom in the backend" in message
    box = panel.error_box
    assert box is not None and box.isVisible() and not box.isModal()
    assert box.windowTitle() == "Generation failed" and "boom" in box.text()
    assert "RuntimeError" in box.detailedText()
    doc = main_window.document
    doc.execute(SetAgent(move_agent(doc.scenario.agent("truck_1"), 1.0, 0.0)))   # the window still edits
    assert main_window.isWindowModified()
    assert panel.generate_button.isEnabled() and panel.action_generate.isEnabled()
    box.close()


def test_missing_model_folder_is_explained_and_naive_still_works(main_window, qtbot):
    panel = _install(main_window)
    opts = panel.settings_panel.options()

    panel.settings_panel.set_options(opts.replace(backend="diffusion", model_dir=""))
    kind, message = _wait_outcome(qtbot, panel)
    assert kind == "failed" and panel.last_error[0] == "No model folder"
    assert "naive backend works" in message
    panel.error_box.close()
    panel.settings_panel.set_options(opts.replace(backend="naive"))
    kind, _ = _wait_outcome(qtbot, panel)
    assert kind == "done" and panel.player.clip is not None


def test_bad_size_is_refused_before_starting(main_window, qtbot):
    panel = _install(main_window)
    panel.settings_panel.set_options(panel.settings_panel.options())
    panel.settings_panel.size.setCurrentText("big")     # typed into the editable size box
    assert not panel.generate()
    assert panel.last_error[0] == "Check the generation settings" and "448x256" in panel.last_error[1]
    assert panel.job is None
    panel.error_box.close()
