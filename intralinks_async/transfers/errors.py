"""Exceptions raised by transfers (all subclass :class:`IntralinksError`)."""

from __future__ import annotations

from typing import Any

from intralinks_async.errors import IntralinksError

__all__ = [
    "DocumentChangedError",
    "IntegrityError",
    "JournalError",
    "JournalLockedError",
    "JournalMismatchError",
    "RemoteConflictError",
    "SkippedEntryError",
    "SourceChangedError",
    "SourceNotReplayableError",
    "TransferError",
]


class TransferError(IntralinksError):
    """Base class of transfer failures.

    When one ends a whole tree transfer (a broken journal or manifest), ``report`` is
    the :class:`~intralinks_async.transfers.report.TransferReport` of what was done.
    """

    report: Any = None


class IntegrityError(TransferError):
    """Downloaded or uploaded bytes do not match the size or hash the server reports."""


class SourceChangedError(IntegrityError):
    """A local file changed (size or modification time) while it was being uploaded.

    Raised before the last byte is sent, so the server never stores the torn content.
    """


class DocumentChangedError(TransferError):
    """The document was replaced while it was being downloaded (its ETag changed)."""


class SourceNotReplayableError(TransferError):
    """An upload must be re-sent but its source (a one-shot iterator) cannot be re-read."""


class RemoteConflictError(TransferError):
    """A document of the same name already exists and ``on_conflict="error"`` was asked."""


class SkippedEntryError(TransferError):
    """A local entry that is not uploaded: a symbolic link (never followed) or a special file."""


class JournalError(TransferError):
    """The journal cannot be used (not a journal, locked, corrupt, or its disk is full).

    Raised by a tree transfer that had to stop because of it, with ``report`` (a
    :class:`~intralinks_async.transfers.report.TransferReport`) saying what was done.
    """


class JournalLockedError(JournalError):
    """The journal is in use by another migration (another process holds its lock)."""


class JournalMismatchError(JournalError):
    """The journal file records a different migration than the one being run."""
