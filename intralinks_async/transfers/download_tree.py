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
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from intralinks_async.transfers.names import NameAllocator, UnsafePathError, is_temp_name, safe_join
from intralinks_async.transfers.progress import ProgressCallback, ProgressTracker
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.window import run_window, unwrap_exception_group
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


def _plan_dirs(
    folders: list[Any], folder_id: str | None
) -> tuple[list[tuple[str, tuple[str, ...]]], dict[tuple[str, ...], NameAllocator]]:
    """Assign every folder a sanitised, unique local directory (parents first)."""
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
    allocators: dict[tuple[str, ...], NameAllocator] = {}
    order: list[tuple[str, tuple[str, ...]]] = []
    queue: deque[tuple[str | None, tuple[str, ...]]] = deque([(folder_id, ())])
    if folder_id is not None:
        order.append((folder_id, ()))
    while queue:
        parent, parts = queue.popleft()
        alloc = allocators.setdefault(parts, NameAllocator())
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
) -> TransferReport:
    """Download every document; see :meth:`Transfers.download_tree`."""
    positive_int("concurrency", concurrency)
    positive_int("chunk_concurrency", chunk_concurrency)
    positive_int("chunk_size", chunk_size)
    dest = writable_target_dir("dest_dir", dest_dir).resolve()
    report = TransferReport("download", dry_run=dry_run)
    scope = f"{workspace_id}:{folder_id or ''}:{dest}"
    async with TreeRun(api, report, journal, kind="download", scope=scope) as run:
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
        self.concurrency = concurrency
        self.chunk_size = chunk_size
        self.chunk_concurrency = chunk_concurrency
        self.verify = verify
        self.dry_run = run.report.dry_run
        self.tracker = ProgressTracker(progress, items_total=0, bytes_total=0)
        self.allocators: dict[tuple[str, ...], NameAllocator] = {}
        #: Local directories that held files before the run (others need no lookup).
        self.occupied: set[tuple[str, ...]] = set()
        #: Directories a file was renamed into (fsynced once, at the end).
        self.touched: set[Path] = set()

    async def plan(self, folder_id: str | None) -> list[tuple[str, tuple[str, ...]]]:
        """List the folders, assign local directories, create them (not in a dry run)."""
        index = FolderIndex(self.api, self.workspace_id)
        await index.refresh()
        if folder_id is not None:
            index.require("folder_id", folder_id)
        order, self.allocators = _plan_dirs(index.folders, folder_id)
        dirs = [(), *[parts for _fid, parts in order if parts]]
        if self.dry_run:
            self.report.planned.extend(
                f"create directory {'/'.join(p)}/" for p in dirs if p and not _exists(self.dest, p)
            )
            self.occupied = set(dirs)
        else:
            self.occupied = await anyio.to_thread.run_sync(_prepare_dirs, self.dest, dirs)
        return order

    async def transfer(self, order: list[tuple[str, tuple[str, ...]]]) -> Exception | None:
        """Listings feed the download window; returns the fatal failure, if any."""
        send, receive = anyio.create_memory_object_stream[_Work](max(16, self.concurrency * 4))
        fatal: list[Exception | None] = [None]

        async def produce() -> None:
            # Folder listings run ahead of the downloads (as many at a time as
            # downloads: with many small folders, fewer would starve the window).
            async with send:
                fatal[0] = await run_window(
                    order,
                    lambda entry: self._list_folder(entry, send),
                    concurrency=max(_MIN_LISTING_CONCURRENCY, self.concurrency),
                    on_error=self._listing_failed,
                    is_fatal=is_fatal,
                )

        async def items() -> AsyncIterator[_Work]:
            async with receive:
                async for work in receive:
                    yield work

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(produce)
                stopped = await run_window(
                    items(),
                    self._one,
                    concurrency=self.concurrency,
                    on_error=self._failed,
                    is_fatal=is_fatal,
                )
                if stopped is not None:
                    tg.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            raise unwrap_exception_group(group) from None
        if self.touched:
            await anyio.to_thread.run_sync(_fsync_dirs, sorted(self.touched))
        return stopped or fatal[0]

    async def _list_folder(self, entry: tuple[str, tuple[str, ...]], send: Any) -> None:
        fid, parts = entry
        docs = await self.api.list_documents(self.workspace_id, fid)
        docs.sort(key=lambda d: (opt_str(d.name) or "", opt_str(d.id) or ""))
        # Names are allocated per directory, so the result does not depend on the
        # order in which folders are listed.
        alloc = self.allocators.setdefault(parts, NameAllocator())
        batch = [_Item(d, (*parts, alloc.allocate(opt_str(d.name) or "_"))) for d in docs]
        entries: dict[str, JournalEntry] = {}
        if self.jrnl is not None and self.jrnl.had_entries:
            entries = await anyio.to_thread.run_sync(
                self.jrnl.get_many, [item.key for item in batch]
            )
        self.report.items_total += len(batch)
        self.tracker.add_totals(items=len(batch), nbytes=sum(doc_size(d) or 0 for d in docs))
        for item in batch:
            await send.send((item, entries.get(item.key)))

    def _listing_failed(self, entry: tuple[str, tuple[str, ...]], exc: Exception) -> None:
        self.report.failures.append(TransferFailure("/".join(entry[1]) + "/", exc))

    def _failed(self, work: _Work, exc: Exception) -> None:
        item = work[0]
        self.report.failures.append(TransferFailure(item.key, exc))
        if self.jrnl is not None:
            self.jrnl.failed(item.key, f"{type(exc).__name__}: {exc}")

    async def _one(self, work: _Work) -> None:
        item, entry = work
        prog = self.tracker.item(item.key, doc_size(item.doc))
        try:
            await self._download(item, entry, prog)
        except BaseException:
            prog.fail()
            raise

    async def _download(self, item: _Item, entry: JournalEntry | None, prog: Any) -> None:
        report, jrnl = self.report, self.jrnl
        doc_id = opt_str(item.doc.id)
        size = doc_size(item.doc)
        if doc_id is None:
            raise ValueError("document without id")
        if jrnl is not None:
            jrnl.check()
        local = safe_join(self.dest, *item.parts)
        if item.parts[:-1] in self.occupied:
            have = await anyio.to_thread.run_sync(_local_size, local)
            if have is not None and have == size and _still_good(item.doc, doc_id, jrnl, entry):
                prog.skip()
                report.skipped += 1
                return
        if self.dry_run:
            report.planned.append(f"download {item.key} ({size} bytes)")
            report.succeeded += 1
            prog.skip()
            return
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
            )

        try:
            result = await attempt().run(document=item.doc)
        except (DocumentChangedError, IntegrityError):
            # The listing may predate a new version: with fresh metadata that differs,
            # fetch once more (the same failure with fresh metadata is a real one).
            fresh = await self.api.get_document(self.workspace_id, doc_id)
            if (doc_size(fresh), doc_hash(fresh)) == (size, doc_hash(item.doc)):
                raise
            prog.rewind()
            result = await attempt().run(document=fresh)
        self.touched.add(local.parent)
        if jrnl is not None:
            jrnl.done(item.key, remote_id=doc_id, size=result.size, sha1=result.sha1)
        report.succeeded += 1
        report.bytes_transferred += result.size
        prog.finish()


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


def _fsync_dirs(dirs: list[Path]) -> None:
    for path in dirs:
        thread_checkpoint()
        fsync_dir(path)
