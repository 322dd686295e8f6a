"""Streaming ``multipart/form-data`` parsing straight to a blob on disk.

The request body is fed chunk by chunk from ``request.stream()`` into python-multipart's
push parser; the ``file`` part's bytes go to a :class:`~._storage.BlobWriter` (hashing
and counting as they are written), the small text fields are kept in memory with a cap.
Memory use is bounded by the chunk size whatever the document's size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from ._errors import bad_request
from ._storage import Blob, BlobStore, BlobWriter

MAX_FIELD_BYTES = 64 * 1024
TEXT_FIELDS = ("folderId", "name", "note")


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
            extended = _extended_filename(raw)
            filename = params.get(b"filename")
            if extended is not None:
                self.result.filename = extended
            elif filename is not None:
                self.result.filename = filename.decode("utf-8", "replace")
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
        async for chunk in request.stream():
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
