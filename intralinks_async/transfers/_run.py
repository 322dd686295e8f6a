"""What both tree transfers share: the journal's lifecycle, its writer task, the end of a run."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread

from intralinks_async.transfers._api import RemoteAPI
from intralinks_async.transfers.errors import JournalError
from intralinks_async.transfers.journal import Journal
from intralinks_async.transfers.manifest import ManifestError, ManifestRecord, ManifestWriter
from intralinks_async.transfers.report import TransferReport

__all__ = ["FLUSH_INTERVAL", "TreeRun", "journal_excludes"]

#: Seconds between two batched journal transactions.
FLUSH_INTERVAL = 0.2


def journal_excludes(journal: str | os.PathLike[str] | None) -> list[str]:
    """The journal's files (SQLite's side files and the lock file included), absolute."""
    if journal is None:
        return []
    base = os.path.abspath(os.fspath(journal))
    return [base + suffix for suffix in ("", "-wal", "-shm", "-journal", ".lock")]


def _rate_control(client: Any) -> dict[str, Any] | None:
    """``client.rate_control.snapshot().to_dict()``, when the client has rate control."""
    control = getattr(client, "rate_control", None)
    snapshot = getattr(control, "snapshot", None)
    if snapshot is None:
        return None
    state = snapshot()
    to_dict = getattr(state, "to_dict", None)
    return dict(to_dict()) if to_dict is not None else None


class TreeRun:
    """One tree transfer's report, journal and end-of-run bookkeeping.

    ``async with TreeRun(...) as run:`` opens the journal (a :class:`JournalError` at
    open carries the empty report), writes its buffered records every
    :data:`FLUSH_INTERVAL` seconds in a worker thread while the block runs, and on the
    way out writes the rest, closes it, and fills in retries, timing and rate control.
    :meth:`stop` records why the run stopped early; a journal (or manifest) failure is
    then raised as :class:`JournalError` (:class:`ManifestError`) with ``report``
    attached. With ``manifest``, :meth:`record` writes one record per item.
    """

    def __init__(
        self,
        api: RemoteAPI,
        report: TransferReport,
        journal: str | os.PathLike[str] | None,
        *,
        kind: str,
        scope: str,
        manifest: str | os.PathLike[str] | None = None,
    ) -> None:
        self.api = api
        self._manifest_path = manifest
        self.manifest: ManifestWriter | None = None
        self.report = report
        self._journal_path = journal
        self._kind = kind
        self._scope = scope
        self.journal: Journal | None = None
        self._started = time.monotonic()
        self._fatal: Exception | None = None

    async def __aenter__(self) -> TreeRun:
        if self._journal_path is not None:
            try:
                self.journal = await anyio.to_thread.run_sync(
                    lambda: Journal(self._journal_path or "", kind=self._kind, scope=self._scope)
                )
            except JournalError as exc:
                exc.report = self.report
                raise
        if self._manifest_path is not None:
            writer = ManifestWriter(self._manifest_path)
            try:
                await writer.__aenter__()
            except BaseException:
                await self._close_journal()
                raise
            self.manifest = writer
        return self

    async def record(self, **fields: Any) -> None:
        """Write one manifest record (when the run keeps a manifest)."""
        if self.manifest is not None:
            await self.manifest.write(ManifestRecord(**fields))

    async def _close_journal(self) -> JournalError | None:
        if self.journal is None:
            return None
        jrnl = self.journal
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(jrnl.close)
            except JournalError as error:
                return error
        return None

    @asynccontextmanager
    async def journal_writer(self) -> AsyncIterator[None]:
        """Flush the journal periodically while the block runs."""
        jrnl = self.journal
        if jrnl is None:
            yield
            return
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._flush_loop, jrnl)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()

    @staticmethod
    async def _flush_loop(jrnl: Journal) -> None:
        while True:
            await anyio.sleep(FLUSH_INTERVAL)
            try:
                await anyio.to_thread.run_sync(jrnl.flush)
            except JournalError:
                return  # the workers see ``jrnl.failure`` and stop the run

    def stop(self, exc: Exception | None) -> None:
        """Record the fatal failure (if any) that ended the run before its end."""
        if exc is not None and self._fatal is None:
            self._fatal = exc
            self.report.aborted = f"{type(exc).__name__}: {exc}"

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        closing_error = await self._close_journal()
        manifest_error: ManifestError | None = None
        if self.manifest is not None:
            try:
                await self.manifest.aclose()
            except ManifestError as error:
                manifest_error = error
        report = self.report
        report.retries = self.api.retries
        report.elapsed = time.monotonic() - self._started
        try:
            report.rate_control = _rate_control(self.api.client)
        except Exception:
            report.rate_control = None
        if exc is not None:
            return
        failure: JournalError | ManifestError | None = closing_error or manifest_error
        if isinstance(self._fatal, JournalError | ManifestError):
            failure = self._fatal
        if failure is not None:
            if report.aborted is None:
                report.aborted = f"{type(failure).__name__}: {failure}"
            failure.report = report
            raise failure
