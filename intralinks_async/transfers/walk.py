"""Lazy walk of a local directory tree.

Symbolic links are never followed, whether they point inside or outside the tree (a
link out of the data room could pull in anything; a link inside would store the same
content twice). Neither they nor special files (FIFOs, sockets, devices) are dropped
silently: they come out of the walk as entries with ``kind`` ``"symlink"`` or
``"special"``, as do the temporary files of an interrupted download (``"partial"``,
incomplete by definition), which ``upload_tree`` reports as failures
(:class:`~intralinks_async.transfers.errors.SkippedEntryError`). Paths in ``exclude``
(the migration's own journal files) are left out entirely.

The walk never aborts: a directory that cannot be read (permissions, removed meanwhile)
or an entry that cannot be examined becomes an ``"unreadable"`` entry carrying its
error, and everything else is walked.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio.to_thread

from intralinks_async.transfers._checks import thread_checkpoint
from intralinks_async.transfers.names import is_temp_name

__all__ = [
    "BATCH",
    "EntryKind",
    "LocalFile",
    "LocalTree",
    "iter_batches",
    "iter_files",
    "scan_tree",
]

EntryKind = Literal["file", "symlink", "special", "partial", "unreadable"]


@dataclass(frozen=True, slots=True)
class LocalFile:
    """An entry to upload: its path, its directory and its key relative to the root."""

    path: Path
    rel_dir: str
    """Relative directory, POSIX separators, ``""`` for the root."""
    name: str
    size: int
    kind: EntryKind = "file"
    """``"file"`` (uploaded) or a skipped ``"symlink"``/``"special"``/``"partial"``/
    ``"unreadable"`` (an entry or a whole directory, ``name`` ending in ``/``)."""
    error: str | None = None
    """Why an ``"unreadable"`` entry could not be read."""

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
    """Entries the walk yields: regular files plus skipped links and special files."""
    total_bytes: int
    exclude: frozenset[str] = frozenset()
    """Absolute paths left out of the walk."""
    unreadable: tuple[LocalFile, ...] = ()
    """Directories that could not be listed (``kind="unreadable"``)."""


#: Directory entries read per worker-thread hop (a flat directory of a million files is
#: never held in memory at once).
BATCH = 256


def _describe(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def _kind(entry: os.DirEntry[str]) -> tuple[EntryKind | None, int]:
    """(kind, size) of an entry; kind None for a directory."""
    try:
        if entry.is_symlink():
            return "symlink", 0
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return "unreadable", 0
    if stat.S_ISDIR(st.st_mode):
        return None, 0
    if stat.S_ISREG(st.st_mode):
        if is_temp_name(entry.name):
            return "partial", 0
        return "file", st.st_size
    return "special", 0


def _scan(root: Path, exclude: frozenset[str]) -> LocalTree:
    dirs: list[str] = []
    unreadable: list[LocalFile] = []
    files = 0
    total = 0
    stack = [""]
    while stack:
        rel = stack.pop()
        thread_checkpoint()
        try:
            with os.scandir(root / rel if rel else root) as it:
                for n, entry in enumerate(it, 1):
                    if n % BATCH == 0:
                        thread_checkpoint()
                    if entry.path in exclude:
                        continue
                    kind, size = _kind(entry)
                    child = f"{rel}/{entry.name}" if rel else entry.name
                    if kind is None:
                        dirs.append(child)
                        stack.append(child)
                    else:
                        files += 1
                        total += size
        except OSError as exc:
            if not rel:
                raise
            parent, _, name = rel.rpartition("/")
            unreadable.append(
                LocalFile(root / rel, parent, name + "/", 0, "unreadable", _describe(exc))
            )
            dirs.remove(rel)
    dirs.sort(key=lambda d: (d.count("/"), d))
    return LocalTree(root, dirs, files + len(unreadable), total, exclude, tuple(unreadable))


async def scan_tree(
    root: str | os.PathLike[str], *, exclude: Collection[str | os.PathLike[str]] = ()
) -> LocalTree:
    """Count entries and bytes and list directories under ``root`` (in a worker thread)."""
    path = Path(root)
    if not path.is_dir():
        raise NotADirectoryError(f"{os.fspath(root)!r} is not a directory")
    skip = frozenset(os.fspath(p) for p in exclude)
    return await anyio.to_thread.run_sync(_scan, path, skip)


def _next_batch(
    it: Iterator[os.DirEntry[str]], root: Path, rel: str, exclude: frozenset[str]
) -> list[LocalFile]:
    out: list[LocalFile] = []
    for entry in it:
        if entry.path in exclude:
            continue
        kind, size = _kind(entry)
        if kind is not None:
            error = "the entry could not be examined" if kind == "unreadable" else None
            out.append(LocalFile(Path(entry.path), rel, entry.name, size, kind, error))
            if len(out) >= BATCH:
                break
    return out


async def iter_batches(tree: LocalTree) -> AsyncIterator[list[LocalFile]]:
    """Every entry, directory by directory, :data:`BATCH` entries per thread hop.

    Directories the scan could not list come first, as ``"unreadable"`` entries.
    """
    if tree.unreadable:
        yield list(tree.unreadable)
    for rel in ["", *tree.dirs]:
        path = tree.root / rel if rel else tree.root
        try:
            it = await anyio.to_thread.run_sync(os.scandir, path)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                continue  # removed since the scan
            parent, _, name = rel.rpartition("/")
            yield [LocalFile(path, parent, name + "/", 0, "unreadable", _describe(exc))]
            continue
        try:
            while batch := await anyio.to_thread.run_sync(
                _next_batch, it, tree.root, rel, tree.exclude
            ):
                yield batch
        except OSError as exc:
            parent, _, name = rel.rpartition("/")
            yield [LocalFile(path, parent, name + "/", 0, "unreadable", _describe(exc))]
        finally:
            it.close()


async def iter_files(tree: LocalTree) -> AsyncIterator[LocalFile]:
    """Yield every entry of :func:`iter_batches` one at a time."""
    async for batch in iter_batches(tree):
        for item in batch:
            yield item
