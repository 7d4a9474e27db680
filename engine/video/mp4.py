"""H.264 MP4 files with PyAV: a streaming writer that publishes the file atomically on close."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Iterable

import numpy as np
from numpy.typing import NDArray

DEFAULT_CRF = 18
DEFAULT_PRESET = "veryfast"


class Mp4Writer:
    """Write RGB frames (H, W, 3) uint8 to an H.264 MP4 (yuv420p).

    Frames go to a temporary file beside `path`, which replaces `path` only when `close()` succeeds;
    `abort()` (or an exception inside a ``with`` block) removes it and leaves any earlier file intact.
    Odd widths or heights are padded by one edge pixel (yuv420p needs even sizes).
    """

    def __init__(self, path: str | os.PathLike[str], fps: float, crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET) -> None:
        import av

        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp.mp4", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self._container = av.open(str(self._tmp), mode="w", format="mp4")
        from fractions import Fraction

        self._stream = self._container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self._stream.pix_fmt = "yuv420p"
        self._stream.options = {"crf": str(int(crf)), "preset": preset}
        self._size: tuple[int, int] | None = None
        self.frames_written = 0

    def write(self, frame: NDArray[np.uint8]) -> None:
        """Append one (H, W, 3) uint8 RGB frame; every frame must have the size of the first."""
        import av

        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"{self.path.name}: a frame must be (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
        h, w = frame.shape[:2]
        if self._size is None:
            self._size = (w, h)
            self._stream.width = w + (w % 2)
            self._stream.height = h + (h % 2)
        elif self._size != (w, h):
            raise ValueError(f"{self.path.name}: frame {self.frames_written} is {w}x{h}, earlier frames "
                             f"{self._size[0]}x{self._size[1]}")
        if w % 2 or h % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        for packet in self._stream.encode(vf):
            self._container.mux(packet)
        self.frames_written += 1

    def close(self) -> Path:
        """Flush, close and move the file into place; returns its path."""
        if self.frames_written == 0:
            self.abort()
            raise ValueError(f"{self.path.name}: no frames were written")
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            with open(self._tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(self._tmp, self.path)
        except BaseException:   # any failure, even KeyboardInterrupt: drop the partial file, then re-raise
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Drop the partial file (an existing file at `path` is untouched)."""
        try:
            self._container.close()
        except Exception:  # abort runs while another error is handled: a failing close must not mask that error
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "Mp4Writer":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_mp4(frames: NDArray[np.uint8] | Iterable[NDArray[np.uint8]], path: str | os.PathLike[str], fps: float,
              crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET) -> Path:
    """Write (T, H, W, 3) uint8 frames (or an iterable of (H, W, 3)) to an H.264 MP4, atomically."""
    with Mp4Writer(path, fps, crf, preset) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)


def read_mp4(path: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """(T, H, W, 3) uint8 RGB frames of a video file."""
    import av

    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    if not frames:
        raise ValueError(f"{path}: no video frames")
    return np.stack(frames)
