"""Chunked, concurrent, verifiable transfers and resumable whole-data-room migrations.

Reached as ``client.transfers`` (a :class:`Transfers` bound to an ``IntralinksClient``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intralinks_async._generated.types import Unset
from intralinks_async.transfers._api import RemoteAPI, opt_str
from intralinks_async.transfers._checks import positive_int, require_id
from intralinks_async.transfers.download import (
    DEFAULT_CHUNK_SIZE,
    DownloadResult,
    FileDownload,
    iter_document_bytes,
)
from intralinks_async.transfers.download_tree import download_tree
from intralinks_async.transfers.errors import (
    DocumentChangedError,
    IntegrityError,
    JournalError,
    JournalMismatchError,
    RemoteConflictError,
    SkippedEntryError,
    SourceChangedError,
    SourceNotReplayableError,
    TransferError,
)
from intralinks_async.transfers.journal import Journal
from intralinks_async.transfers.names import local_to_remote, remote_to_local, to_remote
from intralinks_async.transfers.progress import ProgressCallback, ProgressEvent, ProgressTracker
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.upload import Uploader, UploadSource
from intralinks_async.transfers.upload_tree import OnConflict, upload_tree

if TYPE_CHECKING:
    from intralinks_async._generated.models import Document

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DocumentChangedError",
    "DownloadResult",
    "IntegrityError",
    "Journal",
    "JournalError",
    "JournalMismatchError",
    "OnConflict",
    "ProgressCallback",
    "ProgressEvent",
    "RemoteConflictError",
    "SkippedEntryError",
    "SourceChangedError",
    "SourceNotReplayableError",
    "TransferError",
    "TransferFailure",
    "TransferReport",
    "Transfers",
    "UploadSource",
]


class Transfers:
    """Uploads and downloads through an ``IntralinksClient`` (``client.transfers``)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def _api(self) -> RemoteAPI:
        return RemoteAPI(self._client)

    async def download_file(
        self,
        workspace_id: str | Unset,
        document_id: str | Unset,
        dest: str | os.PathLike[str],
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = 8,
        progress: ProgressCallback | None = None,
        verify: bool = True,
    ) -> DownloadResult:
        """Download a document to ``dest`` (a file path, or an existing directory, where
        the file gets the document's name mapped back as by :meth:`download_tree`).

        Concurrent ranged GETs of ``chunk_size`` bytes, at most ``concurrency`` at once,
        pinned to the document's ETag with ``If-Range``; one stream when the server
        ignores ``Range``. The file appears under its final name only once complete,
        fsynced and (with ``verify``) checked against ``fileSize`` and ``fileHash``.
        Raises :class:`DocumentChangedError` if the document changes meanwhile and
        :class:`IntegrityError` on a size or hash mismatch (no file is left either way).
        """
        workspace_id = require_id("workspace_id", workspace_id)
        document_id = require_id("document_id", document_id)
        positive_int("chunk_size", chunk_size)
        positive_int("concurrency", concurrency)
        target = Path(dest)
        if not target.is_dir() and not target.parent.is_dir():
            raise FileNotFoundError(
                f"destination directory {os.fspath(target.parent)!r} does not exist"
            )
        api = self._api()
        document = await api.get_document(workspace_id, document_id)
        if target.is_dir():
            target = target / remote_to_local(opt_str(document.name) or document_id)
        tracker = ProgressTracker(progress, items_total=1)
        item = tracker.item(target.name, None)
        result = await FileDownload(
            api,
            workspace_id,
            document_id,
            target,
            chunk_size=chunk_size,
            concurrency=concurrency,
            verify=verify,
            progress=item,
        ).run(document=document)
        item.finish()
        return result

    def iter_document_bytes(
        self, workspace_id: str | Unset, document_id: str | Unset
    ) -> AsyncGenerator[bytes, None]:
        """Stream a document's bytes in order (resumes after a dropped connection).

        Use with ``contextlib.aclosing`` when you may stop early.
        """
        return iter_document_bytes(
            self._api(),
            require_id("workspace_id", workspace_id),
            require_id("document_id", document_id),
        )

    async def upload_file(
        self,
        workspace_id: str | Unset,
        folder_id: str | Unset,
        source: str | os.PathLike[str] | bytes | Any | AsyncIterable[bytes],
        *,
        name: str | None = None,
        note: str | None = None,
        size: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> Document:
        """Upload ``source`` (path, bytes, binary file object or async iterator of bytes).

        Streamed in chunks (file reads in worker threads), with Content-Length when the
        size is known. If the connection fails once the body was sent, the folder is
        checked for the document (name, size, SHA-1) before anything is sent again, so
        the document is never stored twice; a one-shot async iterator that would need
        re-sending raises :class:`SourceNotReplayableError`. ``name`` defaults to the
        file's name; either is mapped as by :meth:`upload_tree` (``Agreement: Final.pdf``
        is stored with a fullwidth colon, which :meth:`download_file` maps back). (After a lost answer, a document of the same name, size and SHA-1
        that was already in the folder is indistinguishable from the one just sent:
        it may be returned instead of storing the content again.) A local file that
        changes while being sent raises :class:`SourceChangedError` and is not stored;
        a document the server stored with another size or hash is deleted and
        :class:`IntegrityError` raised.
        """
        workspace_id = require_id("workspace_id", workspace_id)
        folder_id = require_id("folder_id", folder_id)
        tracker = ProgressTracker(progress, items_total=1)
        local_name = Path(source).name if isinstance(source, str | os.PathLike) else None
        remote_name = to_remote(name) if name else None
        if remote_name is None and local_name:
            remote_name = local_to_remote(local_name)
        item = tracker.item(name or local_name or "upload", size)
        outcome = await Uploader(self._api()).upload(
            workspace_id, folder_id, source, name=remote_name, note=note, size=size, progress=item
        )
        item.finish()
        doc: Document = outcome.document
        return doc

    async def upload_tree(
        self,
        local_dir: str | os.PathLike[str],
        workspace_id: str | Unset,
        *,
        parent_folder_id: str | None = None,
        concurrency: int = 8,
        journal: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
        on_conflict: OnConflict = "skip",
        dry_run: bool = False,
        manifest: str | os.PathLike[str] | None = None,
    ) -> TransferReport:
        """Migrate the files under ``local_dir`` into the workspace.

        The local hierarchy is recreated (parents before children, siblings
        concurrently) under ``parent_folder_id``, or, when None, under a top-level
        folder named after ``local_dir`` (created or reused). Files are uploaded through
        a sliding window of ``concurrency``; a failure is recorded in the report and
        the others carry on.

        Names are mapped reversibly (:func:`~intralinks_async.transfers.names.local_to_remote`):
        the characters the service forbids (``/ \\ : * " < > ? |``) become fullwidth
        lookalikes, a name that is not valid UTF-8 a visible escaped form; every renamed
        item is listed in ``report.renamed``.

        A same-name document already in the folder is left alone (counted as skipped)
        when it holds the same content: same size and, when the server gives it, same
        ``fileHash`` (SHA-1). Otherwise ``on_conflict`` decides: ``"skip"`` and
        ``"error"`` upload nothing and report a :class:`RemoteConflictError` for the
        file; ``"new_version"`` uploads it as a new document of the same name (the API
        has no operation to replace a document's content).

        ``manifest`` (a path) appends one JSON Lines record per item (paths, ids, size,
        SHA-256 of the bytes read, the server's ``fileHash``, result, renaming, times).
        ``dry_run=True`` sends nothing that changes the workspace: the report lists the
        plan (``report.planned``) and its counts describe what would be done.

        A refused client (:class:`~intralinks_async.errors.AuthenticationError`) or an
        outage that outlasted the client's patience stops the run at once
        (``report.aborted`` says why); a journal that fails (full disk, corruption) stops
        it with :class:`JournalError`, whose ``report`` says what was done.

        ``journal`` (a SQLite file) makes the run resumable: done items are skipped
        (unless the file's size changed since) and items that were in flight are looked
        up remotely before being sent again. Without a journal a rerun still skips
        documents already present with the same name and size. The journal's own files
        are never uploaded, even when they sit inside ``local_dir``.

        Symbolic links are never followed (inside or outside the tree); special files,
        unreadable directories and the temporary files of an interrupted download are not
        uploaded; each is listed in the report's failures as a :class:`SkippedEntryError`,
        so that nothing is left out silently, and the rest of the tree goes on. A file that
        changes while it is being sent fails with :class:`SourceChangedError` and is
        not stored.
        """
        return await upload_tree(
            self._api(),
            local_dir,
            require_id("workspace_id", workspace_id),
            parent_folder_id=parent_folder_id,
            concurrency=concurrency,
            journal=journal,
            progress=progress,
            on_conflict=on_conflict,
            dry_run=dry_run,
            manifest=manifest,
        )

    async def download_tree(
        self,
        workspace_id: str | Unset,
        dest_dir: str | os.PathLike[str],
        *,
        folder_id: str | None = None,
        concurrency: int = 8,
        chunk_concurrency: int = 4,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        journal: str | os.PathLike[str] | None = None,
        progress: ProgressCallback | None = None,
        verify: bool = True,
        dry_run: bool = False,
        manifest: str | os.PathLike[str] | None = None,
    ) -> TransferReport:
        """Mirror the workspace's folders and documents (or ``folder_id``'s) into ``dest_dir``.

        Remote names are mapped back exactly
        (:func:`~intralinks_async.transfers.names.remote_to_local`), so a tree sent up
        and brought back has its original names; on a case-insensitive destination
        (detected) a case-only twin gets `` (2)``, as does a second document of the same
        name, each listed in ``report.renamed``. Nothing is ever
        written outside ``dest_dir``, nor through a symbolic link inside it (a linked
        file is replaced, a linked directory raises ``UnsafePathError``). Documents are downloaded as by
        :meth:`download_file` (``chunk_concurrency`` ranges each), ``concurrency`` at a
        time. A rerun skips files already present with the document's size (with a
        ``journal``, only those it recorded as done from the same document and, when the
        server gives ``fileHash``, the same content) and removes temporary files left
        by an interrupted run.
        """
        return await download_tree(
            self._api(),
            require_id("workspace_id", workspace_id),
            dest_dir,
            folder_id=folder_id,
            concurrency=concurrency,
            chunk_concurrency=chunk_concurrency,
            chunk_size=chunk_size,
            journal=journal,
            progress=progress,
            verify=verify,
            dry_run=dry_run,
            manifest=manifest,
        )
