"""Concurrent ranged download of one document into a local file.

1. Metadata (``fileSize``, ``fileHash``) comes from getDocument (or the listing a tree
   download already has).
2. A first ranged GET (``Range: bytes=0-<chunk-1>``) learns the total size
   (``Content-Range``) and the ETag; while its body streams, a sliding window of further
   ranged GETs (at most ``concurrency`` in flight) fetches the other chunks, each sent with
   ``If-Range: <etag>`` and written at its offset.
3. A 200 in answer to a later ``If-Range`` request, or another ETag on a 206, means the
   document changed: :class:`DocumentChangedError`, and no file is left behind.
4. A server that ignores ``Range`` (200 on the first request) is read as one stream; so
   is a document that nothing could pin across requests (no ETag or Last-Modified, and
   no ``fileHash`` to catch a splice), so that versions are never mixed.
5. A body that breaks mid-stream re-requests only the bytes still missing (at most
   ``MAX_RESUMES`` times per range). Everything else that fails a request (429, 503,
   connection errors) was already retried by the client and is final here.
6. A document of at most ``SMALL_DOCUMENT`` bytes (1 MiB, by its ``fileSize``) skips
   the ranges: one request read whole (the response may hold no more than 1 MiB), its
   length, ETag and SHA-1 checked, then hashed, written, fsynced and renamed in one
   worker-thread hop. A body that breaks is the client's to retry.
7. Data goes to a temporary file (fsync + rename on success); the byte count is checked
   against ``Content-Range`` and ``fileSize``, the SHA-1 against ``fileHash``. The hash is
   computed in chunk order as soon as a prefix of the file is complete, reading it back in
   a worker thread, so memory stays about ``concurrency x 1 MiB`` whatever the file size.
"""

from __future__ import annotations

import base64
import hashlib
import math
import os
import re
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx

from intralinks_async.errors import APIStatusError, ResponseTooLargeError
from intralinks_async.transfers._api import SMALL_BODY_LIMIT, RemoteAPI, doc_hash, doc_size
from intralinks_async.transfers._checks import positive_int
from intralinks_async.transfers._failures import MAX_RESUMES, ShortReadError, body_broke
from intralinks_async.transfers._threads import run_short
from intralinks_async.transfers.errors import DocumentChangedError, IntegrityError, TransferError
from intralinks_async.transfers.progress import ItemProgress
from intralinks_async.transfers.window import unwrap_exception_group
from intralinks_async.transfers.writer import AtomicFileWriter, write_durable

__all__ = ["DEFAULT_CHUNK_SIZE", "DownloadResult", "FileDownload", "iter_document_bytes"]

#: Default size of one ranged request.
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
#: Bytes buffered before a positional write (and read back per hashing step).
WRITE_BLOCK = 1024 * 1024
#: Documents up to this size are fetched into memory and written in one thread hop.
SMALL_DOCUMENT = SMALL_BODY_LIMIT
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """What :meth:`Transfers.download_file` wrote."""

    path: Path
    size: int
    sha1: str | None
    """Base64 SHA-1 of the content (None when ``verify=False``)."""
    etag: str | None
    ranged: bool
    """Whether the file was fetched in concurrent ranges (False: one stream)."""


_WHOLE_ANSWER_HEADERS = frozenset({b"content-length", b"etag", b"last-modified"})


def _header_text(headers: httpx.Headers, value: bytes | None) -> str | None:
    """A header value decoded as ``headers.get`` would (its encoding only if not ASCII)."""
    if value is None:
        return None
    return value.decode("ascii") if value.isascii() else value.decode(headers.encoding)


def _parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    if not value:
        return None
    match = _CONTENT_RANGE.match(value)
    if match is None:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), total


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


class _Digests:
    """The SHA-1 checked against ``fileHash`` and, when asked, a SHA-256, fed together."""

    __slots__ = ("sha1", "sha256")

    def __init__(self, sha256: bool) -> None:
        self.sha1 = hashlib.sha1()  # noqa: S324 (integrity check, not security)
        self.sha256 = hashlib.sha256() if sha256 else None

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self.sha1.update(data)
        if self.sha256 is not None:
            self.sha256.update(data)

    def digest(self) -> bytes:
        return self.sha1.digest()

    def sha256_hex(self) -> str | None:
        return None if self.sha256 is None else self.sha256.hexdigest()


class FileDownload:
    """One document download; see the module docstring for the protocol."""

    def __init__(
        self,
        api: RemoteAPI,
        workspace_id: str,
        document_id: str,
        dest: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = 8,
        verify: bool = True,
        progress: ItemProgress | None = None,
        sync_dir: bool = True,
        sha256: bool = False,
    ) -> None:
        positive_int("chunk_size", chunk_size)
        positive_int("concurrency", concurrency)
        self.api = api
        self.workspace_id = workspace_id
        self.document_id = document_id
        self.dest = dest if isinstance(dest, Path) else Path(dest)
        self.chunk_size = chunk_size
        self.concurrency = concurrency
        self.verify = verify
        self.progress = progress
        self.sync_dir = sync_dir
        self.want_sha256 = sha256
        #: Hex SHA-256 of the bytes written (small documents, when asked for).
        self.sha256: str | None = None
        self._writer: AtomicFileWriter | None = None
        self._etag: str | None = None
        self._validator: str | None = None
        self._total = 0
        self._chunks: Iterator[int] = iter(())
        self._nchunks = 0
        self._done_send: Any = None
        self._done_receive: Any = None
        self._expected_size: int | None = None
        self._expected_hash: str | None = None
        self._sha1: Any = None

    # -- helpers -------------------------------------------------------------------------

    @property
    def _w(self) -> AtomicFileWriter:
        assert self._writer is not None
        return self._writer

    def _label(self) -> str:
        return f"document {self.document_id}"

    def _bounds(self, index: int) -> tuple[int, int]:
        start = index * self.chunk_size
        return start, min(self._total, start + self.chunk_size) - 1

    def _pin(self, headers: Any) -> None:
        self._set_validator(headers.get("etag"), headers.get("last-modified"))

    def _set_validator(self, etag: str | None, modified: str | None) -> None:
        """A strong ETag pins the version seen; else Last-Modified (or nothing)."""
        self._etag = etag
        self._validator = etag if etag and not etag.startswith("W/") else modified

    def _check_same(self, headers: Any) -> None:
        etag = headers.get("etag")
        if self._etag and etag and etag != self._etag:
            raise DocumentChangedError(
                f"{self._label()} changed during download (ETag {self._etag} -> {etag})"
            )

    def _resume_or_raise(self, resumes: int, exc: BaseException, responded: bool) -> None:
        """Allow another request for the rest of a body that broke mid-stream, or raise."""
        if not (responded and body_broke(exc)) or resumes > MAX_RESUMES:
            raise exc
        self.api.own_retries += 1

    # -- entry point ---------------------------------------------------------------------

    async def run(self, document: Any = None) -> DownloadResult:
        """Download into ``dest``; ``document`` is the metadata if already known."""
        if document is None:
            document = await self.api.get_document(self.workspace_id, self.document_id)
        expected_size = doc_size(document)
        expected_hash = doc_hash(document)
        self._expected_size = expected_size
        self._expected_hash = expected_hash
        if expected_size is not None and 0 < expected_size <= min(SMALL_DOCUMENT, self.chunk_size):
            return await self._small(expected_size)
        ranged = False
        async with AtomicFileWriter(self.dest, sync_dir=self.sync_dir) as writer:
            self._writer = writer
            if self.progress is not None:
                if expected_size is not None:
                    self.progress.set_size(expected_size)
                self.progress.start()
            if expected_size == 0:
                await self._single_stream(first=None)
            else:
                ranged = await self._ranged()
            size = await anyio.to_thread.run_sync(writer.size)
            if size != self._total:
                raise IntegrityError(
                    f"{self._label()}: wrote {size} bytes, server announced {self._total}"
                )
            if expected_size is not None and size != expected_size:
                raise IntegrityError(
                    f"{self._label()}: got {size} bytes but fileSize is {expected_size}"
                )
            sha1 = _b64(self._sha1.digest()) if self._sha1 is not None else None
            if self._sha1 is not None:
                self.sha256 = self._sha1.sha256_hex()
            if sha1 is not None and expected_hash is not None and sha1 != expected_hash:
                raise IntegrityError(
                    f"{self._label()}: SHA-1 {sha1} does not match fileHash {expected_hash}"
                )
            await writer.commit()
        return DownloadResult(self.dest, size, sha1, self._etag, ranged)

    # -- small documents -----------------------------------------------------------------

    async def _small(self, size: int) -> DownloadResult:
        """Fetch a small document into memory, check it, then write it in one thread hop."""
        if self.progress is not None:
            self.progress.set_size(size)
            self.progress.start()
        data = await self._fetch_small(size)
        expected = self._expected_hash if self.verify else None
        sha1, self.sha256 = await run_short(
            lambda: write_durable(
                self.dest,
                data,
                sync_dir=self.sync_dir,
                sha1=self.verify,
                sha256=self.want_sha256,
                expected_sha1=expected,
            )
        )
        if self.progress is not None:
            self.progress.advance(size)
        return DownloadResult(self.dest, size, sha1, self._etag, False)

    async def _fetch_small(self, size: int) -> bytes:
        """The whole document in one request, read in one piece.

        A body that breaks is the client's to retry (a GET is idempotent); one that ends
        early without an error (no Content-Length) is asked for again, at most
        ``MAX_RESUMES`` times.
        """
        short = 0
        while True:
            try:
                answer = await self.api.read_small(self.workspace_id, self.document_id, {})
            except ResponseTooLargeError:
                raise IntegrityError(
                    f"{self._label()}: more bytes than its fileSize ({size})"
                ) from None
            self._check_whole_answer(answer.status_code, answer.headers, size)
            data = answer.content
            if len(data) == size:
                return data
            if len(data) > size:
                raise IntegrityError(f"{self._label()}: more bytes than its fileSize ({size})")
            short += 1
            if short > MAX_RESUMES:
                raise ShortReadError(f"{self._label()}: response ended early")
            self.api.own_retries += 1

    def _check_whole_answer(self, status: int, headers: httpx.Headers, size: int) -> None:
        """A 200 of the announced length (or a 206 of all of it); its validator pins the
        version seen."""
        if status == 206:
            value = headers.get("content-range")
            parsed = _parse_content_range(value)
            if parsed is None or parsed[0] != 0 or parsed[2] not in (None, size):
                raise DocumentChangedError(
                    f"{self._label()}: Content-Range {value!r} does not match bytes "
                    f"0-{size - 1} of its {size} bytes: it changed since listed"
                )
        elif status != 200:
            raise TransferError(f"{self._label()}: unexpected HTTP {status}")
        wanted = _WHOLE_ANSWER_HEADERS
        found: dict[bytes, bytes] = {}
        for _raw, name, value in headers._list:  # one pass, no per-lookup normalising
            if name in wanted and name not in found:
                found[name] = value
        length = found.get(b"content-length")
        if status == 200 and length is not None and length.isdigit() and int(length) != size:
            raise DocumentChangedError(
                f"{self._label()} is {length.decode()} bytes but its metadata says {size}: "
                "it changed since it was listed"
            )
        self._set_validator(
            _header_text(headers, found.get(b"etag")),
            _header_text(headers, found.get(b"last-modified")),
        )

    # -- ranged mode ---------------------------------------------------------------------

    async def _ranged(self) -> bool:
        try:
            async with anyio.create_task_group() as tg:
                mode: str = await tg.start(self._probe)
                if mode == "ranged" and self._nchunks > 1:
                    if self._done_receive is not None:
                        tg.start_soon(self._hash_in_order, self._done_receive)
                    for _ in range(min(self.concurrency, self._nchunks) - 1):
                        tg.start_soon(self._chunk_worker)
        except BaseExceptionGroup as group:
            raise unwrap_exception_group(group) from None
        return mode == "ranged"

    async def _probe(self, *, task_status: anyio.abc.TaskStatus[str]) -> None:
        started = False
        unpinned = False
        try:
            headers = {"Range": f"bytes=0-{self.chunk_size - 1}"}
            async with self.api.download(self.workspace_id, self.document_id, headers) as s:
                if s.status_code == 200:
                    self._pin(s.headers)
                    started = True
                    task_status.started("single")
                    await self._single_stream(first=s)
                    return
                if s.status_code != 206:
                    raise TransferError(f"{self._label()}: unexpected HTTP {s.status_code}")
                parsed = _parse_content_range(s.headers.get("content-range"))
                if parsed is None or parsed[0] != 0 or parsed[2] is None:
                    raise TransferError(f"{self._label()}: bad Content-Range on 206")
                self._pin(s.headers)
                self._total = parsed[2]
                if self._expected_size is not None and self._total != self._expected_size:
                    raise DocumentChangedError(
                        f"{self._label()} is {self._total} bytes but its metadata says "
                        f"{self._expected_size}: it changed since it was listed"
                    )
                if self._validator is None and not (self.verify and self._expected_hash):
                    # Nothing would pin the version across requests (no ETag or
                    # Last-Modified) and no fileHash would catch a splice: read it in
                    # one response instead (a restart begins again at byte 0).
                    unpinned = True
                else:
                    started = True
                    await self._start_ranged(s, task_status)
        except APIStatusError as exc:
            if started or exc.status_code != 416:
                raise
            # Unknown size and empty: nothing to range over.
            unpinned = True
        if unpinned:
            task_status.started("single")
            await self._single_stream(first=None)
            return
        await self._chunk_worker()

    async def _start_ranged(self, s: Any, task_status: anyio.abc.TaskStatus[str]) -> None:
        """Plan the chunks, release the other workers, and write chunk 0 from ``s``."""
        self._nchunks = max(1, -(-self._total // self.chunk_size))
        self._chunks = iter(range(1, self._nchunks))
        if self.verify:
            self._sha1 = _Digests(self.want_sha256)
            if self._nchunks > 1:
                send, receive = anyio.create_memory_object_stream[int](math.inf)
                self._done_send, self._done_receive = send, receive
        task_status.started("ranged")
        pos = [0]
        end = self._bounds(0)[1]
        failed = 0
        try:
            await self._consume(s, pos, end)
        except Exception as exc:
            self._resume_or_raise(1, exc, responded=True)
            failed = 1
        if pos[0] <= end:
            await self._fetch_range(pos[0], end, already_failed=failed)
        await self._chunk_done(0)

    async def _chunk_worker(self) -> None:
        for index in self._chunks:
            start, end = self._bounds(index)
            await self._fetch_range(start, end)
            await self._chunk_done(index)

    async def _chunk_done(self, index: int) -> None:
        if self._done_send is not None:
            self._done_send.send_nowait(index)
        elif self._sha1 is not None and self._nchunks == 1:
            await self._hash_range(0, self._total)

    async def _hash_range(self, start: int, stop: int) -> None:
        def work() -> None:
            pos = start
            while pos < stop:
                data = self._w.read_at(pos, min(WRITE_BLOCK, stop - pos))
                if not data:
                    raise IntegrityError(f"{self._label()}: file shorter than expected")
                self._sha1.update(data)
                pos += len(data)

        await anyio.to_thread.run_sync(work)

    async def _hash_in_order(self, receive: Any) -> None:
        completed: set[int] = set()
        next_index = 0
        async with receive:
            async for index in receive:
                completed.add(index)
                while next_index in completed:
                    completed.discard(next_index)
                    start, end = self._bounds(next_index)
                    await self._hash_range(start, end + 1)
                    next_index += 1
                if next_index >= self._nchunks:
                    return

    async def _fetch_range(self, start: int, end: int, *, already_failed: int = 0) -> None:
        pos = [start]
        failures = already_failed
        while pos[0] <= end:
            headers = {"Range": f"bytes={pos[0]}-{end}"}
            if self._validator:
                headers["If-Range"] = self._validator
            responded = False
            try:
                async with self.api.download(self.workspace_id, self.document_id, headers) as s:
                    responded = True
                    if s.status_code == 200:
                        raise DocumentChangedError(
                            f"{self._label()} changed during download "
                            "(the server answered If-Range with the whole, new content)"
                        )
                    if s.status_code != 206:
                        raise TransferError(f"{self._label()}: unexpected HTTP {s.status_code}")
                    self._check_same(s.headers)
                    parsed = _parse_content_range(s.headers.get("content-range"))
                    if (
                        parsed is None
                        or parsed[0] != pos[0]
                        or parsed[1] > end
                        or (parsed[2] is not None and parsed[2] != self._total)
                    ):
                        raise DocumentChangedError(
                            f"{self._label()}: unexpected Content-Range "
                            f"{s.headers.get('content-range')!r} for bytes {pos[0]}-{end}"
                        )
                    await self._consume(s, pos, parsed[1])
                if pos[0] <= end:
                    raise ShortReadError(f"{self._label()}: response ended early")
            except (DocumentChangedError, IntegrityError):
                raise
            except Exception as exc:
                failures += 1
                self._resume_or_raise(failures, exc, responded)

    async def _consume(self, stream: Any, pos: list[int], end: int) -> None:
        """Write the body at ``pos[0]`` onwards (advancing it) up to ``end`` inclusive."""
        block = [bytearray()]
        try:
            async for piece in stream.aiter_bytes():
                if pos[0] + len(block[0]) + len(piece) > end + 1:
                    raise IntegrityError(f"{self._label()}: server sent more bytes than asked")
                block[0] += piece
                if len(block[0]) >= WRITE_BLOCK:
                    await self._flush(block, pos)
        except Exception:
            if block[0]:
                await self._flush(block, pos)
            raise
        if block[0]:
            await self._flush(block, pos)

    async def _flush(self, block: list[bytearray], pos: list[int]) -> None:
        """Write the buffered block at ``pos[0]`` and start a new one (no copy)."""
        data, block[0] = block[0], bytearray()
        await self._w.write_at(pos[0], data)
        pos[0] += len(data)
        if self.progress is not None:
            self.progress.advance(len(data))

    # -- single-stream mode --------------------------------------------------------------

    async def _single_stream(self, first: Any) -> None:
        attempt = 0
        while True:
            attempt += 1
            if self.verify:
                self._sha1 = _Digests(self.want_sha256)
            written = 0
            responded = first is not None
            try:
                if first is not None:
                    s, first = first, None
                    written = await self._stream_all(s)
                else:
                    async with self.api.download(self.workspace_id, self.document_id, {}) as s:
                        responded = True
                        if attempt > 1 or self._etag is not None:
                            self._check_same(s.headers)
                        else:
                            self._pin(s.headers)
                        written = await self._stream_all(s)
                self._total = written
                return
            except DocumentChangedError:
                raise
            except Exception as exc:
                self._resume_or_raise(attempt, exc, responded)
                # Without ranges nothing can be resumed: start over from byte 0.
                await anyio.to_thread.run_sync(os.ftruncate, self._w.fd, 0)
                if self.progress is not None:
                    self.progress.rewind()

    async def _stream_all(self, stream: Any) -> int:
        pos = [0]
        block = [bytearray()]
        async for piece in stream.aiter_bytes():
            block[0] += piece
            if self._sha1 is not None:
                self._sha1.update(piece)
            if len(block[0]) >= WRITE_BLOCK:
                await self._flush(block, pos)
        if block[0]:
            await self._flush(block, pos)
        return pos[0]


async def iter_document_bytes(
    api: RemoteAPI, workspace_id: str, document_id: str
) -> AsyncGenerator[bytes, None]:
    """Yield a document's bytes in order, resuming after a dropped connection.

    After the body breaks mid-stream the rest is requested with ``Range: bytes=<n>-``
    and ``If-Range`` (at most ``MAX_RESUMES`` times in a row without progress); a
    changed document raises :class:`DocumentChangedError` rather than splicing versions,
    as does a drop when the server gave no ETag or Last-Modified to pin the version.
    """
    pos = 0
    validator: str | None = None
    etag: str | None = None
    attempt = 0
    while True:
        responded = False
        at_start = pos
        headers: dict[str, str] = {}
        if pos:
            if not validator:
                raise DocumentChangedError(
                    f"document {document_id}: the connection dropped after {pos} bytes and "
                    "the server sent no ETag or Last-Modified, so the rest cannot be fetched "
                    "without risking bytes of a newer version (use download_file instead)"
                )
            headers["Range"] = f"bytes={pos}-"
            headers["If-Range"] = validator
        try:
            async with api.download(workspace_id, document_id, headers) as s:
                responded = True
                if pos == 0:
                    etag = s.headers.get("etag")
                    validator = etag if etag and not etag.startswith("W/") else None
                    validator = validator or s.headers.get("last-modified")
                else:
                    new_etag = s.headers.get("etag")
                    if s.status_code != 206 or (etag and new_etag and new_etag != etag):
                        raise DocumentChangedError(
                            f"document {document_id} changed (or lost range support) "
                            "while being streamed"
                        )
                    parsed = _parse_content_range(s.headers.get("content-range"))
                    if parsed is None or parsed[0] != pos:
                        raise DocumentChangedError(
                            f"document {document_id}: unexpected Content-Range on resume"
                        )
                async for piece in s.aiter_bytes():
                    pos += len(piece)
                    yield piece
            return
        except DocumentChangedError:
            raise
        except Exception as exc:
            attempt = 1 if pos > at_start else attempt + 1
            if not (responded and body_broke(exc)) or attempt > MAX_RESUMES:
                raise
            api.own_retries += 1
