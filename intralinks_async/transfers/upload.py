"""Streaming upload of one document, never creating a duplicate.

The source (path, bytes, binary file object or async iterator of bytes) is streamed in
chunks; file reads run in worker threads, which also compute the SHA-1 (and, when asked,
the SHA-256). Retrying is the client's business: it re-sends a request the server
answered 429/503 whenever the body can be replayed. What only a transfer can resolve is
an answer lost after the whole body went out (``APIConnectionError.outcome_unknown``):
the server may have stored the document. The folder is listed, and a document with the
same name, size and SHA-1 (``fileHash``) that did not exist before is adopted; only
otherwise is the source sent again (re-opened from the start). A one-shot iterator
cannot be sent again: :class:`SourceNotReplayableError`. An answer without a document
id is an :class:`~intralinks_async.errors.APIResponseValidationError`, never a success.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio.to_thread

from intralinks_async.errors import APIResponseValidationError, APIStatusError
from intralinks_async.transfers._api import RemoteAPI, doc_hash, doc_size, opt_str
from intralinks_async.transfers._checks import thread_checkpoint
from intralinks_async.transfers._failures import outcome_unknown
from intralinks_async.transfers._threads import run_short
from intralinks_async.transfers.errors import (
    IntegrityError,
    SourceChangedError,
    SourceNotReplayableError,
)
from intralinks_async.transfers.progress import ItemProgress

__all__ = [
    "READ_BLOCK",
    "LoadedFile",
    "UploadOutcome",
    "UploadSource",
    "Uploader",
    "file_sha1",
    "hash_file",
    "read_ahead",
]

#: Bytes read from the source per step.
READ_BLOCK = 1024 * 1024
#: Paths and bytes up to this size are read whole and sent in one piece.
SMALL_FILE = 1024 * 1024

UploadSource = (
    str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]
)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def file_sha1(path: str | os.PathLike[str]) -> tuple[int, str]:
    """(size, base64 SHA-1) of a local file (blocking; run in a worker thread)."""
    sha = hashlib.sha1()  # noqa: S324 (content fingerprint, as the API's fileHash)
    size = 0
    with open(path, "rb") as fh:
        while block := fh.read(READ_BLOCK):
            sha.update(block)
            size += len(block)
            thread_checkpoint()
    return size, _b64(sha.digest())


async def hash_file(path: str | os.PathLike[str]) -> tuple[int, str]:
    """(size, base64 SHA-1) of a local file, read in a worker thread; stops when cancelled."""
    return await anyio.to_thread.run_sync(file_sha1, path)


@dataclass(frozen=True, slots=True)
class UploadOutcome:
    """The stored document and how it got there."""

    document: Any
    size: int
    sha1: str
    adopted: bool
    """True when a lost response's document was found on the server and not re-sent."""
    attempts: int
    sha256: str | None = None
    """Hex SHA-256 of the bytes sent, when asked for."""


class _Hashes:
    """SHA-1 (the API's ``fileHash``) and, optionally, SHA-256 fed the same blocks."""

    __slots__ = ("sha1", "sha256")

    def __init__(self, sha256: bool) -> None:
        self.sha1 = hashlib.sha1()  # noqa: S324 (content fingerprint, as the API's fileHash)
        self.sha256 = hashlib.sha256() if sha256 else None

    def update(self, block: bytes) -> None:
        self.sha1.update(block)
        if self.sha256 is not None:
            self.sha256.update(block)

    def sha1_b64(self) -> str:
        """The SHA-1 as the API's ``fileHash`` spells it (base64)."""
        return _b64(self.sha1.digest())

    def copy(self) -> _Hashes:
        twin = _Hashes(False)
        twin.sha1 = self.sha1.copy()
        twin.sha256 = None if self.sha256 is None else self.sha256.copy()
        return twin


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """A small file's bytes and their hashes, read ahead in a worker thread."""

    data: bytes
    hashes: _Hashes


#: Flags of a whole-file read: binary on Windows; never blocking on a FIFO put in the
#: place of a file the walk saw (it reads as empty, a size change).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)


def _read_whole(path: str | os.PathLike[str], size: int) -> bytes:
    """The file's bytes, read up to ``size + 1`` (one more shows that it grew): usually
    one ``read`` call, without the buffered file object's own calls."""
    fd = os.open(path, _READ_FLAGS)
    try:
        blocks: list[bytes] = []
        want = size + 1
        while want > 0 and (block := os.read(fd, want)):
            blocks.append(block)
            want -= len(block)
    finally:
        os.close(fd)
    return blocks[0] if len(blocks) == 1 else b"".join(blocks)


def _load(path: str | os.PathLike[str], sha256: bool, size: int | None) -> LoadedFile:
    if size is None:
        with open(path, "rb") as fh:
            data = fh.read()
    else:
        data = _read_whole(path, size)
    hashes = _Hashes(sha256)
    hashes.update(data)
    return LoadedFile(data, hashes)


def read_ahead(
    files: list[tuple[str | os.PathLike[str], int]], *, sha256: bool, budget: int
) -> list[LoadedFile | None]:
    """Read and hash whole files (path, expected size) in one worker-thread call
    (blocking), in order, until ``budget`` bytes are held; the rest, and any file that
    cannot be read, is None (:meth:`Uploader.upload` then reads it itself and reports
    what is wrong). A file that is not of its expected size any more is read all the
    same, up to one byte more (the upload refuses it as changed)."""
    out: list[LoadedFile | None] = []
    for path, size in files:
        loaded = None
        if budget > 0:
            try:
                loaded = _load(path, sha256, size)
            except OSError:
                pass
            else:
                budget -= len(loaded.data)
        out.append(loaded)
    return out


class _Attempt:
    """Wraps one pass over the source: hashes, counts and notes whether it ran to the end."""

    def __init__(self, progress: ItemProgress | None, *, sha256: bool = False) -> None:
        self.sha = _Hashes(sha256)
        self.size = 0
        self.exhausted = False
        self.progress = progress
        #: Set when reading the source failed (it changed); never worth another attempt.
        self.source_error: BaseException | None = None

    def restart(self) -> None:
        """Forget a previous pass (the client is sending the body again)."""
        if self.size or self.exhausted:
            self.sha = _Hashes(self.sha.sha256 is not None)
            self.size = 0
            self.exhausted = False
            if self.progress is not None:
                self.progress.rewind()

    def sha256_hex(self) -> str | None:
        """Hex SHA-256 of the bytes read, if it was computed."""
        return None if self.sha.sha256 is None else self.sha.sha256.hexdigest()


def _fingerprint(fh: Any) -> tuple[int, int] | None:
    """(size, mtime in ns) of an open file, or None when it has no descriptor."""
    try:
        st = os.fstat(fh.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None
    return st.st_size, st.st_mtime_ns


class _Source:
    def __init__(
        self,
        source: UploadSource,
        size: int | None,
        *,
        known_file: bool = False,
        loaded: LoadedFile | None = None,
    ) -> None:
        self.source = source
        self.size = size
        self.replayable = True
        self.default_name: str | None = None
        self._start: int | None = None
        self._used = False
        self._data: bytes | None = None
        self._sha: _Hashes | None = None
        if loaded is not None:
            self._data, self._sha = loaded.data, loaded.hashes
        if known_file and size is not None and isinstance(source, str | os.PathLike):
            self.default_name = os.path.basename(source)
        elif isinstance(source, str | os.PathLike):
            path = Path(source)
            if path.is_dir():
                raise IsADirectoryError(
                    f"upload source {os.fspath(path)!r} is a directory (use upload_tree)"
                )
            self.default_name = path.name
            if self.size is None:
                self.size = path.stat().st_size
        elif isinstance(source, bytes | bytearray | memoryview):
            self.size = len(source) if size is None else size
        elif isinstance(source, AsyncIterable):
            self.replayable = False
        elif hasattr(source, "read"):
            fh: Any = source
            name = getattr(fh, "name", None)
            if isinstance(name, str):
                self.default_name = os.path.basename(name)
            try:
                seekable = bool(fh.seekable())
            except (AttributeError, ValueError, OSError):
                seekable = False
            if seekable:
                self._start = fh.tell()
                if self.size is None:
                    end = fh.seek(0, io.SEEK_END)
                    fh.seek(self._start)
                    self.size = end - self._start
            else:
                self.replayable = False
        else:
            raise TypeError(f"unsupported upload source type {type(source).__name__}")

    @property
    def in_memory(self) -> bool:
        """Small paths and bytes go in one piece (one thread hop, no chunk iteration)."""
        if self.size is None or self.size > SMALL_FILE:
            return False
        return isinstance(self.source, str | os.PathLike | bytes | bytearray | memoryview)

    async def load(self, attempt: _Attempt) -> bytes:
        """The whole (small) content, hashed and counted as one block.

        A file is opened, read and hashed in one worker-thread hop (unless it was read
        ahead). The result is bytes, so the client may re-send it after a 429/503 answer.
        """
        want256 = attempt.sha.sha256 is not None
        if self._sha is not None and want256 and self._sha.sha256 is None:
            self._data = self._sha = None  # read ahead without the SHA-256 wanted now
        if self._data is None:
            src: Any = self.source
            if isinstance(src, str | os.PathLike):
                loaded = await run_short(lambda: _load(src, want256, self.size))
            else:
                loaded = LoadedFile(bytes(src), _Hashes(want256))
                loaded.hashes.update(loaded.data)
            self._data, self._sha = loaded.data, loaded.hashes
        data = self._data
        if data is None or self._sha is None or (self.size is not None and len(data) != self.size):
            raise SourceChangedError(
                f"upload source changed size before it was read (expected {self.size} bytes, "
                f"read {0 if data is None else len(data)}); nothing was stored"
            )
        attempt.sha = self._sha.copy()
        attempt.exhausted = True
        return self._count(attempt, data)

    async def chunks(self, attempt: _Attempt) -> AsyncIterator[bytes]:
        try:
            async for block in self._chunks(attempt):
                yield block
        except (SourceChangedError, TypeError) as exc:
            # Remember it: the transport may wrap whatever the body iterator raises.
            attempt.source_error = exc
            raise

    async def _chunks(self, attempt: _Attempt) -> AsyncIterator[bytes]:
        if self._used and not self.replayable:
            raise SourceNotReplayableError("the upload source can be read only once")
        self._used = True
        src = self.source
        if isinstance(src, str | os.PathLike):
            fh = await anyio.to_thread.run_sync(open, src, "rb")
            try:
                async for block in self._read_file(fh, attempt):
                    yield block
            finally:
                fh.close()
        elif isinstance(src, bytes | bytearray | memoryview):
            view = memoryview(src).cast("B")
            for pos in range(0, len(view), READ_BLOCK):
                block = bytes(view[pos : pos + READ_BLOCK])
                attempt.sha.update(block)
                yield self._count(attempt, block)
        elif isinstance(src, AsyncIterable):
            async for block in src:
                if not isinstance(block, bytes | bytearray | memoryview):
                    raise TypeError("an async upload source must yield bytes")
                data = bytes(block)
                if self.size is not None and attempt.size + len(data) > self.size:
                    raise SourceChangedError(
                        f"the upload source yielded more than the declared size={self.size}"
                    )
                attempt.sha.update(data)
                yield self._count(attempt, data)
            if self.size is not None and attempt.size != self.size:
                # Raised before the body is closed: the server never stores it.
                raise SourceChangedError(
                    f"the upload source yielded {attempt.size} bytes, not the declared "
                    f"size={self.size}"
                )
        else:
            fh_any: Any = src
            if self._start is not None:
                await anyio.to_thread.run_sync(fh_any.seek, self._start)
            async for block in self._read_file(fh_any, attempt):
                yield block
        attempt.exhausted = True

    async def _read_file(self, fh: Any, attempt: _Attempt) -> AsyncIterator[bytes]:
        """Read ``fh`` block by block; with a known size, read exactly that much.

        Before the last block is handed over, the file must be at its end and (when it
        has a descriptor) have the size and modification time it had when opened: a
        file that shrinks, grows or is rewritten meanwhile raises
        :class:`SourceChangedError` while the body is still incomplete.
        """
        limit = self.size
        before = await anyio.to_thread.run_sync(_fingerprint, fh)

        def changed(how: str) -> SourceChangedError:
            where = f" {self.default_name!r}" if self.default_name else ""
            return SourceChangedError(
                f"upload source{where} {how} while being uploaded (expected {limit} bytes); "
                "nothing was stored"
            )

        def read() -> bytes:
            want = READ_BLOCK if limit is None else min(READ_BLOCK, limit - attempt.size)
            block: bytes = fh.read(want) if want > 0 else b""
            if limit is not None:
                if not block and attempt.size < limit:
                    raise changed("shrank")
                if attempt.size + len(block) >= limit:
                    if fh.read(1):
                        raise changed("grew")
                    if before is not None and _fingerprint(fh) != before:
                        raise changed("was modified")
            if block:
                attempt.sha.update(block)
            return block

        while block := await anyio.to_thread.run_sync(read):
            yield self._count(attempt, block)

    @staticmethod
    def _count(attempt: _Attempt, block: bytes) -> bytes:
        attempt.size += len(block)
        if attempt.progress is not None:
            attempt.progress.advance(len(block))
        return block


def _factory(src: _Source, attempt: _Attempt) -> Callable[[], AsyncIterable[bytes]]:
    """A body factory: every call starts a fresh pass over the source."""

    def make() -> AsyncIterable[bytes]:
        attempt.restart()
        return src.chunks(attempt)

    return make


def _throttled(exc: BaseException) -> bool:
    return isinstance(exc, APIStatusError) and exc.status_code in (429, 503)


class Uploader:
    """Uploads documents through ``api`` (see the module docstring)."""

    def __init__(self, api: RemoteAPI, *, max_resends: int = 3) -> None:
        self.api = api
        #: Re-sends after answers lost with the body sent and the document not found.
        self.max_resends = max_resends

    async def upload(
        self,
        workspace_id: str,
        folder_id: str,
        source: UploadSource,
        *,
        name: str | None = None,
        note: str | None = None,
        size: int | None = None,
        progress: ItemProgress | None = None,
        existing_ids: Collection[str] | None = None,
        regular_file: bool = False,
        sha256: bool = False,
        loaded: LoadedFile | None = None,
    ) -> UploadOutcome:
        """Upload ``source``; ``existing_ids`` are same-name documents never to be adopted.

        ``regular_file``: the caller knows ``source`` is a regular file of ``size`` bytes
        (a tree walk already looked), so it is not examined again. ``sha256``: also
        compute the SHA-256 of the bytes sent (``UploadOutcome.sha256``). ``loaded``: the
        file's content as :func:`read_ahead` read it (hashed with the same ``sha256``).
        """
        src = _Source(source, size, known_file=regular_file, loaded=loaded)
        doc_name = name or src.default_name
        if not doc_name:
            raise ValueError("name= is required when the source has no file name")
        if progress is not None:
            if src.size is not None:
                progress.set_size(src.size)
            progress.start()
        excluded = set(existing_ids or ())
        attempt_no = 0
        while True:
            attempt_no += 1
            attempt = _Attempt(progress, sha256=sha256)
            payload: bytes | AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]]
            if src.in_memory:
                payload = await src.load(attempt)
            elif src.replayable:
                payload = _factory(src, attempt)  # the client may send it more than once
            else:
                payload = src.chunks(attempt)
            try:
                doc = await self.api.upload(
                    workspace_id,
                    folder_id,
                    name=doc_name,
                    note=note,
                    payload=payload,
                    size=src.size,
                )
            except Exception as exc:
                if attempt.source_error is not None:
                    raise attempt.source_error from None
                if not outcome_unknown(exc):
                    if not src.replayable and _throttled(exc):
                        raise SourceNotReplayableError(
                            f"the upload of {doc_name!r} was refused for now ({exc}) and its "
                            "source is a one-shot stream that cannot be sent again; pass a "
                            "path, bytes or a seekable file to have it re-sent"
                        ) from exc
                    raise  # the client already retried whatever could be retried
                sha1 = attempt.sha.sha1_b64()
                if attempt.exhausted:
                    found = await self._find_landed(
                        workspace_id, folder_id, doc_name, attempt.size, sha1, excluded
                    )
                    if found is not None:
                        return UploadOutcome(
                            found, attempt.size, sha1, True, attempt_no, attempt.sha256_hex()
                        )
                if attempt_no > self.max_resends:
                    raise
                if not src.replayable:
                    raise SourceNotReplayableError(
                        f"the answer to the upload of {doc_name!r} was lost and it did not "
                        "land; its source is a one-shot stream that cannot be sent again: pass "
                        "a path, bytes or a seekable file to have it re-sent"
                    ) from exc
                self.api.own_retries += 1
                if progress is not None:
                    progress.rewind()
                continue
            return await self._accepted(workspace_id, doc, doc_name, src, attempt, attempt_no)

    async def _accepted(
        self,
        workspace_id: str,
        doc: Any,
        doc_name: str,
        src: _Source,
        attempt: _Attempt,
        attempt_no: int,
    ) -> UploadOutcome:
        """Check the server's answer against what was sent."""
        sha1 = attempt.sha.sha1_b64()
        if opt_str(getattr(doc, "id", None)) is None:
            raise APIResponseValidationError(
                f"the server accepted {doc_name!r} but its answer names no document id, so "
                "the upload cannot be confirmed",
                operation="uploadDocument",
            )
        if src.size is not None and attempt.size != src.size:
            raise IntegrityError(
                f"upload of {doc_name!r}: read {attempt.size} bytes, expected {src.size}"
            )
        problem = self._check_stored(doc, doc_name, attempt.size, sha1)
        if problem is not None:
            raise IntegrityError(await self._remove_bad_copy(workspace_id, doc, problem))
        return UploadOutcome(doc, attempt.size, sha1, False, attempt_no, attempt.sha256_hex())

    @staticmethod
    def _check_stored(doc: Any, name: str, size: int, sha1: str) -> str | None:
        """What is wrong with the stored document, if anything."""
        stored_size = doc_size(doc)
        stored_hash = doc_hash(doc)
        if stored_size is not None and stored_size != size:
            return f"server stored {stored_size} bytes of {name!r}, sent {size}"
        if stored_hash is not None and stored_hash != sha1:
            return f"server's fileHash of {name!r} does not match what was sent"
        return None

    async def _remove_bad_copy(self, workspace_id: str, doc: Any, problem: str) -> str:
        """Delete a document stored with the wrong content; returns the error message."""
        doc_id = opt_str(doc.id)
        if doc_id is None:
            return problem
        try:
            with anyio.CancelScope(shield=True), anyio.fail_after(30):
                await self.api.delete_document(workspace_id, doc_id)
        except Exception as exc:
            return (
                f"{problem}; removing the bad copy (document {doc_id}) failed too "
                f"({type(exc).__name__}): delete it by hand"
            )
        return f"{problem}; the bad copy (document {doc_id}) was removed"

    async def _find_landed(
        self,
        workspace_id: str,
        folder_id: str,
        name: str,
        size: int,
        sha1: str,
        excluded: Collection[str],
    ) -> Any | None:
        """The document a lost answer stored, if it is in the folder (name, size, SHA-1)."""
        docs = await self.api.list_documents(workspace_id, folder_id)
        for doc in docs:
            doc_id = opt_str(doc.id)
            if doc_id is None or doc_id in excluded or opt_str(doc.name) != name:
                continue
            if doc_size(doc) not in (None, size):
                continue
            remote_hash = doc_hash(doc)
            if remote_hash is not None and remote_hash != sha1:
                continue
            return doc
        return None
