"""Argument checks run before a transfer touches the server or the disk."""

from __future__ import annotations

import os
from pathlib import Path

import anyio.from_thread

__all__ = ["existing_dir", "positive_int", "writable_target_dir"]


def positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int >= 1; else a TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int >= 1, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def existing_dir(what: str, path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if it is an existing directory (FileNotFoundError/NotADirectoryError)."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} {os.fspath(path)!r} does not exist")
    if not p.is_dir():
        raise NotADirectoryError(f"{what} {os.fspath(path)!r} is not a directory")
    return p


def writable_target_dir(what: str, path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path if it is a directory or can be created as one."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise NotADirectoryError(f"{what} {os.fspath(path)!r} exists and is not a directory")
    return p


def thread_checkpoint() -> None:
    """In an anyio worker thread, raise the host task's cancellation if it was cancelled.

    Long loops in worker threads (hashing a big file, scanning a big tree) call this
    between steps so that Ctrl-C or a task cancel stops them promptly; outside a worker
    thread it does nothing.
    """
    try:
        anyio.from_thread.check_cancelled()
    except RuntimeError:  # not running in an anyio worker thread
        return


def require_id(name: str, value: object) -> str:
    """``value`` if it is a non-empty string id (model ids may be ``UNSET``); else ValueError."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty id string, got {value!r}")
    return value
