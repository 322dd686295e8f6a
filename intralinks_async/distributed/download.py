"""``download_tree`` over a Dask cluster: the coordinator side."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import anyio.to_thread

from intralinks_async._client import DEFAULT_BASE_URL
from intralinks_async.distributed._cluster import DaskTarget, open_cluster
from intralinks_async.distributed._common import (
    RunOptions,
    credentials_from,
    flush_journal,
    record_results,
    run_context,
    verify_destination,
)
from intralinks_async.distributed._coordinator import ShardRunner
from intralinks_async.distributed._shards import (
    DEFAULT_SHARD_BYTES,
    DEFAULT_SHARD_FILES,
    DownloadItem,
    DownloadShard,
    ShardResult,
    shard_stream,
)
from intralinks_async.distributed._tasks import download_shard
from intralinks_async.transfers._api import RemoteAPI, doc_hash, doc_size, opt_str
from intralinks_async.transfers._checks import positive_int, require_id, writable_target_dir
from intralinks_async.transfers._remote_index import FolderIndex
from intralinks_async.transfers.download import DEFAULT_CHUNK_SIZE
from intralinks_async.transfers.download_tree import _local_size, _plan_dirs, _prepare_dirs
from intralinks_async.transfers.journal import Journal
from intralinks_async.transfers.names import NameAllocator, safe_join
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
    progress: ProgressCallback | None = None,
    verify: bool = True,
    shard_files: int = DEFAULT_SHARD_FILES,
    shard_bytes: int = DEFAULT_SHARD_BYTES,
    cluster_concurrency: int | None = None,
    max_in_flight: int | None = None,
    dry_run: bool = False,
) -> TransferReport:
    """Mirror the workspace (or ``folder_id``) into ``dest_dir``, sharded over a Dask cluster.

    The same mirror as ``client.transfers.download_tree`` (same local names, skip rules
    and journal), with the documents fetched by Dask workers into ``dest_dir``, which
    must be on storage every worker sees at the same path and can write (checked first:
    :class:`SharedStorageError`). This process lists the folders and documents, creates
    every directory, and ships documents in shards (``shard_files`` / ``shard_bytes``);
    the other options are those of :func:`upload_tree` and of the single-process call
    (``dry_run=True`` plans without the cluster, as the single-process dry run).
    """
    workspace_id = require_id("workspace_id", workspace_id)
    options = RunOptions(concurrency, shard_files, shard_bytes, cluster_concurrency, max_in_flight)
    positive_int("chunk_concurrency", chunk_concurrency)
    positive_int("chunk_size", chunk_size)
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
            return await client.transfers.download_tree(
                workspace_id, dest_dir, folder_id=folder_id, concurrency=concurrency,
                chunk_concurrency=chunk_concurrency, chunk_size=chunk_size, journal=journal,
                progress=progress, verify=verify, dry_run=True,
            )  # fmt: skip
    started = time.monotonic()
    dest = writable_target_dir("dest_dir", dest_dir).resolve()
    scope = f"{workspace_id}:{folder_id or ''}:{dest}"
    jrnl = Journal(journal, kind="download", scope=scope) if journal is not None else None
    report = TransferReport("download")
    tuning = (chunk_size, chunk_concurrency, verify)
    try:
        async with open_cluster(dask) as dclient, credentials.client() as client:
            api = RemoteAPI(client)
            try:
                await _run(
                    dclient, api, credentials, options, dest, workspace_id, folder_id,
                    jrnl, progress, report, tuning,
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
    dest: Path,
    workspace_id: str,
    folder_id: str | None,
    jrnl: Journal | None,
    progress: ProgressCallback | None,
    report: TransferReport,
    tuning: tuple[int, int, bool],
) -> None:
    index = FolderIndex(api, workspace_id)
    await index.refresh()
    if folder_id is not None:
        index.require("folder_id", folder_id)
    order, allocators = _plan_dirs(index.folders, folder_id)
    await anyio.to_thread.run_sync(
        _prepare_dirs, dest, [(), *[parts for _fid, parts in order if parts]]
    )
    await verify_destination(dclient, os.fspath(dest))
    workers = len(dclient.scheduler_info()["workers"])
    async with run_context(dclient, credentials, options, progress) as ctx:

        async def done(_shard: DownloadShard, result: ShardResult) -> None:
            record_results(result, report, jrnl, ctx)
            await flush_journal(jrnl)
            if result.aborted is not None:
                runner.stop(result.aborted)

        async def pending() -> AsyncIterator[DownloadItem]:
            for fid, parts in order:
                try:
                    docs = await api.list_documents(workspace_id, fid)
                except Exception as exc:
                    report.failures.append(TransferFailure("/".join(parts) + "/", exc))
                    continue
                alloc = allocators.setdefault(parts, NameAllocator())
                items = _items(dest, docs, parts, alloc)
                report.items_total += len(items)
                ctx.progress.add_totals(items=len(items), nbytes=sum(i.size or 0 for i in items))
                have = await anyio.to_thread.run_sync(_sizes, [i.path for i in items])
                for item, size in zip(items, have, strict=True):
                    if _already_here(item, size, jrnl):
                        report.skipped += 1
                        ctx.progress.local(item.key, item.size, "skipped")
                    else:
                        if jrnl is not None:
                            jrnl.plan(item.key, size=item.size)
                        yield item

        runner = ShardRunner(
            dclient, download_shard, done, max_in_flight=options.in_flight(workers)
        )
        chunk_size, chunk_concurrency, verify = tuning
        async with runner:
            number = 0
            batches = shard_stream(
                pending(), lambda i: i.size or 0, max_files=options.shard_files,
                max_bytes=options.shard_bytes,
            )  # fmt: skip
            async for batch in batches:
                if runner.aborted is not None:
                    break
                number += 1
                shard = DownloadShard(
                    ctx.run_id, number, credentials, workspace_id, os.fspath(dest),
                    options.concurrency, ctx.budget, tuple(batch), chunk_size,
                    chunk_concurrency, verify,
                )  # fmt: skip
                await runner.submit(shard)
        if hasattr(report, "rate_control"):
            object.__setattr__(report, "rate_control", ctx.rate_summary())
        if runner.aborted is not None and hasattr(report, "aborted"):
            object.__setattr__(report, "aborted", runner.aborted)


def _items(
    dest: Path, docs: list[Any], parts: tuple[str, ...], alloc: NameAllocator
) -> list[DownloadItem]:
    """The folder's documents with their local paths (names allocated in sorted order)."""
    docs = sorted(docs, key=lambda d: (opt_str(d.name) or "", opt_str(d.id) or ""))
    out: list[DownloadItem] = []
    for doc in docs:
        local = (*parts, alloc.allocate(opt_str(doc.name) or "_"))
        doc_id = opt_str(doc.id)
        if doc_id is None:
            continue
        out.append(
            DownloadItem(
                "/".join(local),
                os.fspath(safe_join(dest, *local)),
                doc_id,
                doc_size(doc),
                doc_hash(doc),
                opt_str(doc.name) or "_",
            )
        )
    return out


def _sizes(paths: list[str]) -> list[int | None]:
    return [_local_size(Path(p)) for p in paths]


def _already_here(item: DownloadItem, have: int | None, jrnl: Journal | None) -> bool:
    """Whether the local file is already this document (single-process rules)."""
    if have is None or have != item.size:
        return False
    if jrnl is None:
        return True
    entry = jrnl.get(item.key)
    return (
        entry is not None
        and entry.state == "done"
        and entry.remote_id == item.document_id
        and (item.file_hash is None or entry.sha1 is None or entry.sha1 == item.file_hash)
    )
