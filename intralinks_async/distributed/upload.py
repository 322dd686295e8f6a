"""``upload_tree`` over a Dask cluster: the coordinator side.

The run's journal, manifest, folder skeleton and name mapping are those of the
single-process ``upload_tree`` (its :class:`TreeRun` and folder phase are reused), so a
journal can be resumed by either kind of run; only the files go to the workers.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio.to_thread

from intralinks_async._client import DEFAULT_BASE_URL
from intralinks_async.distributed._cluster import DaskTarget, open_cluster
from intralinks_async.distributed._common import (
    RunContext,
    RunOptions,
    finish_report,
    record_results,
    run_context,
    settled,
    verify_source,
)
from intralinks_async.distributed._coordinator import ShardRunner
from intralinks_async.distributed._shards import (
    DEFAULT_SHARD_BYTES,
    DEFAULT_SHARD_FILES,
    FileResult,
    ShardResult,
    UploadItem,
    UploadShard,
    shard_stream,
)
from intralinks_async.distributed._tasks import upload_shard
from intralinks_async.distributed.credentials import Credentials
from intralinks_async.transfers._api import RemoteAPI
from intralinks_async.transfers._checks import existing_dir, require_id
from intralinks_async.transfers._run import TreeRun, journal_excludes
from intralinks_async.transfers.errors import SkippedEntryError, TransferError
from intralinks_async.transfers.journal import JournalEntry
from intralinks_async.transfers.names import local_to_remote
from intralinks_async.transfers.progress import ProgressCallback
from intralinks_async.transfers.report import TransferReport
from intralinks_async.transfers.upload_tree import _SKIPPED, OnConflict, _TreeUpload
from intralinks_async.transfers.walk import LocalFile, iter_batches, scan_tree

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
    manifest: str | os.PathLike[str] | None = None,
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
    ``on_conflict`` rules, journal and ``manifest``; either kind of run resumes the
    other's journal), with the files uploaded by Dask workers. ``dask`` is a
    ``distributed.Client``, a scheduler address, or a number of local worker processes
    to start. ``local_dir`` must be on storage that every worker sees at the same path
    (checked first: :class:`SharedStorageError`).

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
    credentials = Credentials.create(
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
                on_conflict=on_conflict, manifest=manifest, dry_run=True,
            )  # fmt: skip
    root = existing_dir("local_dir", local_dir).resolve()
    exclude = journal_excludes(journal) + journal_excludes(manifest)[:1]
    scope = f"{workspace_id}:{parent_folder_id or ''}:{root}"
    report = TransferReport("upload")
    async with credentials.client() as client:
        api = RemoteAPI(client)
        ctx: list[RunContext] = []
        async with (
            TreeRun(api, report, journal, kind="upload", scope=scope, manifest=manifest) as run,
            open_cluster(dask) as dclient,
        ):
            await verify_source(dclient, os.fspath(root))
            tree = await scan_tree(root, exclude=exclude)
            tree_upload = _TreeUpload(api, run, workspace_id, tree, None, on_conflict, concurrency)
            run.stop(await tree_upload.folders(parent_folder_id))
            if report.aborted is None:
                async with (
                    run.journal_writer(),
                    run_context(dclient, credentials, options, progress) as context,
                ):
                    ctx.append(context)
                    await _ship(dclient, tree_upload, context, options, on_conflict)
        if ctx:
            finish_report(report, ctx[0])
    return report


async def _ship(
    dclient: Any,
    tree_upload: _TreeUpload,
    ctx: RunContext,
    options: RunOptions,
    on_conflict: str,
) -> None:
    """Settle what the coordinator can, send the rest in shards, record the results."""
    run, tree = tree_upload.run, tree_upload.tree
    report = run.report
    ctx.progress.add_totals(items=tree.file_count, nbytes=tree.total_bytes)

    async def done(shard: UploadShard, result: ShardResult) -> None:
        items = {item.key: item for item in shard.items}
        await record_results(
            result, run, ctx, lambda r: _manifest_fields(items[r.key], r), uploaded="uploaded"
        )
        if result.aborted is not None:
            runner.stop(result.aborted)

    async def pending() -> AsyncIterator[UploadItem]:
        jrnl = run.journal
        async for batch in iter_batches(tree):
            entries: dict[str, JournalEntry] = {}
            if jrnl is not None and jrnl.had_entries:
                keys = [item.key for item in batch if item.kind == "file"]
                entries = await anyio.to_thread.run_sync(jrnl.get_many, keys)
            for entry in batch:
                item = await _settle(entry, entries.get(entry.key), tree_upload, ctx)
                if item is not None:
                    yield item

    workers = len(dclient.scheduler_info()["workers"])
    runner = ShardRunner(dclient, upload_shard, done, max_in_flight=options.in_flight(workers))
    async with runner:
        batches = shard_stream(
            pending(), lambda i: i.size, max_files=options.shard_files,
            max_bytes=options.shard_bytes,
        )  # fmt: skip
        number = 0
        async for batch in batches:
            if runner.aborted is not None:
                break
            number += 1
            shard = UploadShard(
                ctx.run_id, number, ctx.credentials, tree_upload.workspace_id,
                os.fspath(tree.root), options.concurrency, ctx.budget, tuple(batch),
                on_conflict, run.manifest is not None,
            )  # fmt: skip
            await runner.submit(shard)
    if runner.aborted is not None and report.aborted is None:
        report.aborted = runner.aborted


def _manifest_fields(item: UploadItem, result: FileResult) -> dict[str, Any]:
    local_name = item.key.rpartition("/")[2]
    return {
        "remote_path": item.remote_path,
        "renamed_from": local_name if item.name != local_name else None,
    }


async def _settle(
    entry: LocalFile,
    done: JournalEntry | None,
    tree_upload: _TreeUpload,
    ctx: RunContext,
) -> UploadItem | None:
    """The item to send, or None when it is settled here (journal, skipped entries)."""
    key, run = entry.key, tree_upload.run
    report = run.report
    if entry.kind != "file":
        detail = f": {entry.error}" if entry.error else ""
        error: Exception = SkippedEntryError(_SKIPPED.get(entry.kind, "not uploaded") + detail)
        await settled(run, ctx, key, None, error, remote_path=None)
        return None
    if done is not None and done.state == "done" and done.size == entry.size:
        await settled(run, ctx, key, entry.size, None, remote_path=None)
        return None
    if entry.rel_dir not in tree_upload.folder_ids:
        error = TransferError(f"folder {entry.rel_dir!r} could not be created")
        await settled(run, ctx, key, entry.size, error, remote_path=None, journal=True)
        return None
    folder_id = tree_upload.folder_ids[entry.rel_dir]
    name = local_to_remote(entry.name)
    remote_path = tree_upload._remote_path(entry.rel_dir, name)
    if name != entry.name:
        report.renamed.append((key, remote_path))
    if folder_id is None:  # only in a dry run, which does not come here
        raise TransferError(f"folder {entry.rel_dir!r} has no id")
    return UploadItem(key, os.fspath(entry.path), folder_id, name, entry.size, remote_path)
