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
import time
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
from intralinks_async.transfers._remote_index import FolderIndex
from intralinks_async.transfers.download import DEFAULT_CHUNK_SIZE, FileDownload
from intralinks_async.transfers.errors import DocumentChangedError, IntegrityError
from intralinks_async.transfers.journal import Journal
from intralinks_async.transfers.names import NameAllocator, UnsafePathError, is_temp_name, safe_join
from intralinks_async.transfers.progress import ProgressCallback, ProgressTracker
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.window import run_window, unwrap_exception_group

__all__ = ["download_tree"]

_MIN_LISTING_CONCURRENCY = 4


@dataclass(frozen=True, slots=True)
class _Item:
    doc: Any
    parts: tuple[str, ...]

    @property
    def key(self) -> str:
        return "/".join(self.parts)


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


def _prepare_dirs(dest: Path, dirs: list[tuple[str, ...]]) -> None:
    """Create the directories and remove temporary files left by an interrupted run."""
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
) -> TransferReport:
    """Download every document; see :meth:`Transfers.download_tree`."""
    positive_int("concurrency", concurrency)
    positive_int("chunk_concurrency", chunk_concurrency)
    positive_int("chunk_size", chunk_size)
    started = time.monotonic()
    dest = writable_target_dir("dest_dir", dest_dir).resolve()
    report = TransferReport("download")
    tracker = ProgressTracker(progress, items_total=0, bytes_total=0)
    scope = f"{workspace_id}:{folder_id or ''}:{dest}"
    jrnl = Journal(journal, kind="download", scope=scope) if journal is not None else None
    try:
        index = FolderIndex(api, workspace_id)
        await index.refresh()
        if folder_id is not None:
            index.require("folder_id", folder_id)
        order, allocators = _plan_dirs(index.folders, folder_id)
        await anyio.to_thread.run_sync(
            _prepare_dirs, dest, [(), *[parts for _fid, parts in order if parts]]
        )

        send, receive = anyio.create_memory_object_stream[_Item](max(16, concurrency * 4))

        async def list_folder(entry: tuple[str, tuple[str, ...]]) -> None:
            fid, parts = entry
            docs = await api.list_documents(workspace_id, fid)
            docs.sort(key=lambda d: (opt_str(d.name) or "", opt_str(d.id) or ""))
            # Names are allocated per directory, so the result does not depend on the
            # order in which folders are listed.
            alloc = allocators.setdefault(parts, NameAllocator())
            batch = [_Item(d, (*parts, alloc.allocate(opt_str(d.name) or "_"))) for d in docs]
            report.items_total += len(batch)
            tracker.add_totals(items=len(batch), nbytes=sum(doc_size(d) or 0 for d in docs))
            for item in batch:
                await send.send(item)

        def listing_failed(entry: tuple[str, tuple[str, ...]], exc: Exception) -> None:
            report.failures.append(TransferFailure("/".join(entry[1]) + "/", exc))

        async def produce() -> None:
            # Folder listings run ahead of the downloads (as many at a time as
            # downloads: with many small folders, fewer would starve the window).
            async with send:
                await run_window(
                    order,
                    list_folder,
                    concurrency=max(_MIN_LISTING_CONCURRENCY, concurrency),
                    on_error=listing_failed,
                )

        async def items() -> AsyncIterator[_Item]:
            async with receive:
                async for item in receive:
                    yield item

        async def fetch(item: _Item) -> None:
            await _download_one(
                api,
                workspace_id,
                dest,
                item,
                jrnl,
                tracker,
                report,
                chunk_size=chunk_size,
                chunk_concurrency=chunk_concurrency,
                verify=verify,
            )

        def failed(item: _Item, exc: Exception) -> None:
            report.failures.append(TransferFailure(item.key, exc))
            if jrnl is not None:
                jrnl.failed(item.key, f"{type(exc).__name__}: {exc}")

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(produce)
                await run_window(items(), fetch, concurrency=concurrency, on_error=failed)
        except BaseExceptionGroup as group:
            raise unwrap_exception_group(group) from None
    finally:
        if jrnl is not None:
            jrnl.close()
        report.retries = api.retries
        report.elapsed = time.monotonic() - started
    return report


async def _download_one(
    api: RemoteAPI,
    workspace_id: str,
    dest: Path,
    item: _Item,
    jrnl: Journal | None,
    tracker: ProgressTracker,
    report: TransferReport,
    *,
    chunk_size: int,
    chunk_concurrency: int,
    verify: bool,
) -> None:
    doc_id = opt_str(item.doc.id)
    size = doc_size(item.doc)
    prog = tracker.item(item.key, size)
    try:
        if doc_id is None:
            raise ValueError("document without id")
        local = safe_join(dest, *item.parts)
        have = await anyio.to_thread.run_sync(_local_size, local)
        entry = jrnl.get(item.key) if jrnl is not None else None
        if have is not None and have == size:
            remote_hash = doc_hash(item.doc)
            journal_ok = (
                entry is not None
                and entry.state == "done"
                and entry.remote_id == doc_id
                # Same size but new content (a new version in place) is fetched again.
                and (remote_hash is None or entry.sha1 is None or entry.sha1 == remote_hash)
            )
            if jrnl is None or journal_ok:
                prog.skip()
                report.skipped += 1
                return
        if jrnl is not None:
            jrnl.plan(item.key, size=size)

        def attempt() -> FileDownload:
            return FileDownload(
                api,
                workspace_id,
                doc_id,
                local,
                chunk_size=chunk_size,
                concurrency=chunk_concurrency,
                verify=verify,
                progress=prog,
            )

        try:
            result = await attempt().run(document=item.doc)
        except (DocumentChangedError, IntegrityError):
            # The listing may predate a new version: with fresh metadata that differs,
            # fetch once more (the same failure with fresh metadata is a real one).
            fresh = await api.get_document(workspace_id, doc_id)
            if (doc_size(fresh), doc_hash(fresh)) == (size, doc_hash(item.doc)):
                raise
            prog.rewind()
            result = await attempt().run(document=fresh)
        if jrnl is not None:
            jrnl.done(item.key, remote_id=doc_id, size=result.size, sha1=result.sha1)
        report.succeeded += 1
        report.bytes_transferred += result.size
        prog.finish()
    except BaseException:
        prog.fail()
        raise
