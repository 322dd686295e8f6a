"""``download_tree`` over a Dask cluster: the coordinator side.

The plan (local names, directories), journal and manifest are those of the
single-process ``download_tree`` (its :class:`TreeRun` and planning are reused); only
the documents are fetched by the workers.
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
    verify_destination,
)
from intralinks_async.distributed._coordinator import ShardRunner
from intralinks_async.distributed._shards import (
    DEFAULT_SHARD_BYTES,
    DEFAULT_SHARD_FILES,
    DownloadItem,
    DownloadShard,
    FileResult,
    ShardResult,
    shard_stream,
)
from intralinks_async.distributed._tasks import download_shard
from intralinks_async.distributed._worker import is_fatal
from intralinks_async.distributed.credentials import Credentials
from intralinks_async.transfers._api import RemoteAPI, doc_hash, doc_size, opt_str
from intralinks_async.transfers._checks import positive_int, require_id, writable_target_dir
from intralinks_async.transfers._run import TreeRun
from intralinks_async.transfers.download import DEFAULT_CHUNK_SIZE
from intralinks_async.transfers.download_tree import (
    _Item,
    _local_size,
    _still_good,
    _TreeDownload,
)
from intralinks_async.transfers.journal import JournalEntry
from intralinks_async.transfers.names import from_remote, safe_join
from intralinks_async.transfers.progress import ProgressCallback
from intralinks_async.transfers.report import TransferFailure, TransferReport

__all__ = ["download_tree"]


async def download_tree(
    workspace_id: str,
    dest_dir: str | os.PathLike[str],
    *,
    dask: DaskTarget,
    base_url: str = DEFAULT_BASE_URL,
    client_id: str | None = None,
    client_secret: str | None = None,
    access_token: str | None = None,
    refresh_token: str | None = None,
    client_options: Mapping[str, Any] | None = None,
    folder_id: str | None = None,
    concurrency: int = 8,
    chunk_concurrency: int = 4,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    journal: str | os.PathLike[str] | None = None,
    manifest: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    verify: bool = True,
    shard_files: int = DEFAULT_SHARD_FILES,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    cluster_concurrency: int | None = None,
    max_in_flight: int | None = None,
    dry_run: bool = False,
) -> TransferReport:
    """Mirror the workspace (or ``folder_id``) into ``dest_dir``, sharded over a Dask cluster.

    The same mirror as ``client.transfers.download_tree`` (same local names, skip rules,
    journal and ``manifest``), with the documents fetched by Dask workers into
    ``dest_dir``, which must be on storage every worker sees at the same path and can
    write (checked first: :class:`SharedStorageError`). This process lists the folders
    and documents, creates every directory, and ships documents in shards
    (``shard_files`` / ``shard_bytes``); the other options are those of
    :func:`upload_tree` and of the single-process call (``dry_run=True`` plans without
    the cluster, as the single-process dry run).
    """
    workspace_id = require_id("workspace_id", workspace_id)
    options = RunOptions(concurrency, shard_files, shard_bytes, cluster_concurrency, max_in_flight)
    positive_int("chunk_concurrency", chunk_concurrency)
    positive_int("chunk_size", chunk_size)
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
            return await client.transfers.download_tree(
                workspace_id, dest_dir, folder_id=folder_id, concurrency=concurrency,
                chunk_concurrency=chunk_concurrency, chunk_size=chunk_size, journal=journal,
                progress=progress, verify=verify, manifest=manifest, dry_run=True,
            )  # fmt: skip
    dest = writable_target_dir("dest_dir", dest_dir).resolve()
    scope = f"{workspace_id}:{folder_id or ''}:{dest}"
    report = TransferReport("download")
    async with credentials.client() as client:
        api = RemoteAPI(client)
        ctx: list[RunContext] = []
        async with (
            TreeRun(api, report, journal, kind="download", scope=scope, manifest=manifest) as run,
            open_cluster(dask) as dclient,
        ):
            mirror = _TreeDownload(
                api, run, workspace_id, dest, None, concurrency=concurrency,
                chunk_size=chunk_size, chunk_concurrency=chunk_concurrency, verify=verify,
            )  # fmt: skip
            try:
                order = await mirror.plan(folder_id)
            except Exception as exc:
                if not is_fatal(exc):
                    raise
                run.stop(exc)
            else:
                await verify_destination(dclient, os.fspath(dest))
                async with (
                    run.journal_writer(),
                    run_context(dclient, credentials, options, progress) as context,
                ):
                    ctx.append(context)
                    await _ship(dclient, mirror, order, context, options)
        if ctx:
            finish_report(report, ctx[0])
    return report


class _Collect:
    """Stands in for the single-process run's stream: keeps one folder's listing."""

    def __init__(self) -> None:
        self.items: list[tuple[_Item, JournalEntry | None]] = []

    async def send(self, batch: list[tuple[_Item, JournalEntry | None]]) -> None:
        self.items.extend(batch)


async def _ship(
    dclient: Any,
    mirror: _TreeDownload,
    order: list[tuple[str, tuple[str, ...]]],
    ctx: RunContext,
    options: RunOptions,
) -> None:
    """List folder by folder, settle what is already here, ship the rest in shards."""
    run = mirror.run
    report = run.report

    async def done(shard: DownloadShard, result: ShardResult) -> None:
        items = {item.key: item for item in shard.items}
        await record_results(
            result, run, ctx, lambda r: _manifest_fields(items[r.key], r), uploaded="downloaded"
        )
        if result.aborted is not None:
            runner.stop(result.aborted)

    async def pending() -> AsyncIterator[DownloadItem]:
        for entry in order:
            if runner.aborted is not None:
                return
            sink = _Collect()
            try:
                await mirror._list_folder(entry, sink)
            except Exception as exc:
                report.failures.append(TransferFailure("/".join(entry[1]) + "/", exc))
                if is_fatal(exc):
                    runner.stop(f"{type(exc).__name__}: {exc}")
                continue
            ctx.progress.add_totals(
                items=len(sink.items), nbytes=sum(doc_size(i.doc) or 0 for i, _ in sink.items)
            )
            have = await anyio.to_thread.run_sync(_sizes, mirror, [i for i, _ in sink.items])
            for (item, journal_entry), size in zip(sink.items, have, strict=True):
                ready = await _settle(mirror, ctx, item, journal_entry, size)
                if ready is not None:
                    yield ready

    workers = len(dclient.scheduler_info()["workers"])
    runner = ShardRunner(dclient, download_shard, done, max_in_flight=options.in_flight(workers))
    async with runner:
        batches = shard_stream(
            pending(), lambda i: i.size or 0, max_files=options.shard_files,
            max_bytes=options.shard_bytes,
        )  # fmt: skip
        number = 0
        async for batch in batches:
            if runner.aborted is not None:
                break
            number += 1
            shard = DownloadShard(
                ctx.run_id, number, ctx.credentials, mirror.workspace_id,
                os.fspath(mirror.dest), options.concurrency, ctx.budget, tuple(batch),
                mirror.chunk_size, mirror.chunk_concurrency, mirror.verify,
                run.manifest is not None,
            )  # fmt: skip
            await runner.submit(shard)
    if runner.aborted is not None and report.aborted is None:
        report.aborted = runner.aborted


def _sizes(mirror: _TreeDownload, items: list[_Item]) -> list[int | None]:
    """Local sizes of the files already there (only in directories that held files)."""
    return [
        _local_size(safe_join(mirror.dest, *item.parts))
        if item.parts[:-1] in mirror.occupied
        else None
        for item in items
    ]


async def _settle(
    mirror: _TreeDownload,
    ctx: RunContext,
    item: _Item,
    entry: JournalEntry | None,
    have: int | None,
) -> DownloadItem | None:
    """The document to fetch, or None when the local file already is it (or it is bad)."""
    run = mirror.run
    doc_id, size = opt_str(item.doc.id), doc_size(item.doc)
    remote_path = mirror._remote_path(item)
    if doc_id is None:
        await settled(
            run, ctx, item.key, size, ValueError("document without id"),
            remote_path=remote_path, journal=True,
        )  # fmt: skip
        return None
    if have is not None and have == size and _still_good(item.doc, doc_id, run.journal, entry):
        await settled(run, ctx, item.key, size, None, remote_path=remote_path)
        return None
    if run.journal is not None:
        run.journal.plan(item.key, size=size)
    path = os.fspath(safe_join(mirror.dest, *item.parts))
    name = opt_str(item.doc.name) or "_"
    return DownloadItem(item.key, path, doc_id, size, doc_hash(item.doc), name, remote_path)


def _manifest_fields(item: DownloadItem, result: FileResult) -> dict[str, Any]:
    local_name = item.key.rpartition("/")[2]
    return {
        "remote_path": item.remote_path,
        "renamed_from": item.name if local_name != from_remote(item.name) else None,
    }
