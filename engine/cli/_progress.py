"""Command-line progress bars on stderr, drawn by tqdm (imported only when a bar is first drawn).

    bars = StageBars(enabled)          export: one bar per stage (generate, write, merge)
    bars.update(stage, done, total, message); bars.close()
    bar = CountBar(total, label)       batch: variants finished of those to run
    steps = StepBar(enabled)           generate: an `engine.worldmodel.events.StepProgress` callback

On a terminal tqdm redraws in place; elsewhere (logs, CI, a captured stream) it writes its updates
separated by carriage returns, rate-limited to one every ``MIN_INTERVAL_S``, and the final state once.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

MIN_INTERVAL_S = 0.1


def _tqdm(total: int, desc: str = "", unit: str = "it", bar_format: str | None = None) -> tqdm[Any]:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc or None, unit=unit, file=sys.stderr, mininterval=MIN_INTERVAL_S,
                bar_format=bar_format, dynamic_ncols=True, leave=True)


class CountBar:
    """``label: 35%|███▌      | 7/20 [00:12<00:22, 0.58variant/s, message]``: `done` of `total`."""

    def __init__(self, total: int, label: str = "", unit: str = "it") -> None:
        self._bar = _tqdm(max(int(total), 0), label, unit)

    def update(self, done: int, message: str = "") -> None:
        """Move to `done` (absolute, not an increment), with `message` after the counts."""
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.update(int(done) - self._bar.n)

    def close(self) -> None:
        self._bar.close()


class StageBars:
    """One `CountBar` per stage of a job; a new stage closes the previous stage's bar."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._stage: str | None = None
        self._bar: CountBar | None = None

    def update(self, stage: str, done: int, total: int, message: str = "") -> None:
        if not self.enabled:
            return
        if self._bar is None or stage != self._stage:
            self.close()
            self._stage, self._bar = stage, CountBar(total, str(stage))
        self._bar.update(done, message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class StepBar:
    """The overall fraction of a generation, with frame and step:
    ``[##########....] 66.7%  frame 2/3  step 20/20  00:04 elapsed, ~00:02 left``."""

    FORMAT = "[{bar:30}] {percentage:5.1f}%  {desc}  {elapsed} elapsed, ~{remaining} left"

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._bar: tqdm[Any] | None = None

    def __call__(self, event: object) -> None:
        from engine.worldmodel.events import StepProgress

        if not self.enabled or not isinstance(event, StepProgress):
            return
        if self._bar is None:
            self._bar = _tqdm(event.num_frames * event.num_steps, bar_format=self.FORMAT)
        done = event.frame * event.num_steps + event.step
        self._bar.set_description_str(f"frame {event.frame + 1}/{event.num_frames}  step {event.step}/{event.num_steps}",
                                      refresh=False)
        self._bar.update(done - self._bar.n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
