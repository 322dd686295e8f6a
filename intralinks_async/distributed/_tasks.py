"""The shard tasks submitted to Dask (``async def``: they run on the worker's event loop).

Both are idempotent, because Dask runs a shard again when its worker dies:

* an upload lists each target folder of the shard once and treats a document of the
  same name, size and SHA-1 (``fileHash``) as already landed, so a rerun stores nothing
  twice (a same-name document with other content is a conflict, as in a single-process
  run: skipped with an error unless ``on_conflict="new_version"``);
* a download writes to a temporary file renamed into place, so a rerun only rewrites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intralinks_async.distributed._shards import (
    DownloadItem,
    DownloadShard,
    FileResult,
    ShardResult,
    UploadItem,
    UploadShard,
)
from intralinks_async.distributed._worker import ShardContext, run_shard
from intralinks_async.transfers._api import doc_hash, doc_size, opt_str
from intralinks_async.transfers._remote_index import DocumentIndex
from intralinks_async.transfers.download import FileDownload
from intralinks_async.transfers.errors import (
    DocumentChangedError,
    IntegrityError,
    RemoteConflictError,
)
from intralinks_async.transfers.manifest import utc_now
from intralinks_async.transfers.upload import Uploader, hash_file

__all__ = ["download_shard", "upload_shard"]


async def upload_shard(shard: UploadShard) -> ShardResult:
    """Upload a shard's files (their folders exist); one result per attempted file."""
    folders = len({item.folder_id for item in shard.items})
    tools: list[tuple[DocumentIndex, Uploader]] = []

    async def transfer(ctx: ShardContext, item: UploadItem) -> FileResult:
        if not tools:  # one listing per target folder for the whole shard
            tools.append(
                (DocumentIndex(ctx.api, shard.workspace_id, max_folders=folders), Uploader(ctx.api))
            )
        docs, uploader = tools[0]
        return await _upload_item(ctx, docs, uploader, shard, item)

    return await run_shard(shard, shard.items, lambda item: item.key, transfer)


async def _landed(item: UploadItem, same: list[Any]) -> tuple[Any, str] | None:
    """The same-name document that already holds this file: same size, and same SHA-1
    when the server gives ``fileHash``."""
    sized = [d for d in same if doc_size(d) == item.size]
    if not sized:
        return None
    _size, sha1 = await hash_file(item.path)
    for doc in sized:
        if doc_hash(doc) in (None, sha1):
            return doc, sha1
    return None


async def _upload_item(
    ctx: ShardContext,
    docs: DocumentIndex,
    uploader: Uploader,
    shard: UploadShard,
    item: UploadItem,
) -> FileResult:
    prog = ctx.tracker.item(item.key, item.size)
    started = utc_now()
    try:
        same = await docs.same_name(item.folder_id, item.name)
        if same:
            found = await _landed(item, same)
            if found is not None:
                doc, sha1 = found
                prog.skip()
                return FileResult(
                    item.key, "skipped", item.size, opt_str(doc.id), sha1,
                    server_hash=doc_hash(doc), started_at=started, ended_at=utc_now(),
                )  # fmt: skip
            if shard.on_conflict != "new_version":
                raise RemoteConflictError(
                    f"a different document named {item.name!r} (other size or content) "
                    f"already exists in the folder; not uploaded (on_conflict="
                    f"{shard.on_conflict!r}; use 'new_version' to upload it alongside)"
                )
        outcome = await uploader.upload(
            shard.workspace_id,
            item.folder_id,
            item.path,
            name=item.name,
            size=item.size,
            progress=prog,
            existing_ids=[i for d in same if (i := opt_str(d.id)) is not None],
            regular_file=True,
            sha256=shard.sha256,
        )
        docs.add(item.folder_id, outcome.document)
        prog.finish()
        return FileResult(
            item.key,
            "adopted" if outcome.adopted else "succeeded",
            outcome.size,
            opt_str(outcome.document.id),
            outcome.sha1,
            sha256=outcome.sha256,
            server_hash=doc_hash(outcome.document),
            started_at=started,
            ended_at=utc_now(),
        )
    except BaseException:
        prog.fail()
        raise


async def download_shard(shard: DownloadShard) -> ShardResult:
    """Download a shard's documents (their directories exist); one result per attempted file."""

    async def transfer(ctx: ShardContext, item: DownloadItem) -> FileResult:
        return await _download_item(ctx, shard, item)

    return await run_shard(shard, shard.items, lambda item: item.key, transfer)


def _document(item: DownloadItem) -> Any:
    from intralinks_async._generated.models import Document

    data: dict[str, Any] = {"id": item.document_id, "name": item.name}
    if item.size is not None:
        data["fileSize"] = item.size
    if item.file_hash is not None:
        data["fileHash"] = item.file_hash
    return Document.from_dict(data)


async def _download_item(ctx: ShardContext, shard: DownloadShard, item: DownloadItem) -> FileResult:
    prog = ctx.tracker.item(item.key, item.size)
    api = ctx.api
    started = utc_now()

    def attempt() -> FileDownload:
        return FileDownload(
            api,
            shard.workspace_id,
            item.document_id,
            Path(item.path),
            chunk_size=shard.chunk_size,
            concurrency=shard.chunk_concurrency,
            verify=shard.verify,
            progress=prog,
            sha256=shard.sha256,
        )

    try:
        download = attempt()
        try:
            result = await download.run(document=_document(item))
        except (DocumentChangedError, IntegrityError):
            # The listing may predate a new version: fetch once more with fresh metadata.
            fresh = await api.get_document(shard.workspace_id, item.document_id)
            if (doc_size(fresh), doc_hash(fresh)) == (item.size, item.file_hash):
                raise
            prog.rewind()
            download = attempt()
            result = await download.run(document=fresh)
        prog.finish()
        return FileResult(
            item.key, "succeeded", result.size, item.document_id, result.sha1,
            sha256=download.sha256, server_hash=item.file_hash, started_at=started,
            ended_at=utc_now(),
        )  # fmt: skip
    except BaseException:
        prog.fail()
        raise
