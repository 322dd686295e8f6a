"""Shards: the unit of work a worker runs, and what it sends back.

Everything here pickles (it travels to and from workers) and holds only plain data.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from intralinks_async.distributed.credentials import Credentials

__all__ = [
    "DownloadItem",
    "DownloadShard",
    "FileResult",
    "Outcome",
    "ShardResult",
    "UploadItem",
    "UploadShard",
    "shard_stream",
]

Outcome = Literal["succeeded", "adopted", "skipped", "failed"]

#: Default cap on the files of one shard.
DEFAULT_SHARD_FILES = 200
#: Default cap on the bytes of one shard (a shard holds at least one file, whatever its size).
DEFAULT_SHARD_BYTES = 2 * 1024**3


@dataclass(frozen=True, slots=True)
class UploadItem:
    """One local file to upload into ``folder_id``."""

    key: str
    path: str
    folder_id: str
    name: str
    """The document name (the local name mapped for the data room)."""
    size: int
    remote_path: str = ""


@dataclass(frozen=True, slots=True)
class DownloadItem:
    """One document to download to ``path``."""

    key: str
    path: str
    document_id: str
    size: int | None
    file_hash: str | None
    name: str
    remote_path: str = ""


@dataclass(frozen=True, slots=True)
class _ShardBase:
    run_id: str
    number: int
    credentials: Credentials
    workspace_id: str
    root: str
    """The shared-storage directory (source of an upload, destination of a download)."""
    concurrency: int
    cluster_budget: tuple[str, int] | None
    """(name, leases) of the Dask Semaphore bounding files in flight cluster-wide."""


@dataclass(frozen=True, slots=True)
class UploadShard(_ShardBase):
    """Files to upload; their folders already exist."""

    items: tuple[UploadItem, ...] = ()
    on_conflict: str = "skip"
    sha256: bool = False
    """Also compute each file's SHA-256 (for a manifest)."""


@dataclass(frozen=True, slots=True)
class DownloadShard(_ShardBase):
    """Documents to download; their directories already exist."""

    items: tuple[DownloadItem, ...] = ()
    chunk_size: int = 8 * 1024 * 1024
    chunk_concurrency: int = 4
    verify: bool = True
    sha256: bool = False


@dataclass(frozen=True, slots=True)
class FileResult:
    """What happened to one file of a shard."""

    key: str
    outcome: Outcome
    size: int | None = None
    remote_id: str | None = None
    sha1: str | None = None
    error_type: str | None = None
    error: str | None = None
    sha256: str | None = None
    server_hash: str | None = None
    started_at: str | None = None
    ended_at: str | None = None


@dataclass(slots=True)
class ShardResult:
    """A shard's per-file results, its worker and the worker client's counters."""

    number: int
    worker: str
    results: list[FileResult] = field(default_factory=list)
    retries: int = 0
    aborted: str | None = None
    rate_control: dict[str, object] | None = None


I = TypeVar("I")  # noqa: E741


@dataclass(slots=True)
class _Batch(Generic[I]):
    items: list[I] = field(default_factory=list)
    nbytes: int = 0


async def shard_stream(
    items: AsyncIterable[I],
    size_of: Callable[[I], int],
    *,
    max_files: int,
    max_bytes: int,
) -> AsyncIterator[list[I]]:
    """Group ``items`` into lists of at most ``max_files`` items and about ``max_bytes``.

    A list closes before an item that would take it past ``max_bytes`` (a single item
    bigger than that forms a list of its own). Only the current list is held in memory.
    """
    batch: _Batch[I] = _Batch()
    async for item in items:
        size = max(0, size_of(item))
        if batch.items and (len(batch.items) >= max_files or batch.nbytes + size > max_bytes):
            yield batch.items
            batch = _Batch()
        batch.items.append(item)
        batch.nbytes += size
    if batch.items:
        yield batch.items
