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
from intralinks_async.transfers.names import sanitize_name
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
        """Download a document to ``dest`` (a file path, or an existing directory).

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
            target = target / sanitize_name(opt_str(document.name) or document_id)
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
        file's name. (After a lost answer, a document of the same name, size and SHA-1
        that was already in the folder is indistinguishable from the one just sent:
        it may be returned instead of storing the content again.) A local file that
        changes while being sent raises :class:`SourceChangedError` and is not stored;
        a document the server stored with another size or hash is deleted and
        :class:`IntegrityError` raised.
        """
        workspace_id = require_id("workspace_id", workspace_id)
        folder_id = require_id("folder_id", folder_id)
        tracker = ProgressTracker(progress, items_total=1)
        label = name or (Path(source).name if isinstance(source, str | os.PathLike) else "upload")
        item = tracker.item(label, size)
        outcome = await Uploader(self._api()).upload(
            workspace_id, folder_id, source, name=name, note=note, size=size, progress=item
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
    ) -> TransferReport:
        """Migrate the files under ``local_dir`` into the workspace.

        The local hierarchy is recreated (parents before children, siblings
        concurrently) under ``parent_folder_id``, or, when None, under a top-level
        folder named after ``local_dir`` (created or reused). Files are uploaded through
        a sliding window of ``concurrency``; a failure is recorded in the report and
        the others carry on.

        ``on_conflict`` decides what happens when the folder already holds a document of
        the same name: ``"skip"`` leaves it; ``"new_version"`` uploads the file as a new
        document of the same name (the API has no operation to replace a document's
        content), unless that document already has the same size and SHA-1;
        ``"error"`` records a :class:`RemoteConflictError` for the file, again unless
        the content is identical.

        ``journal`` (a SQLite file) makes the run resumable: done items are skipped
        (unless the file's size changed since) and items that were in flight are looked
        up remotely before being sent again. Without a journal a rerun still skips
        documents already present with the same name and size. The journal's own files
        are never uploaded, even when they sit inside ``local_dir``.

        Symbolic links are never followed (inside or outside the tree); special files
        and the temporary files of an interrupted download are not uploaded; each is listed in the report's failures as a
        :class:`SkippedEntryError`, so that nothing is left out silently. A file that
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
    ) -> TransferReport:
        """Mirror the workspace's folders and documents (or ``folder_id``'s) into ``dest_dir``.

        Remote names are sanitised into safe, distinct local names; nothing is ever
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
        )
