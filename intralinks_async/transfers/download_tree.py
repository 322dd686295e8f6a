"""Mirror a workspace (or one folder) into a local directory, resumably.

Documents are listed one folder at a time (``listDocuments?folderId=``), with as many
listings in flight as downloads, feeding the download window through a small bounded
buffer. One workspace-wide listing would save requests when there are many small
folders, but it holds every document's metadata at once (about 600 bytes each once
parsed, plus the JSON body): per-folder listings keep memory bounded by the largest
folder, whatever the size of the data room.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio.to_thread

from intralinks_async.transfers._api import RemoteAPI, doc_hash, doc_size, opt_str
from intralinks_async.transfers._checks import (
    positive_int,
    thread_checkpoint,
    writable_target_dir,
)
from intralinks_async.transfers._failures import is_fatal
from intralinks_async.transfers._remote_index import FolderIndex
from intralinks_async.transfers._run import TreeRun
from intralinks_async.transfers.download import DEFAULT_CHUNK_SIZE, FileDownload
from intralinks_async.transfers.errors import DocumentChangedError, IntegrityError
from intralinks_async.transfers.journal import Journal, JournalEntry
from intralinks_async.transfers.manifest import utc_now
from intralinks_async.transfers.names import (
    MAX_NAME_BYTES,
    CaseCollisionAllocator,
    NameAllocator,
    UnsafePathError,
    display_name,
    fs_is_case_insensitive,
    is_temp_name,
    remote_to_local,
    safe_child,
    safe_join,
    sanitize_name,
)
from intralinks_async.transfers.progress import ProgressCallback, ProgressTracker
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.window import BatchSink, run_fed_window, run_window
from intralinks_async.transfers.writer import fsync_dir

__all__ = ["download_tree"]

_MIN_LISTING_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class _Item:
    doc: Any
    parts: tuple[str, ...]

    @property
    def key(self) -> str:
        return "/".join(self.parts)


_Work = tuple[_Item, "JournalEntry | None"]


class _Allocator(Protocol):
    def allocate(self, remote_name: str) -> str: ...


A = TypeVar("A", bound=_Allocator)


class LocalNames:
    """Local names for the remote names of one directory.

    Each name is mapped back exactly (:func:`remote_to_local`) when the local file
    system can hold it; one it cannot (longer than ``MAX_NAME_BYTES``, shaped like a
    transfer's temporary file, or with a character :func:`safe_join` refuses) gets
    :func:`sanitize_name`'s safe form. A case-only twin on a case-insensitive
    destination, or a second document of the same name, is numbered (`` (2)``...)
    instead of overwriting the first.
    """

    def __init__(self, *, case_insensitive: bool) -> None:
        self.case_insensitive = case_insensitive
        self._numbered = CaseCollisionAllocator(case_insensitive=True)
        self._exact: set[str] = set()
        #: Local names handed out that are not the exact mapping of their remote name.
        self.renamed: set[str] = set()

    def allocate(self, remote_name: str) -> str:
        """The local name for ``remote_name`` (distinct from those handed out before)."""
        exact = remote_to_local(remote_name)
        local = sanitize_name(exact) if _unstorable(exact) else exact
        if self.case_insensitive:
            candidate = self._numbered.allocate(local)
        else:
            candidate = local
            while candidate in self._exact:
                candidate = self._numbered.allocate(local)
            self._exact.add(candidate)
            self._numbered.reserve(candidate)
        if candidate != exact:
            self.renamed.add(candidate)
        return candidate


def _unstorable(name: str) -> bool:
    try:
        size = len(name.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return True
    return size > MAX_NAME_BYTES or is_temp_name(name) or "\\" in name


def _plan_dirs(
    folders: list[Any], folder_id: str | None
) -> tuple[list[tuple[str, tuple[str, ...]]], dict[tuple[str, ...], NameAllocator]]:
    """Assign every folder a sanitised, unique local directory (parents first)."""
    return _plan_tree(folders, folder_id, NameAllocator)


def _plan_tree(
    folders: list[Any], folder_id: str | None, make: Callable[[], A]
) -> tuple[list[tuple[str, tuple[str, ...]]], dict[tuple[str, ...], A]]:
    """Assign every folder a unique local directory with ``make()``'s allocators."""
    ids = {fid for f in folders if (fid := opt_str(f.id)) is not None}
    children: dict[str | None, list[Any]] = {}
    for folder in folders:
        fid = opt_str(folder.id)
        if fid is None:
            continue
        parent = opt_str(folder.parent_id)
        if parent not in ids:
            parent = None
        children.setdefault(parent, []).append(folder)
    allocators: dict[tuple[str, ...], A] = {}
    order: list[tuple[str, tuple[str, ...]]] = []
    queue: deque[tuple[str | None, tuple[str, ...]]] = deque([(folder_id, ())])
    if folder_id is not None:
        order.append((folder_id, ()))
    while queue:
        parent, parts = queue.popleft()
        alloc = allocators.setdefault(parts, make())
        kids = sorted(children.get(parent, []), key=lambda f: (opt_str(f.name) or "", f.id))
        for folder in kids:
            local = alloc.allocate(opt_str(folder.name) or "_")
            child_parts = (*parts, local)
            order.append((folder.id, child_parts))
            queue.append((folder.id, child_parts))
    return order, allocators


def _prepare_dirs(dest: Path, dirs: list[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Create the directories and remove temporary files left by an interrupted run.

    Returns the directories that already held other entries.
    """
    occupied: set[tuple[str, ...]] = set()
    for parts in dirs:
        thread_checkpoint()
        path = safe_join(dest, *parts) if parts else dest
        if parts and path.is_symlink():
            # A link planted in the mirror must not redirect documents elsewhere.
            raise UnsafePathError(f"{os.fspath(path)!r} is a symbolic link; not writing through it")
        path.mkdir(parents=True, exist_ok=True)
        with os.scandir(path) as it:
            for entry in it:
                if is_temp_name(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                else:
                    occupied.add(parts)
    return occupied


def _local_size(path: Path) -> int | None:
    """Size of the regular file at ``path`` (None if absent, a link or anything else)."""
    try:
        st = path.lstat()
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


async def download_tree(
    api: RemoteAPI,
    workspace_id: str,
    dest_dir: str | os.PathLike[str],
    *,
    folder_id: str | None = None,
    concurrency: int = 8,
    chunk_concurrency: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    verify: bool = True,
    dry_run: bool = False,
    manifest: str | os.PathLike[str] | None = None,
) -> TransferReport:
    """Download every document; see :meth:`Transfers.download_tree`."""
    positive_int("concurrency", concurrency)
    positive_int("chunk_concurrency", chunk_concurrency)
    positive_int("chunk_size", chunk_size)
    dest = writable_target_dir("dest_dir", dest_dir).resolve()
    report = TransferReport("download", dry_run=dry_run)
    scope = f"{workspace_id}:{folder_id or ''}:{dest}"
    async with TreeRun(
        api, report, journal, kind="download", scope=scope, manifest=manifest
    ) as run:
        mirror = _TreeDownload(
            api,
            run,
            workspace_id,
            dest,
            progress,
            concurrency=concurrency,
            chunk_size=chunk_size,
            chunk_concurrency=chunk_concurrency,
            verify=verify,
        )
        try:
            order = await mirror.plan(folder_id)
        except Exception as exc:
            if not is_fatal(exc):
                raise
            run.stop(exc)
        else:
            async with run.journal_writer():
                run.stop(await mirror.transfer(order))
    return report


class _TreeDownload:
    """State of one ``download_tree`` run: folder plan, listings, the download window."""

    def __init__(
        self,
        api: RemoteAPI,
        run: TreeRun,
        workspace_id: str,
        dest: Path,
        progress: ProgressCallback | None,
        *,
        concurrency: int,
        chunk_size: int,
        chunk_concurrency: int,
        verify: bool,
    ) -> None:
        self.api = api
        self.run = run
        self.report = run.report
        self.jrnl = run.journal
        self.workspace_id = workspace_id
        self.dest = dest
        self.local_dirs: dict[tuple[str, ...], str] = {}
        self.concurrency = concurrency
        self.chunk_size = chunk_size
        self.chunk_concurrency = chunk_concurrency
        self.verify = verify
        self.dry_run = run.report.dry_run
        self.tracker = ProgressTracker(progress, items_total=0, bytes_total=0)
        self.allocators: dict[tuple[str, ...], LocalNames] = {}
        self.case_insensitive = False
        #: Local directory parts -> the remote folder path they hold.
        self.remote_dirs: dict[tuple[str, ...], str] = {(): ""}
        #: Local directories that held files before the run (others need no lookup).
        self.occupied: set[tuple[str, ...]] = set()
        #: Directories a file was renamed into (fsynced once, at the end).
        self.touched: set[str] = set()

    async def plan(self, folder_id: str | None) -> list[tuple[str, tuple[str, ...]]]:
        """List the folders, assign local directories, create them (not in a dry run)."""
        index = FolderIndex(self.api, self.workspace_id)
        await index.refresh()
        if folder_id is not None:
            index.require("folder_id", folder_id)
        self.case_insensitive = await anyio.to_thread.run_sync(_case_insensitive, self.dest)
        order, self.allocators = _plan_tree(index.folders, folder_id, self._names)
        self._remote_folder_paths(index.folders, order)
        dirs = [(), *[parts for _fid, parts in order if parts]]
        if self.dry_run:
            self.report.planned.extend(
                f"create directory {'/'.join(p)}/" for p in dirs if p and not _exists(self.dest, p)
            )
            self.occupied = set(dirs)
        else:
            self.occupied = await anyio.to_thread.run_sync(_prepare_dirs, self.dest, dirs)
        return order

    def _names(self) -> LocalNames:
        return LocalNames(case_insensitive=self.case_insensitive)

    def _remote_folder_paths(
        self, folders: list[Any], order: list[tuple[str, tuple[str, ...]]]
    ) -> None:
        """Remember each directory's remote path; report directories not named back exactly."""
        names = {opt_str(f.id): opt_str(f.name) or "_" for f in folders}
        for fid, parts in order:
            if not parts:
                continue
            remote = names.get(fid, parts[-1])
            path = _join(self.remote_dirs.get(parts[:-1], ""), remote)
            self.remote_dirs[parts] = path
            if parts[-1] in self.allocators[parts[:-1]].renamed:
                self.report.renamed.append(("/".join(parts) + "/", path + "/"))

    async def transfer(self, order: list[tuple[str, tuple[str, ...]]]) -> Exception | None:
        """Listings feed the download window; returns the fatal failure, if any."""

        async def produce(send: BatchSink[_Work]) -> Exception | None:
            # Folder listings run ahead of the downloads (as many at a time as
            # downloads: with many small folders, fewer would starve the window), one
            # message per listing (a stream send and receive each cost a checkpoint).
            return await run_window(
                order,
                lambda entry: self._list_folder(entry, send),
                concurrency=max(_MIN_LISTING_CONCURRENCY, self.concurrency),
                on_error=self._listing_failed,
                is_fatal=is_fatal,
            )

        stopped = await run_fed_window(
            produce,
            self._one,
            concurrency=self.concurrency,
            buffer=max(4, self.concurrency),
            on_error=self._failed,
            is_fatal=is_fatal,
        )
        if self.touched:
            await anyio.to_thread.run_sync(_fsync_dirs, sorted(self.touched))
        return stopped

    async def _list_folder(
        self, entry: tuple[str, tuple[str, ...]], send: BatchSink[_Work]
    ) -> None:
        fid, parts = entry
        docs = await self.api.list_documents(self.workspace_id, fid)
        docs.sort(key=lambda d: (opt_str(d.name) or "", opt_str(d.id) or ""))
        # Names are allocated per directory, so the result does not depend on the
        # order in which folders are listed.
        alloc = self.allocators.setdefault(parts, self._names())
        batch = [_Item(d, (*parts, alloc.allocate(opt_str(d.name) or "_"))) for d in docs]
        for item in batch:
            if item.parts[-1] in alloc.renamed:
                self.report.renamed.append((item.key, self._remote_path(item)))
        entries: dict[str, JournalEntry] = {}
        if self.jrnl is not None and self.jrnl.had_entries:
            entries = await anyio.to_thread.run_sync(
                self.jrnl.get_many, [item.key for item in batch]
            )
        self.report.items_total += len(batch)
        self.tracker.add_totals(items=len(batch), nbytes=sum(doc_size(d) or 0 for d in docs))
        if batch:
            await send.send([(item, entries.get(item.key)) for item in batch])

    def _listing_failed(self, entry: tuple[str, tuple[str, ...]], exc: Exception) -> None:
        self.report.failures.append(TransferFailure("/".join(entry[1]) + "/", exc))

    def _failed(self, work: _Work, exc: Exception) -> None:
        item = work[0]
        self.report.failures.append(TransferFailure(item.key, exc))
        if self.jrnl is not None:
            self.jrnl.failed(item.key, f"{type(exc).__name__}: {exc}")

    def _local_path(self, parts: tuple[str, ...]) -> Path:
        """Where a document goes: its directory is checked once, then each file name."""
        where = parts[:-1]
        directory = self.local_dirs.get(where)
        if directory is None:
            directory = self.local_dirs[where] = os.fspath(safe_join(self.dest, *where))
        return safe_child(directory, parts[-1])

    def _remote_path(self, item: _Item) -> str:
        return _join(self.remote_dirs.get(item.parts[:-1], ""), opt_str(item.doc.name) or "_")

    async def _one(self, work: _Work) -> None:
        item, entry = work
        prog = self.tracker.item(item.key, doc_size(item.doc))
        started = utc_now() if self.run.manifest is not None else None
        try:
            result, sha256 = await self._download(item, entry, prog)
        except Exception as exc:
            prog.fail()
            await self._record(item, started, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        except BaseException:
            prog.fail()
            raise
        await self._record(item, started, result, sha256)

    async def _record(
        self,
        item: _Item,
        started: str | None,
        result: str,
        sha256: str | None = None,
        *,
        error: str | None = None,
    ) -> None:
        if self.run.manifest is None:
            return
        remote = opt_str(item.doc.name) or "_"
        await self.run.record(
            local_path=item.key,
            remote_path=self._remote_path(item),
            result=result,
            remote_id=opt_str(item.doc.id),
            size=doc_size(item.doc),
            sha256=sha256,
            server_hash=doc_hash(item.doc),
            renamed_from=remote
            if item.parts[-1] in self.allocators[item.parts[:-1]].renamed
            else None,
            started_at=started,
            ended_at=utc_now(),
            error=error,
        )

    async def _download(
        self, item: _Item, entry: JournalEntry | None, prog: Any
    ) -> tuple[str, str | None]:
        """Download (or skip) one document; returns (manifest result, SHA-256)."""
        report, jrnl = self.report, self.jrnl
        doc_id = opt_str(item.doc.id)
        size = doc_size(item.doc)
        if doc_id is None:
            raise ValueError("document without id")
        if jrnl is not None:
            jrnl.check()
        local = self._local_path(item.parts)
        if item.parts[:-1] in self.occupied:
            have = await anyio.to_thread.run_sync(_local_size, local)
            if have is not None and have == size and _still_good(item.doc, doc_id, jrnl, entry):
                prog.skip()
                report.skipped += 1
                return "skipped", None
        if self.dry_run:
            report.planned.append(f"download {display_name(item.key)} ({size} bytes)")
            report.succeeded += 1
            prog.skip()
            return "planned", None
        if jrnl is not None:
            jrnl.plan(item.key, size=size)

        def attempt() -> FileDownload:
            return FileDownload(
                self.api,
                self.workspace_id,
                doc_id,
                local,
                chunk_size=self.chunk_size,
                concurrency=self.chunk_concurrency,
                verify=self.verify,
                progress=prog,
                sync_dir=False,
                sha256=self.run.manifest is not None,
            )

        download = attempt()
        try:
            result = await download.run(document=item.doc)
        except (DocumentChangedError, IntegrityError):
            # The listing may predate a new version: with fresh metadata that differs,
            # fetch once more (the same failure with fresh metadata is a real one).
            fresh = await self.api.get_document(self.workspace_id, doc_id)
            if (doc_size(fresh), doc_hash(fresh)) == (size, doc_hash(item.doc)):
                raise
            prog.rewind()
            download = attempt()
            result = await download.run(document=fresh)
        self.touched.add(self.local_dirs[item.parts[:-1]])
        if jrnl is not None:
            jrnl.done(item.key, remote_id=doc_id, size=result.size, sha1=result.sha1)
        report.succeeded += 1
        report.bytes_transferred += result.size
        prog.finish()
        return "downloaded", download.sha256


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def _case_insensitive(dest: Path) -> bool:
    """Probe the destination (or its nearest existing parent) for case-insensitivity."""
    probe = dest
    while not probe.is_dir() and probe.parent != probe:
        probe = probe.parent
    return fs_is_case_insensitive(probe)


def _still_good(doc: Any, doc_id: str, jrnl: Journal | None, entry: JournalEntry | None) -> bool:
    """Whether a local file of the right size is this document (always, without journal)."""
    if jrnl is None:
        return True
    remote_hash = doc_hash(doc)
    return (
        entry is not None
        and entry.state == "done"
        and entry.remote_id == doc_id
        # Same size but new content (a new version in place) is fetched again.
        and (remote_hash is None or entry.sha1 is None or entry.sha1 == remote_hash)
    )


def _exists(dest: Path, parts: tuple[str, ...]) -> bool:
    return safe_join(dest, *parts).is_dir()


def _fsync_dirs(dirs: list[str]) -> None:
    for path in dirs:
        thread_checkpoint()
        fsync_dir(path)
