"""Streaming ``multipart/form-data`` parsing straight to a blob on disk.

The request body is fed chunk by chunk from ``request.stream()`` into python-multipart's
push parser; the ``file`` part's bytes go to a :class:`~._storage.BlobWriter` (hashing
and counting as they are written), the small text fields are kept in memory with a cap.

A body of at most :data:`BUFFERED_BODY_BYTES` (most documents; one declared larger
streams from its first byte) is read whole first and
split with plain ``bytes`` operations by :func:`parse_whole`, which takes only the
plainest form of multipart (what HTTP clients send) and hands anything else back to
python-multipart over the same bytes, so every outcome and error stays the push
parser's; its file is then written in one go by :meth:`~._storage.BlobStore.put`, on
the event loop: a hop to a worker thread and back costs more CPU (0.06-0.25 ms in a
small VM) than creating a file usually does.
Memory use is bounded by that size plus one chunk whatever the document's size.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import TOKEN_CHARS, MultipartParser, parse_options_header
from starlette.requests import Request

from ._errors import bad_request
from ._storage import Blob, BlobStore, BlobWriter

MAX_FIELD_BYTES = 64 * 1024
TEXT_FIELDS = ("folderId", "name", "note")
# Bodies up to this size are read whole and parsed by parse_whole (larger ones stream).
BUFFERED_BODY_BYTES = 256 * 1024
# parse_whole's limits per part, below python-multipart's (8 headers of 4224 bytes).
_WHOLE_MAX_HEADERS = 8
_WHOLE_MAX_HEADER_LINE = 1024


@dataclass(slots=True)
class ParsedUpload:
    """The outcome of parsing: text fields and the committed (or absent) file blob."""

    fields: dict[str, str] = field(default_factory=dict)
    blob: Blob | None = None
    filename: str | None = None


_EXTENDED = re.compile(rb"filename\*\s*=\s*([A-Za-z0-9!#$&+.^_`|~-]+)'[^']*'([^;\s]+)")


def _extended_filename(disposition: bytes) -> str | None:
    """The RFC 5987/6266 ``filename*=charset''pct-encoded`` value, if any."""
    match = _EXTENDED.search(disposition)
    if match is None:
        return None
    charset = match.group(1).decode("ascii").lower()
    try:
        return unquote(match.group(2).decode("ascii"), encoding=charset, errors="replace")
    except (LookupError, UnicodeDecodeError):
        return None


class _Collector:
    """python-multipart callbacks routing each part to memory or to disk."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store
        self.result = ParsedUpload()
        self.writer: BlobWriter | None = None
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._target: BlobWriter | bytearray | None = None
        self._committed_file = False

    # callbacks ---------------------------------------------------------------------

    def on_part_begin(self) -> None:
        self._headers = {}
        self._name = None
        self._target = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in params:
            raise bad_request(
                "INVALID_MULTIPART", "part without a form-data name", "name every part"
            )
        name = params[b"name"].decode("utf-8", "replace")
        self._name = name
        if name == "file":
            if self.writer is not None or self._committed_file:
                raise bad_request("INVALID_MULTIPART", "more than one 'file' part", "send one file")
            raw = self._headers.get(b"content-disposition", b"")
            self.result.filename = _file_name(raw, params)
            self.writer = self.store.writer()
            self._target = self.writer
        elif name in TEXT_FIELDS:
            if name in self.result.fields:
                raise bad_request("INVALID_MULTIPART", f"duplicate field '{name}'", "send it once")
            self._target = bytearray()
        else:
            self._target = None  # unknown fields are ignored

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        target = self._target
        if target is None:
            return
        if isinstance(target, bytearray):
            if len(target) + (end - start) > MAX_FIELD_BYTES:
                raise bad_request(
                    "FIELD_TOO_LARGE", f"field '{self._name}' is too large", "keep it under 64 KiB"
                )
            target += data[start:end]
        else:
            target.write(memoryview(data)[start:end])

    def on_part_end(self) -> None:
        target = self._target
        if isinstance(target, bytearray) and self._name is not None:
            try:
                self.result.fields[self._name] = target.decode("utf-8")
            except UnicodeDecodeError:
                raise bad_request(
                    "INVALID_FIELD", f"field '{self._name}' is not UTF-8", "send UTF-8 text"
                ) from None
        elif target is not None and self.writer is not None:
            self.result.blob = self.writer.commit()
            self.writer = None
            self._committed_file = True
        self._target = None

    def abort(self) -> None:
        """Discard any partial or committed file."""
        if self.writer is not None:
            self.writer.abort()
            self.writer = None
        if self.result.blob is not None:
            self.store.delete(self.result.blob)
            self.result.blob = None


@dataclass(slots=True)
class WholeUpload:
    """What :func:`parse_whole` found: the text fields, the file's name and bytes."""

    fields: dict[str, str]
    filename: str | None
    content: memoryview | None


_DISPOSITIONS: dict[bytes, tuple[bytes, dict[bytes, bytes]]] = {}


def _disposition(raw: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """``parse_options_header(raw)``, remembered for the few short values text parts repeat."""
    parsed = _DISPOSITIONS.get(raw)
    if parsed is None:
        parsed = parse_options_header(raw)
        if len(raw) <= 64 and b"filename" not in raw:
            if len(_DISPOSITIONS) >= 256:
                _DISPOSITIONS.clear()
            _DISPOSITIONS[raw] = parsed
    return parsed[0], dict(parsed[1])


def _file_name(raw: bytes, params: dict[bytes, bytes]) -> str | None:
    """The ``file`` part's name: ``filename*=`` (RFC 5987) first, then ``filename``."""
    extended = _extended_filename(raw)
    if extended is not None:
        return extended
    filename = params.get(b"filename")
    return None if filename is None else filename.decode("utf-8", "replace")


def parse_whole(body: bytes, boundary: bytes) -> WholeUpload | None:
    """Split a complete multipart ``body`` the way the push parser would, or ``None``.

    Only the plainest form is taken: the body starts with the first boundary line; each
    part has at most 8 ``Name: value`` header lines of token names (no bare CR or LF,
    no empty line first) and ends at the next delimiter followed by CRLF or ``--``;
    every part is named, at most one is ``file``, text fields are UTF-8, unrepeated and
    within :data:`MAX_FIELD_BYTES`. Anything else (including every error) returns
    ``None``, so that python-multipart parses the same bytes and decides.
    """
    first = b"--" + boundary
    if not body.startswith(first + b"\r\n"):
        return None
    delimiter = b"\r\n" + first
    pos = len(first) + 2
    fields: dict[str, str] = {}
    filename: str | None = None
    content: memoryview | None = None
    while True:
        header_end = body.find(b"\r\n\r\n", pos)
        if header_end < 0 or body.startswith(b"\r\n", pos):
            return None
        lines = body[pos:header_end].split(b"\r\n")
        if len(lines) > _WHOLE_MAX_HEADERS:
            return None
        headers: dict[bytes, bytes] = {}
        for line in lines:
            name, colon, value = line.partition(b":")
            if (
                not colon
                or not name
                or len(line) > _WHOLE_MAX_HEADER_LINE
                or name.translate(None, TOKEN_CHARS)
                or b"\r" in value
                or b"\n" in value
            ):
                return None
            headers[name.lower()] = value.lstrip(b" ")
        start = header_end + 4
        end = body.find(delimiter, start)
        if end < 0:
            return None
        after = end + len(delimiter)
        tail = body[after : after + 2]
        if tail != b"\r\n" and tail != b"--":
            return None
        raw = headers.get(b"content-disposition", b"")
        disposition, params = _disposition(raw)
        if disposition != b"form-data" or b"name" not in params:
            return None
        part = params[b"name"].decode("utf-8", "replace")
        if part == "file":
            if content is not None:
                return None
            filename = _file_name(raw, params)
            content = memoryview(body)[start:end]
        elif part in TEXT_FIELDS:
            if part in fields or end - start > MAX_FIELD_BYTES:
                return None
            try:
                fields[part] = body[start:end].decode("utf-8")
            except UnicodeDecodeError:
                return None
        if tail == b"--":
            return WholeUpload(fields, filename, content)
        pos = after + 2


async def _buffer(chunks: AsyncIterator[bytes], limit: int) -> tuple[list[bytes], bool]:
    """Read ``chunks`` until they end (``True``) or hold more than ``limit`` bytes."""
    held: list[bytes] = []
    size = 0
    async for chunk in chunks:
        if chunk:
            held.append(chunk)
            size += len(chunk)
            if size > limit:
                return held, False
    return held, True


def _store_whole(whole: WholeUpload, store: BlobStore) -> ParsedUpload:
    result = ParsedUpload(fields=whole.fields, filename=whole.filename)
    if whole.content is not None:
        result.blob = store.put(whole.content)
    return result


async def parse_upload(request: Request, store: BlobStore) -> ParsedUpload:
    """Parse the multipart body of ``request``; the caller owns (commits or deletes) the blob."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise bad_request(
            "INVALID_CONTENT_TYPE",
            "uploadDocument needs a multipart/form-data body",
            "send multipart/form-data with a boundary",
        )
    collector = _Collector(store)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": collector.on_part_begin,
            "on_header_field": collector.on_header_field,
            "on_header_value": collector.on_header_value,
            "on_header_end": collector.on_header_end,
            "on_headers_finished": collector.on_headers_finished,
            "on_part_data": collector.on_part_data,
            "on_part_end": collector.on_part_end,
        },
    )
    try:
        chunks = request.stream()
        held: list[bytes] = []
        declared = request.headers.get("content-length", "")
        if not (declared.isdigit() and int(declared) > BUFFERED_BODY_BYTES):
            held, complete = await _buffer(chunks, BUFFERED_BODY_BYTES)
            whole = None
            if complete:
                whole = parse_whole(held[0] if len(held) == 1 else b"".join(held), boundary)
            if whole is not None:
                return _store_whole(whole, store)
        for chunk in held:
            parser.write(chunk)
        del held
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if collector.writer is not None:  # body ended inside the file part
            raise bad_request("INVALID_MULTIPART", "multipart body is truncated", "resend")
    except MultipartParseError:
        collector.abort()
        raise bad_request(
            "INVALID_MULTIPART", "multipart body could not be parsed", "check the boundary"
        ) from None
    except BaseException:
        collector.abort()
        raise
    return collector.result
