"""Compare a local tree with a workspace folder tree: names, sizes and hashes.

:func:`verify_tree` lists both sides, maps remote names to local ones with the same rules
downloads use (:func:`~intralinks_async.transfers.names.remote_to_local`), compares
sizes and the server's ``fileHash`` (base64 SHA-1) with the local SHA-1, and with
``download=True`` also hashes the stored bytes. Each file becomes a :class:`VerifyEntry`
marked as ``rclone check --combined`` does: ``=`` same, ``-`` missing remotely, ``+``
only remote, ``*`` differs, ``!`` error.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import anyio
import anyio.to_thread

from intralinks_async.transfers._api import doc_hash, doc_size, opt_str
from intralinks_async.transfers._checks import existing_dir, positive_int, thread_checkpoint
from intralinks_async.transfers.manifest import ManifestRecord, write_html_summary
from intralinks_async.transfers.names import IS_WINDOWS, display_name, is_temp_name
from intralinks_async.transfers.names import remote_to_local as _remote_to_local
from intralinks_async.transfers.progress import ProgressCallback, ProgressTracker
from intralinks_async.transfers.window import run_window

__all__ = ["MARKS", "Mark", "VerifyEntry", "VerifyReport", "verify_tree"]

Mark = Literal["=", "-", "+", "*", "!"]
#: What each mark means (also the keys of :attr:`VerifyReport.counts`).
MARKS: dict[Mark, str] = {
    "=": "same",
    "-": "missing_remotely",
    "+": "only_remote",
    "*": "differs",
    "!": "errors",
}
_CHUNK = 1 << 20
Parts = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VerifyEntry:
    """One compared file: its mark, relative local path (POSIX separators) and why."""

    mark: Mark
    path: str
    detail: str = ""
    size: int | None = None
    remote_id: str | None = None

    def line(self) -> str:
        """``"<mark> <path>"``, as ``rclone check --combined`` prints it."""
        return f"{self.mark} {self.path}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "mark": self.mark,
            "result": MARKS[self.mark],
            "path": self.path,
            "detail": self.detail,
            "size": self.size,
            "remote_id": self.remote_id,
        }


@dataclass(slots=True)
class VerifyReport:
    """The outcome of :func:`verify_tree`: one entry per file, sorted by path."""

    local_dir: str
    workspace_id: str
    folder_id: str | None
    """The remote folder compared with ``local_dir`` (None: the workspace root)."""
    download: bool
    entries: list[VerifyEntry] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every entry is ``=`` (both sides hold the same files)."""
        return all(e.mark == "=" for e in self.entries)

    @property
    def counts(self) -> dict[str, int]:
        """Entries per result: ``same``, ``missing_remotely``, ``only_remote``, ``differs``,
        ``errors`` (every key present)."""
        counts = dict.fromkeys(MARKS.values(), 0)
        for entry in self.entries:
            counts[MARKS[entry.mark]] += 1
        return counts

    def lines(self) -> list[str]:
        """One ``"<mark> <path>"`` line per entry."""
        return [e.line() for e in self.entries]

    def summary(self) -> str:
        """A one-line summary, e.g. ``"3 same, 1 missing remotely, ... -> differences"``."""
        parts = [f"{n} {name.replace('_', ' ')}" for name, n in self.counts.items()]
        return ", ".join(parts) + (" -> identical" if self.ok else " -> differences found")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable report."""
        return {
            "ok": self.ok,
            "local_dir": display_name(self.local_dir),
            "workspace_id": self.workspace_id,
            "folder_id": self.folder_id,
            "download": self.download,
            "counts": self.counts,
            "elapsed_seconds": round(self.elapsed, 3),
            "entries": [e.to_dict() for e in self.entries],
        }

    def to_records(self) -> Iterator[ManifestRecord]:
        """The entries as manifest records (``result`` = the mark's meaning)."""
        for e in self.entries:
            result = MARKS[e.mark]
            yield ManifestRecord(
                local_path=None if e.mark == "+" else e.path,
                remote_path=None if e.mark == "-" else e.path,
                result="failed" if e.mark == "!" else result,
                remote_id=e.remote_id,
                size=e.size,
                error=e.detail or None,
            )

    def write_html(self, path: str | os.PathLike[str], *, title: str | None = None) -> None:
        """Write the HTML sign-off summary (blocking; see ``write_html_summary``)."""
        summary = {
            "local directory": display_name(self.local_dir),
            "workspace": self.workspace_id,
            "folder": self.folder_id or "(workspace root)",
            "downloaded and hashed": "yes" if self.download else "no",
            "result": "identical" if self.ok else "differences found",
            **self.counts,
        }
        write_html_summary(
            path,
            title=title or f"Verification of {display_name(self.local_dir)}",
            summary=summary,
            records=self.to_records(),
        )


@dataclass(slots=True)
class _LocalTree:
    files: dict[Parts, tuple[int, str]] = field(default_factory=dict)
    dirs: set[Parts] = field(default_factory=set)
    failed_dirs: set[Parts] = field(default_factory=set)
    problems: list[tuple[Parts, str]] = field(default_factory=list)


def _scan_local(root: Path) -> _LocalTree:
    """Every regular file under ``root``; links, special files, unreadable dirs as problems."""
    tree = _LocalTree()
    stack: list[Parts] = [()]
    while stack:
        parts = stack.pop()
        thread_checkpoint()
        try:
            with os.scandir(os.path.join(root, *parts)) as it:
                entries = list(it)
        except OSError as exc:
            tree.failed_dirs.add(parts)
            tree.problems.append((parts, f"cannot list directory: {type(exc).__name__}: {exc}"))
            continue
        for entry in entries:
            child = (*parts, entry.name)
            try:
                if entry.is_symlink():
                    tree.problems.append((child, "symbolic link (not compared)"))
                    continue
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                tree.problems.append((child, f"{type(exc).__name__}: {exc}"))
                continue
            if stat.S_ISDIR(st.st_mode):
                tree.dirs.add(child)
                stack.append(child)
            elif stat.S_ISREG(st.st_mode):
                if not is_temp_name(entry.name):
                    tree.files[child] = (st.st_size, entry.path)
            else:
                tree.problems.append((child, "special file (not compared)"))
    return tree


class _ChangedWhileHashed(OSError):
    """The local file was modified, replaced or resized while it was being hashed."""


def _fingerprint(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _sha1_file(path: str, size: int) -> str:
    """Base64 SHA-1 of the file at ``path``, which must still be ``size`` bytes long and
    unchanged from open to end (else :class:`_ChangedWhileHashed`)."""
    digest = hashlib.sha1(usedforsecurity=False)
    read = 0
    with open(path, "rb") as f:
        before = _fingerprint(os.fstat(f.fileno()))
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            read += len(chunk)
            thread_checkpoint()
        after = _fingerprint(os.fstat(f.fileno()))
    if read != size or before != after or _fingerprint(os.stat(path)) != after:
        raise _ChangedWhileHashed("the local file changed while it was being verified")
    return base64.b64encode(digest.digest()).decode("ascii")


def _hashes_twice(download: bool, doc: Any) -> bool:
    """Whether the file is hashed locally and downloaded (no server hash: download it)."""
    return download or doc_hash(doc) is None


@dataclass(slots=True)
class _RemoteTree:
    files: dict[Parts, Any] = field(default_factory=dict)
    dirs: set[Parts] = field(default_factory=set)
    duplicates: list[tuple[Parts, Any]] = field(default_factory=list)
    failed_dirs: set[Parts] = field(default_factory=set)
    problems: list[tuple[Parts, str]] = field(default_factory=list)


def _show(parts: Parts) -> str:
    return "/".join(display_name(p) for p in parts)


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def _find_root(
    client: Any, workspace_id: str, local_root: Path, folder_id: str | None, windows: bool
) -> tuple[str | None, list[Any]]:
    """The folder compared with ``local_root`` and every folder of the workspace."""
    folders: list[Any] = list(await client.folders.list(workspace_id))
    ids = {opt_str(f.id) for f in folders}
    if folder_id is not None:
        if folder_id not in ids:
            raise ValueError(f"folder_id {folder_id!r} is not a folder of {workspace_id!r}")
        return folder_id, folders
    # The folder upload_tree creates: named after the local directory, at the root.
    for folder in sorted(folders, key=lambda f: opt_str(f.id) or ""):
        name = opt_str(folder.name)
        at_root = opt_str(folder.parent_id) not in ids
        if (
            at_root
            and name is not None
            and _remote_to_local(name, windows=windows) == local_root.name
        ):
            return opt_str(folder.id), folders
    return None, folders


def _remote_dirs(
    folders: list[Any], root_id: str | None, windows: bool
) -> list[tuple[str | None, Parts]]:
    """(folder id, local parts) of the root and every folder below it, parents first."""
    ids = {fid for f in folders if (fid := opt_str(f.id)) is not None}
    children: dict[str | None, list[Any]] = {}
    for folder in folders:
        fid = opt_str(folder.id)
        if fid is not None:
            parent = opt_str(folder.parent_id)
            children.setdefault(parent if parent in ids else None, []).append(folder)
    order: list[tuple[str | None, Parts]] = [(root_id, ())]
    seen: set[str] = set()
    i = 0
    while i < len(order):
        parent_id, parts = order[i]
        i += 1
        for folder in sorted(children.get(parent_id, []), key=lambda f: opt_str(f.id) or ""):
            fid = opt_str(folder.id)
            if fid is None or fid in seen or fid == root_id:
                continue
            seen.add(fid)
            name = _remote_to_local(opt_str(folder.name) or "", windows=windows)
            order.append((fid, (*parts, name)))
    return order


async def _list_remote(
    client: Any,
    workspace_id: str,
    dirs: list[tuple[str | None, Parts]],
    concurrency: int,
    windows: bool,
) -> _RemoteTree:
    tree = _RemoteTree(dirs={parts for _fid, parts in dirs if parts})
    limiter = anyio.CapacityLimiter(concurrency)

    async def list_one(folder_id: str, parts: Parts) -> None:
        async with limiter:
            try:
                docs = list(await client.documents.list(workspace_id, folder_id=folder_id))
            except Exception as exc:
                tree.failed_dirs.add(parts)
                tree.problems.append((parts, f"cannot list remote folder: {_error(exc)}"))
                return
        for doc in sorted(docs, key=lambda d: opt_str(d.id) or ""):
            name = _remote_to_local(opt_str(doc.name) or "", windows=windows)
            key = (*parts, name)
            if key in tree.files:
                tree.duplicates.append((key, doc))
            else:
                tree.files[key] = doc

    async with anyio.create_task_group() as tg:
        for folder_id, parts in dirs:
            if folder_id is not None:  # the workspace root holds folders, not documents
                tg.start_soon(list_one, folder_id, parts)
    return tree


class _Comparer:
    """Compares one local file with one document (bounded concurrency)."""

    def __init__(
        self,
        client: Any,
        workspace_id: str,
        download: bool,
        tracker: ProgressTracker,
    ) -> None:
        self.client = client
        self.workspace_id = workspace_id
        self.download = download
        self.tracker = tracker

    async def compare(self, parts: Parts, local: tuple[int, str], doc: Any) -> VerifyEntry:
        size, path = local
        doc_id = opt_str(doc.id)
        expected = size * (2 if _hashes_twice(self.download, doc) else 1)
        progress = self.tracker.item(_show(parts), expected)
        progress.start()
        entry = await self._compare(parts, size, path, doc, doc_id, progress.advance)
        progress.advance(max(0, expected - progress.done))  # a comparison cut short
        (progress.fail if entry.mark == "!" else progress.finish)()
        return entry

    async def _compare(
        self, parts: Parts, size: int, path: str, doc: Any, doc_id: str | None, advance: Any
    ) -> VerifyEntry:
        def entry(mark: Mark, detail: str = "") -> VerifyEntry:
            return VerifyEntry(mark, _show(parts), detail, size, doc_id)

        remote_size, server_hash = doc_size(doc), doc_hash(doc)
        if remote_size is not None and remote_size != size:
            return entry("*", f"size {size} locally, {remote_size} remotely")
        try:
            local_hash = await anyio.to_thread.run_sync(_sha1_file, path, size)
        except _ChangedWhileHashed as exc:
            return entry("!", f"{exc}: verify it again once it is no longer written")
        except OSError as exc:
            return entry("!", f"cannot read the local file: {_error(exc)}")
        advance(size)
        if server_hash is not None and server_hash != local_hash:
            return entry("*", f"SHA-1 {local_hash} locally, server fileHash {server_hash}")
        if not self.download and server_hash is not None:
            return entry("=")
        # Without a server hash, equal sizes prove nothing: the stored bytes are hashed.
        if doc_id is None:
            return entry("!", "the document has no id: cannot download it")
        try:
            stored = await self._remote_sha1(doc_id, advance)
        except Exception as exc:
            return entry("!", f"cannot download the document: {_error(exc)}")
        if stored != local_hash:
            return entry("*", f"downloaded bytes have SHA-1 {stored}, local {local_hash}")
        if server_hash is None and not self.download:
            return entry("=", "no server hash: downloaded and hashed")
        return entry("=", "downloaded and hashed")

    async def _remote_sha1(self, doc_id: str, advance: Any) -> str:
        digest = hashlib.sha1(usedforsecurity=False)
        headers = {"Accept-Encoding": "identity"}
        async with self.client.documents.download(
            self.workspace_id, doc_id, headers=headers
        ) as chunks:
            async for chunk in chunks:
                digest.update(chunk)
                advance(len(chunk))
        return base64.b64encode(digest.digest()).decode("ascii")


def _under(parts: Parts, dirs: set[Parts]) -> bool:
    """Whether ``parts`` lies in one of ``dirs`` (whose contents are unknown)."""
    return any(parts[:i] in dirs for i in range(len(parts))) if dirs else False


def _one_sided(local: _LocalTree, remote: _RemoteTree) -> Iterable[VerifyEntry]:
    """Entries for files present on one side only, and for problems of either side."""
    for parts, (size, _path) in local.files.items():
        if parts in remote.files or parts[:-1] in remote.failed_dirs:  # listed per folder
            continue
        if parts in remote.dirs:
            yield VerifyEntry("*", _show(parts), "a file locally, a folder remotely", size)
        else:
            yield VerifyEntry("-", _show(parts), "", size)
    for parts, doc in remote.files.items():
        if parts in local.files or _under(parts, local.failed_dirs):
            continue
        detail = "a folder locally, a document remotely" if parts in local.dirs else ""
        yield VerifyEntry(
            "*" if detail else "+", _show(parts), detail, doc_size(doc), opt_str(doc.id)
        )
    for parts, doc in remote.duplicates:
        yield VerifyEntry(
            "+", _show(parts), "another document of the same name", doc_size(doc), opt_str(doc.id)
        )
    for parts, message in [*local.problems, *remote.problems]:
        yield VerifyEntry("!", _show(parts) or ".", message)


async def verify_tree(
    client: Any,
    local_dir: str | os.PathLike[str],
    workspace_id: str,
    *,
    folder_id: str | None = None,
    download: bool = False,
    progress: ProgressCallback | None = None,
    concurrency: int = 8,
    windows: bool = IS_WINDOWS,
) -> VerifyReport:
    """Compare the files under ``local_dir`` with the documents of a workspace folder tree.

    The remote side is ``folder_id``'s tree; without it, the root folder named after
    ``local_dir`` (what ``upload_tree`` creates) if there is one, else the whole
    workspace (what ``download_tree`` mirrors). Remote names are mapped to local names
    as downloads map them. Each file is compared by size and by the server's
    ``fileHash`` against the local SHA-1; with ``download=True`` (and for every document
    the server gives no hash for) the stored bytes are also downloaded and hashed
    (``concurrency`` files at a time). A local file modified while it is hashed is an
    ``!`` entry, never ``=``. Local links, special
    files and unreadable entries are ``!`` entries; empty directories are not compared.
    """
    positive_int("concurrency", concurrency)
    started = time.monotonic()
    root = existing_dir("local_dir", local_dir).resolve()
    root_id, folders = await _find_root(client, workspace_id, root, folder_id, windows)
    dirs = _remote_dirs(folders, root_id, windows)
    local = await anyio.to_thread.run_sync(_scan_local, root)
    remote = await _list_remote(client, workspace_id, dirs, concurrency, windows)
    report = VerifyReport(os.fspath(root), workspace_id, root_id, download)
    report.entries.extend(_one_sided(local, remote))
    pairs = [(p, local.files[p], doc) for p, doc in remote.files.items() if p in local.files]
    tracker = ProgressTracker(
        progress,
        items_total=len(pairs),
        bytes_total=sum(
            size * (2 if _hashes_twice(download, d) else 1) for _p, (size, _), d in pairs
        ),
    )
    tracker.emit("totals", "", 0, None)
    comparer = _Comparer(client, workspace_id, download, tracker)

    async def run(pair: tuple[Parts, tuple[int, str], Any]) -> None:
        report.entries.append(await comparer.compare(*pair))

    await run_window(pairs, run, concurrency=concurrency)
    report.entries.sort(key=lambda e: (e.path, e.mark))
    report.elapsed = time.monotonic() - started
    return report
