"""Exceptions of distributed migrations (all subclass :class:`IntralinksError`)."""

from __future__ import annotations

from intralinks_async.errors import IntralinksError
from intralinks_async.transfers.errors import TransferError

__all__ = [
    "DistributedError",
    "ShardLostError",
    "SharedStorageError",
    "UnsupportedCredentialsError",
    "WorkerTransferError",
]


class DistributedError(IntralinksError):
    """Base class of distributed-migration errors."""


class UnsupportedCredentialsError(DistributedError, ValueError):
    """Credentials that cannot be shared by many processes (e.g. a rotating refresh token)."""


class SharedStorageError(DistributedError):
    """A worker cannot see the source or destination at the coordinator's path."""

    def __init__(self, message: str, *, worker: str, path: str) -> None:
        super().__init__(message)
        self.worker = worker
        self.path = path

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_storage_error, (str(self), self.worker, self.path))


def _rebuild_storage_error(message: str, worker: str, path: str) -> SharedStorageError:
    return SharedStorageError(message, worker=worker, path=path)


class WorkerTransferError(TransferError):
    """A file failed on a worker; ``error_type`` names the worker-side exception."""

    def __init__(self, message: str, *, error_type: str, worker: str | None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.worker = worker

    def __str__(self) -> str:
        where = f" (on worker {self.worker})" if self.worker else ""
        return f"{self.error_type}: {self.args[0]}{where}"


class ShardLostError(DistributedError):
    """A shard could not be completed by any worker (the files are resumable)."""
