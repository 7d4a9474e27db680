"""Atomic file writing: a temporary file in the same folder, flushed, fsynced, renamed."""
from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` so that readers see the old file or the whole new one, never a part."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; keep the mode of the file we replace, or the usual 0644
        os.chmod(tmp, (path.stat().st_mode & 0o777) if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:          # cleanup then re-raise: no temporary file is left by any failure
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """UTF-8 text, written atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = 2) -> Path:
    """JSON (no NaN/Infinity), written atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, allow_nan=False) + "\n")


def write_error_message(path: str | os.PathLike[str], exc: BaseException) -> str:
    """One line for a failed write: the path and the reason in words (disk full, read-only, no
    permission, a folder...), never a traceback. Use: `error: {write_error_message(p, e)}`."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EISDIR: "it is a folder, not a file",
        errno.ENOTDIR: "a part of the path is not a folder",
        errno.EEXIST: "a file is in the way (a part of the path is a file, not a folder)",
        errno.ENAMETOOLONG: "the name is too long",
        errno.EBUSY: "the path is busy (a mount point?)",
    }
    code = getattr(exc, "errno", None)
    reason = reasons.get(code) if code is not None else None
    if reason is None:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"cannot write {path}: {reason}"


# ------------------------------------------------------------------------------ staging folders
class StagingDir:
    """A staging folder `path` owned by this process while `lock` (the sibling `<path>.lock`, held
    with an exclusive flock) is held. A run that is killed releases the lock with its process, so
    the next run's `clean_stale_staging` removes what it left behind; folders of live runs stay.

    Use: ``s = StagingDir.create(parent, prefix)``; write into ``s.path``; ``s.release()`` at the end
    (removes the folder if still there, and the lock file)."""

    def __init__(self, path: Path, lock_fd: int | None) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._fd = lock_fd

    @classmethod
    def create(cls, parent: str | os.PathLike[str], prefix: str, make_dir: bool = True) -> "StagingDir":
        """Clean stale staging folders with `prefix` in `parent`, then lock and (with `make_dir`)
        create a new one."""
        import uuid

        parent = Path(parent)
        parent.mkdir(parents=True, exist_ok=True)
        clean_stale_staging(parent, prefix)
        path = parent / f"{prefix}{uuid.uuid4().hex[:12]}"
        fd = _lock(path.with_name(path.name + ".lock"))
        if make_dir:
            path.mkdir()
        return cls(path, fd)

    def release(self, remove: bool = True) -> None:
        """Remove the folder (unless `remove` is False) and the lock file; unlock."""
        import shutil

        if remove:
            shutil.rmtree(self.path, ignore_errors=True)
        try:
            self.lock_path.unlink()
        except OSError:
            pass
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None


def _lock(lock_path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:                          # no flock (Windows): no stale detection
        return None
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, str(os.getpid()).encode())
    except OSError:
        os.close(fd)
        raise
    return fd


def _is_stale(lock_path: Path) -> bool:
    """True when nobody holds `lock_path` (or it does not exist)."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(lock_path, os.O_RDWR)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False                              # a live run holds it
    finally:
        os.close(fd)
    return True


def clean_stale_staging(parent: str | os.PathLike[str], prefix: str, *, report: bool = True) -> list[Path]:
    """Remove staging folders `parent/<prefix>*` (and their lock files) that no live run holds.

    Returns what was removed; with `report`, says so on the 'cornercase.staging' logger (shown on
    stderr as a warning). Folders of runs that are still going are left alone."""
    import logging
    import shutil

    parent = Path(parent)
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith(prefix) or name.endswith(".lock"):
            continue
        lock = entry.with_name(name + ".lock")
        if not _is_stale(lock):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            try:
                entry.unlink()
            except OSError:
                continue
        try:
            lock.unlink()
        except OSError:
            pass
        removed.append(entry)
    for entry in entries:                         # lock files whose folder is gone
        if entry.name.startswith(prefix) and entry.name.endswith(".lock") and entry.exists() \
                and not entry.with_name(entry.name[:-5]).exists() and _is_stale(entry):
            try:
                entry.unlink()
            except OSError:
                pass
    if removed and report:
        logging.getLogger("cornercase.staging").warning(
            "removed %d staging folder(s) left by an interrupted run: %s", len(removed),
            ", ".join(str(p) for p in removed))
    return removed
