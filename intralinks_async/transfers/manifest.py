"""Chain-of-custody manifests: one JSON Lines record per item of a migration.

:class:`ManifestWriter` appends :class:`ManifestRecord` lines in batches written by a
worker thread (the event loop never blocks on the disk) and fsyncs on close. Each batch
is one ``write`` of whole lines, so a crash can at worst leave one truncated last line:
:func:`read_manifest` skips it (and reports where), and a writer reopening the file
starts on a fresh line. :func:`write_html_summary` renders a migration or a
verification for the people who sign off a data room.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, BinaryIO

import anyio
import anyio.to_thread

from intralinks_async.transfers._summary_html import render_summary
from intralinks_async.transfers.errors import TransferError

__all__ = [
    "RESULTS",
    "ManifestError",
    "ManifestRecord",
    "ManifestWriter",
    "read_manifest",
    "utc_now",
    "write_html_summary",
]

#: The usual values of :attr:`ManifestRecord.result`.
RESULTS = frozenset(
    {"uploaded", "downloaded", "adopted", "skipped", "failed", "conflict", "planned"}
)


class ManifestError(TransferError):
    """The manifest cannot be written or read (disk full, not a manifest...)."""


def utc_now() -> str:
    """The current time as ISO-8601 UTC with milliseconds (``2026-12-01T20:15:03.123Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ManifestRecord:
    """What happened to one item: where it was, where it went, its hashes and the outcome.

    ``sha256`` is the hex SHA-256 of the local bytes; ``server_hash`` the server's
    ``fileHash`` (base64 SHA-1); ``renamed_from`` the name the item had before a name
    mapping or collision renamed it; times are ISO-8601 UTC (see :func:`utc_now`).
    """

    local_path: str | None
    remote_path: str | None
    result: str
    remote_id: str | None = None
    size: int | None = None
    sha256: str | None = None
    server_hash: str | None = None
    renamed_from: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-serialisable dict (every field, ``None`` included)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> ManifestRecord:
        """Build a record from a parsed line; raises :class:`ManifestError` on bad shapes."""
        if not isinstance(data, dict) or not isinstance(data.get("result"), str):
            raise ManifestError("not a manifest record (no 'result')")
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            wanted: type = int if f.name == "size" else str
            if value is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
                raise ManifestError(f"manifest field {f.name!r} has a {type(value).__name__}")
            values[f.name] = value
        return cls(**values)


def _encode(record: ManifestRecord) -> bytes:
    data = record.to_dict()
    try:
        return (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # an undecodable name: \udcff escapes, still lossless
        return (json.dumps(data) + "\n").encode("ascii")


class ManifestWriter:
    """Append records to a JSON Lines manifest, off the event loop, in batches.

    ``async with ManifestWriter(path) as m: await m.write(record)``. Records are buffered
    and written when ``batch_size`` accumulate or ``flush_interval`` seconds have passed
    since the last write; :meth:`aclose` (the end of the ``async with``) writes the rest
    and fsyncs. An existing manifest is appended to. Failures raise :class:`ManifestError`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        batch_size: int = 256,
        flush_interval: float = 1.0,
    ) -> None:
        self.path = os.fspath(path)
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.records_written = 0
        self._buffer: list[ManifestRecord] = []
        # Bytes of a batch whose write failed part-way, and how many records they finish:
        # written first next time, so that no record is lost or written twice.
        self._pending = b""
        self._pending_records = 0
        self._file: BinaryIO | None = None
        self._lock = anyio.Lock()
        self._last_flush = time.monotonic()
        self._closed = False

    def _open(self) -> BinaryIO:
        file = open(self.path, "a+b", buffering=0)  # noqa: SIM115 (closed in aclose)
        try:
            if file.seek(0, os.SEEK_END) > 0:
                file.seek(-1, os.SEEK_END)
                if file.read(1) != b"\n":  # a crash cut the last line: start afresh
                    file.write(b"\n")
        except BaseException:
            file.close()
            raise
        return file

    async def __aenter__(self) -> ManifestWriter:
        try:
            self._file = await anyio.to_thread.run_sync(self._open)
        except OSError as exc:
            raise ManifestError(f"cannot open manifest {self.path!r}: {exc}") from None
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def write(self, record: ManifestRecord) -> None:
        """Queue ``record``; writes a batch when one is due."""
        if self._closed or self._file is None:
            raise ManifestError(f"manifest {self.path!r} is not open")
        self._buffer.append(record)
        due = time.monotonic() - self._last_flush >= self.flush_interval
        if len(self._buffer) >= self.batch_size or due:
            await self.flush()

    async def flush(self, *, fsync: bool = False) -> None:
        """Write every queued record now (and fsync when asked)."""
        async with self._lock:
            batch, self._buffer = self._buffer, []
            self._last_flush = time.monotonic()
            file = self._file
            if file is None or (not batch and not fsync and not self._pending):
                return
            data = self._pending + b"".join(_encode(r) for r in batch)
            records = self._pending_records + len(batch)
            done = [0]
            try:
                await anyio.to_thread.run_sync(self._write, file, data, fsync, done)
            except OSError as exc:
                self._pending, self._pending_records = data[done[0] :], records
                raise ManifestError(f"cannot write manifest {self.path!r}: {exc}") from None
            self._pending, self._pending_records = b"", 0
            self.records_written += records

    @staticmethod
    def _write(file: BinaryIO, data: bytes, fsync: bool, done: list[int]) -> None:
        view = memoryview(data)
        while view:  # unbuffered: ``done[0]`` bytes are on file if a write fails
            written = file.write(view)
            if not written:
                raise OSError("the manifest file accepted no bytes")
            done[0] += written
            view = view[written:]
        if fsync:
            os.fsync(file.fileno())

    async def aclose(self) -> None:
        """Write the rest, fsync and close (idempotent; survives cancellation)."""
        if self._closed:
            return
        with anyio.CancelScope(shield=True):
            try:
                await self.flush(fsync=True)
            finally:
                self._closed = True
                file, self._file = self._file, None
                if file is not None:
                    try:
                        await anyio.to_thread.run_sync(file.close)
                    except OSError as exc:
                        raise ManifestError(f"cannot close manifest {self.path!r}: {exc}") from None


def read_manifest(
    path: str | os.PathLike[str], *, strict: bool = False, damaged: list[int] | None = None
) -> Iterator[ManifestRecord]:
    """Yield the records of the manifest at ``path``, in order.

    A line that is not a record (a crash's truncated last line) is skipped and its
    1-based number appended to ``damaged`` if given; with ``strict=True`` it raises
    :class:`ManifestError` instead. Blank lines are ignored.
    """
    try:
        file = open(path, "rb")  # noqa: SIM115 (closed below; a generator)
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {os.fspath(path)!r}: {exc}") from None
    with file:
        for number, raw in enumerate(file, start=1):
            if not raw.strip():
                continue
            try:
                record = ManifestRecord.from_dict(json.loads(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError, ManifestError) as exc:
                if strict:
                    raise ManifestError(f"{os.fspath(path)!r} line {number}: {exc}") from None
                if damaged is not None:
                    damaged.append(number)
                continue
            yield record


def write_html_summary(
    path: str | os.PathLike[str],
    *,
    title: str,
    summary: Mapping[str, Any],
    records: Iterable[ManifestRecord],
    max_rows: int = 10_000,
    use_rich: bool | None = None,
) -> None:
    """Write an HTML page for sign-off: ``summary`` (key/value pairs), counts per result,
    the records that need attention (failed, conflict, renamed...) and up to ``max_rows``
    records. Every value is escaped.

    Uses rich's HTML export when rich is installed (``use_rich`` forces or avoids it),
    else a plain table. Blocking: call it in a worker thread from async code. The file
    is replaced atomically; failures raise :class:`ManifestError`.
    """
    page = render_summary(
        title=title, summary=summary, records=records, max_rows=max_rows, use_rich=use_rich
    )
    target = os.path.abspath(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".summary-", suffix=".html", dir=os.path.dirname(target))
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as out:
                out.write(page)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise ManifestError(f"cannot write HTML summary {target!r}: {exc}") from None
