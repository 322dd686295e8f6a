"""Lazy walk of a local directory tree (symlinks and special files are skipped)."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

__all__ = ["LocalFile", "LocalTree", "iter_files", "scan_tree"]


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A regular file to upload: its path, its directory and its key relative to the root."""

    path: Path
    rel_dir: str
    """Relative directory, POSIX separators, ``""`` for the root."""
    name: str
    size: int

    @property
    def key(self) -> str:
        """Relative path with POSIX separators (the journal key)."""
        return f"{self.rel_dir}/{self.name}" if self.rel_dir else self.name


@dataclass(frozen=True, slots=True)
class LocalTree:
    """Directories (parents before children) and totals of a local tree."""

    root: Path
    dirs: list[str]
    """Relative directories (POSIX separators), excluding the root, sorted by depth."""
    file_count: int
    total_bytes: int


def _entries(path: Path) -> list[os.DirEntry[str]]:
    with os.scandir(path) as it:
        return sorted(it, key=lambda e: e.name)


def _scan(root: Path) -> LocalTree:
    dirs: list[str] = []
    files = 0
    total = 0
    stack = [""]
    while stack:
        rel = stack.pop()
        for entry in _entries(root / rel if rel else root):
            if entry.is_symlink():
                continue
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                dirs.append(child)
                stack.append(child)
            elif entry.is_file(follow_symlinks=False):
                files += 1
                total += entry.stat(follow_symlinks=False).st_size
    dirs.sort(key=lambda d: (d.count("/"), d))
    return LocalTree(root, dirs, files, total)


async def scan_tree(root: str | os.PathLike[str]) -> LocalTree:
    """Count files and bytes and list directories under ``root`` (in a worker thread)."""
    path = Path(root)
    if not path.is_dir():
        raise NotADirectoryError(f"{os.fspath(root)!r} is not a directory")
    return await anyio.to_thread.run_sync(_scan, path)


def _files_in(root: Path, rel: str) -> list[LocalFile]:
    out = []
    for entry in _entries(root / rel if rel else root):
        if entry.is_symlink():
            continue
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISREG(st.st_mode):
            out.append(LocalFile(Path(entry.path), rel, entry.name, st.st_size))
    return out


async def iter_files(tree: LocalTree) -> AsyncIterator[LocalFile]:
    """Yield every regular file, one directory listing at a time (off the event loop)."""
    for rel in ["", *tree.dirs]:
        for item in await anyio.to_thread.run_sync(_files_in, tree.root, rel):
            yield item
