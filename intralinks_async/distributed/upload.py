"""``upload_tree`` over a Dask cluster: the coordinator side."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from intralinks_async._client import DEFAULT_BASE_URL
from intralinks_async.distributed._cluster import DaskTarget, open_cluster
from intralinks_async.distributed._common import (
    RunOptions,
    credentials_from,
    flush_journal,
    record_results,
    run_context,
    verify_source,
)
from intralinks_async.distributed._coordinator import ShardRunner
from intralinks_async.distributed._shards import (
    DEFAULT_SHARD_BYTES,
    DEFAULT_SHARD_FILES,
    ShardResult,
    UploadItem,
    UploadShard,
    shard_stream,
)
from intralinks_async.distributed._skeleton import create_folders
from intralinks_async.distributed._tasks import upload_shard
from intralinks_async.transfers._api import RemoteAPI
from intralinks_async.transfers._checks import existing_dir, require_id
from intralinks_async.transfers._remote_index import FolderIndex
from intralinks_async.transfers.errors import SkippedEntryError, TransferError
from intralinks_async.transfers.journal import Journal
from intralinks_async.transfers.names import local_to_remote
from intralinks_async.transfers.progress import ProgressCallback
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.upload_tree import _SKIPPED, OnConflict
from intralinks_async.transfers.walk import LocalFile, iter_files, scan_tree

__all__ = ["upload_tree"]


async def upload_tree(
    local_dir: str | os.PathLike[str],
    workspace_id: str,
    *,
    dask: DaskTarget,
    base_url: str = DEFAULT_BASE_URL,
    client_id: str | None = None,
    client_secret: str | None = None,
    access_token: str | None = None,
    refresh_token: str | None = None,
    client_options: Mapping[str, Any] | None = None,
    parent_folder_id: str | None = None,
    concurrency: int = 8,
    journal: str | os.PathLike[str] | None = None,
    on_conflict: OnConflict = "skip",
    progress: ProgressCallback | None = None,
    shard_files: int = DEFAULT_SHARD_FILES,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    cluster_concurrency: int | None = None,
    max_in_flight: int | None = None,
    dry_run: bool = False,
) -> TransferReport:
    """Migrate the files under ``local_dir`` into the workspace, sharded over a Dask cluster.

    The same migration as ``client.transfers.upload_tree`` (same folders, names,
    ``on_conflict`` rules and journal, which either kind of run can resume), with the
    files uploaded by Dask workers. ``dask`` is a ``distributed.Client``, a scheduler
    address, or a number of local worker processes to start. ``local_dir`` must be on
    storage that every worker sees at the same path (checked first:
    :class:`SharedStorageError`).

    This process walks the tree, creates every folder (workers never do), groups the
    files into shards of at most ``shard_files`` files and about ``shard_bytes`` bytes,
    and records each shard's results in ``journal`` as they come back. Each worker
    process uploads with one cached client, ``concurrency`` files at a time per shard;
    ``cluster_concurrency`` caps the files in flight over the whole cluster (a Dask
    Semaphore). A shard re-run after its worker died finds the files that already
    landed (same folder, name, size and SHA-1) and does not send them again.

    Credentials: ``client_id``/``client_secret`` or a static ``access_token`` (a
    ``refresh_token`` raises :class:`UnsupportedCredentialsError`); ``client_options``
    (``max_retries``, ``retry``, ``timeout``...) apply to every client of the run.

    ``dry_run=True`` plans without the cluster (the plan does not depend on it): the
    report of the single-process dry run, and no mutating request.
    """
    if on_conflict not in ("skip", "new_version", "error"):
        raise ValueError(f"on_conflict must be 'skip', 'new_version' or 'error': {on_conflict!r}")
    workspace_id = require_id("workspace_id", workspace_id)
    options = RunOptions(concurrency, shard_files, shard_bytes, cluster_concurrency, max_in_flight)
    credentials = credentials_from(
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        access_token=access_token,
        refresh_token=refresh_token,
        client_options=client_options,
    )
    if dry_run:
        async with credentials.client() as client:
            return await client.transfers.upload_tree(
                local_dir, workspace_id, parent_folder_id=parent_folder_id,
                concurrency=concurrency, journal=journal, progress=progress,
                on_conflict=on_conflict, dry_run=True,
            )  # fmt: skip
    started = time.monotonic()
    root = existing_dir("local_dir", local_dir).resolve()
    exclude: list[str] = []
    if journal is not None:
        base = os.fspath(Path(journal).resolve())
        exclude = [base + suffix for suffix in ("", "-wal", "-shm", "-journal")]
    scope = f"{workspace_id}:{parent_folder_id or ''}:{root}"
    jrnl = Journal(journal, kind="upload", scope=scope) if journal is not None else None
    report = TransferReport("upload")
    try:
        async with open_cluster(dask) as dclient, credentials.client() as client:
            await verify_source(dclient, os.fspath(root))
            api = RemoteAPI(client)
            try:
                await _run(
                    dclient, api, credentials, options, root, workspace_id, parent_folder_id,
                    exclude, jrnl, on_conflict, progress, report,
                )  # fmt: skip
            finally:
                report.retries += api.retries
    finally:
        if jrnl is not None:
            jrnl.close()
        report.elapsed = time.monotonic() - started
    return report


async def _run(
    dclient: Any,
    api: RemoteAPI,
    credentials: Any,
    options: RunOptions,
    root: Path,
    workspace_id: str,
    parent_folder_id: str | None,
    exclude: list[str],
    jrnl: Journal | None,
    on_conflict: str,
    progress: ProgressCallback | None,
    report: TransferReport,
) -> None:
    tree = await scan_tree(root, exclude=exclude)
    report.items_total = tree.file_count
    folders = FolderIndex(api, workspace_id)
    await folders.refresh()
    if parent_folder_id is not None:
        folders.require("parent_folder_id", parent_folder_id)
        root_id = parent_folder_id
    else:
        root_id, created = await folders.ensure(None, root.name or "upload")
        report.folders_created += created
    folder_ids: dict[str, str] = {"": root_id}
    fatal = await create_folders(tree.dirs, folders, folder_ids, options.concurrency, report)
    if fatal is not None:
        _set_aborted(report, f"{type(fatal).__name__}: {fatal}")
        return
    workers = len(dclient.scheduler_info()["workers"])
    async with run_context(dclient, credentials, options, progress) as ctx:
        ctx.progress.add_totals(items=tree.file_count, nbytes=tree.total_bytes)

        async def done(_shard: UploadShard, result: ShardResult) -> None:
            record_results(result, report, jrnl, ctx)
            await flush_journal(jrnl)
            if result.aborted is not None:
                runner.stop(result.aborted)

        async def pending() -> AsyncIterator[UploadItem]:
            async for entry in iter_files(tree):
                item = _settle(entry, folder_ids, jrnl, report, ctx.progress)
                if item is not None:
                    yield item

        runner = ShardRunner(dclient, upload_shard, done, max_in_flight=options.in_flight(workers))
        async with runner:
            number = 0
            batches = shard_stream(
                pending(), lambda i: i.size, max_files=options.shard_files,
                max_bytes=options.shard_bytes,
            )  # fmt: skip
            async for batch in batches:
                if runner.aborted is not None:
                    break
                number += 1
                shard = UploadShard(
                    ctx.run_id, number, credentials, workspace_id, os.fspath(root),
                    options.concurrency, ctx.budget, tuple(batch), on_conflict,
                )  # fmt: skip
                await runner.submit(shard)
        if hasattr(report, "rate_control"):
            object.__setattr__(report, "rate_control", ctx.rate_summary())
        if runner.aborted is not None:
            _set_aborted(report, runner.aborted)


def _settle(
    entry: LocalFile,
    folder_ids: dict[str, str],
    jrnl: Journal | None,
    report: TransferReport,
    progress: Any,
) -> UploadItem | None:
    """The item to send, or None when it is settled here (journal, skipped entries)."""
    key = entry.key
    if entry.kind != "file":
        detail = getattr(entry, "error", None)
        reason = _SKIPPED.get(entry.kind, "not uploaded") + (f": {detail}" if detail else "")
        report.failures.append(TransferFailure(key, SkippedEntryError(reason)))
        progress.local(key, None, "failed")
        return None
    done = jrnl.get(key) if jrnl is not None else None
    if done is not None and done.state == "done" and done.size == entry.size:
        report.skipped += 1
        progress.local(key, entry.size, "skipped")
        return None
    folder_id = folder_ids.get(entry.rel_dir)
    if folder_id is None:
        error = TransferError(f"folder {entry.rel_dir!r} could not be created")
        report.failures.append(TransferFailure(key, error))
        if jrnl is not None:
            jrnl.failed(key, f"{type(error).__name__}: {error}")
        progress.local(key, entry.size, "failed")
        return None
    try:
        name = local_to_remote(entry.name)
    except TransferError as exc:
        report.failures.append(TransferFailure(key, exc))
        progress.local(key, entry.size, "failed")
        return None
    return UploadItem(key, os.fspath(entry.path), folder_id, name, entry.size)


def _set_aborted(report: TransferReport, reason: str) -> None:
    if hasattr(report, "aborted"):
        object.__setattr__(report, "aborted", reason)
