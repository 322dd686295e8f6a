"""Migrate a local directory tree into a workspace, resumably and without duplicates."""

from __future__ import annotations

import os
import time
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from intralinks_async.transfers._api import RemoteAPI, doc_hash, doc_size, opt_str
from intralinks_async.transfers._checks import existing_dir, positive_int
from intralinks_async.transfers._remote_index import DocumentIndex, FolderIndex
from intralinks_async.transfers.errors import (
    RemoteConflictError,
    SkippedEntryError,
    TransferError,
)
from intralinks_async.transfers.journal import Journal
from intralinks_async.transfers.progress import ProgressCallback, ProgressTracker
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.upload import Uploader, hash_file
from intralinks_async.transfers.walk import LocalFile, iter_files, scan_tree
from intralinks_async.transfers.window import run_window

__all__ = ["OnConflict", "cached_folder_limit", "upload_tree"]

OnConflict = Literal["skip", "new_version", "error"]


async def upload_tree(
    api: RemoteAPI,
    local_dir: str | os.PathLike[str],
    workspace_id: str,
    *,
    parent_folder_id: str | None = None,
    concurrency: int = 8,
    journal: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    on_conflict: OnConflict = "skip",
) -> TransferReport:
    """Upload every file under ``local_dir``; see :meth:`Transfers.upload_tree`."""
    if on_conflict not in ("skip", "new_version", "error"):
        raise ValueError(f"on_conflict must be 'skip', 'new_version' or 'error': {on_conflict!r}")
    positive_int("concurrency", concurrency)
    started = time.monotonic()
    root = existing_dir("local_dir", local_dir).resolve()
    exclude: list[str] = []
    if journal is not None:
        # The journal (and SQLite's side files) may live inside the tree being uploaded.
        base = os.fspath(Path(journal).resolve())
        exclude = [base + suffix for suffix in ("", "-wal", "-shm", "-journal")]
    scope = f"{workspace_id}:{parent_folder_id or ''}:{root}"
    # Opened first: a wrong journal fails before a long scan.
    jrnl = Journal(journal, kind="upload", scope=scope) if journal is not None else None
    report = TransferReport("upload")
    try:
        tree = await scan_tree(root, exclude=exclude)
        report.items_total = tree.file_count
        tracker = ProgressTracker(
            progress, items_total=tree.file_count, bytes_total=tree.total_bytes
        )
        tracker.emit("totals", "", 0, None)
        folders = FolderIndex(api, workspace_id)
        await folders.refresh()
        if parent_folder_id is not None:
            folders.require("parent_folder_id", parent_folder_id)
        folder_ids: dict[str, str] = {}
        if parent_folder_id is None:
            root_id, created = await folders.ensure(None, root.name or "upload")
            report.folders_created += created
        else:
            root_id = parent_folder_id
        folder_ids[""] = root_id
        await _create_folders(tree.dirs, folders, folder_ids, concurrency, report)
        docs = DocumentIndex(api, workspace_id, max_folders=cached_folder_limit(concurrency))
        uploader = Uploader(api)

        async def upload_one(item: LocalFile) -> None:
            await _upload_one(
                item, api, uploader, docs, folder_ids, jrnl, tracker, report, on_conflict
            )

        def failed(item: LocalFile, exc: Exception) -> None:
            report.failures.append(TransferFailure(item.key, exc))
            if jrnl is not None:
                jrnl.failed(item.key, f"{type(exc).__name__}: {exc}")

        await run_window(iter_files(tree), upload_one, concurrency=concurrency, on_error=failed)
    finally:
        if jrnl is not None:
            jrnl.close()
        report.retries = api.retries
        report.elapsed = time.monotonic() - started
    return report


def cached_folder_limit(concurrency: int) -> int:
    """Folder listings kept while uploading: enough for every file in flight, and a few."""
    return 2 * concurrency + 8


async def _create_folders(
    dirs: list[str],
    folders: FolderIndex,
    folder_ids: dict[str, str],
    concurrency: int,
    report: TransferReport,
) -> None:
    """Parents before children; the folders of one depth concurrently."""
    for _depth, level in groupby(dirs, key=lambda d: d.count("/")):

        async def ensure(rel: str) -> None:
            parent_rel, _, name = rel.rpartition("/")
            parent_id = folder_ids.get(parent_rel)
            if parent_id is None:
                return  # the parent failed; its files report the failure
            fid, created = await folders.ensure(parent_id, name)
            report.folders_created += created
            folder_ids[rel] = fid

        def failed(rel: str, exc: Exception) -> None:
            report.failures.append(TransferFailure(rel + "/", exc))

        await run_window(list(level), ensure, concurrency=concurrency, on_error=failed)


async def _upload_one(
    item: LocalFile,
    api: RemoteAPI,
    uploader: Uploader,
    docs: DocumentIndex,
    folder_ids: dict[str, str],
    jrnl: Journal | None,
    tracker: ProgressTracker,
    report: TransferReport,
    on_conflict: OnConflict,
) -> None:
    key = item.key
    prog = tracker.item(key, item.size)
    try:
        if item.kind != "file":
            raise SkippedEntryError(_SKIPPED[item.kind])
        entry = jrnl.get(key) if jrnl is not None else None
        if entry is not None and entry.state == "done" and entry.size == item.size:
            # (A file whose size changed since it was recorded goes through on_conflict.)
            prog.skip()
            report.skipped += 1
            return
        folder_id = folder_ids.get(item.rel_dir)
        if folder_id is None:
            raise TransferError(f"folder {item.rel_dir!r} could not be created")
        same = await docs.same_name(folder_id, item.name)
        if same:
            found = await _already_there(item, same, on_conflict)
            if found is not None:
                doc, sha1 = found
                if jrnl is not None:
                    jrnl.done(key, remote_id=opt_str(doc.id), size=item.size, sha1=sha1)
                prog.skip()
                report.skipped += 1
                return
            if on_conflict == "error":
                raise RemoteConflictError(
                    f"a different document named {item.name!r} already exists in the folder"
                )
        if jrnl is not None:
            jrnl.plan(key, size=item.size)
        outcome = await uploader.upload(
            _workspace(docs),
            folder_id,
            item.path,
            name=item.name,
            size=item.size,
            progress=prog,
            existing_ids=[i for d in same if (i := opt_str(d.id)) is not None],
        )
        if jrnl is not None:
            jrnl.done(
                key, remote_id=opt_str(outcome.document.id), size=outcome.size, sha1=outcome.sha1
            )
        docs.add(folder_id, outcome.document)
        report.bytes_transferred += outcome.size
        if outcome.adopted:
            report.adopted += 1
        else:
            report.succeeded += 1
        prog.finish()
    except BaseException:
        prog.fail()
        raise


_SKIPPED = {
    "symlink": "symbolic link not followed (links are never uploaded; copy the target "
    "into the tree to include it)",
    "special": "special file (FIFO, socket or device) not uploaded",
    "partial": "temporary file of an interrupted download (incomplete) not uploaded",
}


def _workspace(docs: DocumentIndex) -> str:
    return docs.workspace_id


async def _already_there(
    item: LocalFile, same: list[Any], on_conflict: OnConflict
) -> tuple[Any, str | None] | None:
    """The remote document that already holds this file's content, if any.

    With ``skip`` a same-name document of the same size counts (any same-name document
    is left alone anyway); otherwise the SHA-1 must also match when the server gives one.
    """
    sized = [d for d in same if doc_size(d) in (None, item.size)]
    if on_conflict == "skip":
        return (sized[0] if sized else same[0]), None
    if not sized:
        return None
    if all(doc_hash(d) is None for d in sized):
        return sized[0], None
    _size, sha1 = await hash_file(item.path)
    for doc in sized:
        if doc_hash(doc) in (None, sha1):
            return doc, sha1
    return None
