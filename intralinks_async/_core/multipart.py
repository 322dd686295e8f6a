"""Request-body encoders of the generated layer: multipart/form-data and raw file bodies.

Each multipart body gets a fresh random boundary; names and file names are escaped the
WHATWG way (``"``, CR, LF), so no value can inject a header or a part. File payloads are
streamed in chunks and checked against their declared size and the boundary.

What the sender receives as ``content``:

* ``bytes`` when every part is in memory (replayable as is);
* a :class:`ReplayableBody` when every streamed payload is a factory (a zero-argument
  callable returning a fresh async iterable): calling it yields the whole body again, so
  the client can re-send the request (e.g. after a 429/503). It is also an async iterable
  (one pass), for senders that do not call factories;
* a one-shot async iterator otherwise (a file object or a plain async iterable).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping, Sequence
from typing import TypeAlias

import anyio.to_thread
import httpx
from attrs import define, field

from intralinks_async._core.types import File, FilePayload, MultipartValue

__all__ = [
    "CHUNK_SIZE",
    "BodyContent",
    "FileBody",
    "MultipartBody",
    "ReplayableBody",
    "add_body_headers",
    "encode_file_body",
    "encode_multipart",
    "is_factory",
]

#: Size of the chunks read from file objects (in a worker thread).
CHUNK_SIZE = 512 * 1024


class ReplayableBody:
    """A streamed request body that can be produced again.

    Calling it (no arguments) returns a fresh async iterator over the whole body: the
    body factory of the ``RequestSender`` protocol, called once per attempt. Iterating it
    directly is one pass (a fresh iterator too), for senders that treat it as a plain
    async iterable.
    """

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], AsyncIterator[bytes]]) -> None:
        self._make = make

    def __call__(self) -> AsyncIterator[bytes]:
        return self._make()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._make()

    def __repr__(self) -> str:
        return "<ReplayableBody>"


#: What an encoder hands the sender as ``content``.
BodyContent: TypeAlias = bytes | AsyncIterator[bytes] | ReplayableBody


def is_factory(payload: object) -> bool:
    """Whether ``payload`` is a body factory (a callable, not an iterable or file object)."""
    return (
        callable(payload)
        and not isinstance(payload, AsyncIterable | bytes | bytearray | memoryview)
        and not hasattr(payload, "read")
    )


def _quote_param(value: str) -> str:
    """Encode a name/filename for a quoted Content-Disposition parameter (WHATWG rules)."""
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _check_mime(mime: str) -> str:
    if any(ch in mime for ch in "\r\n\0") or not mime.isascii():
        raise ValueError("invalid multipart content type")
    return mime


def _known_size(payload: FilePayload) -> int | None:
    if isinstance(payload, bytes | bytearray | memoryview):
        return len(payload)
    if isinstance(payload, AsyncIterable) or is_factory(payload):
        return None
    seekable = getattr(payload, "seekable", None)
    if seekable is None:
        return None
    try:
        if seekable():
            start = payload.tell()  # type: ignore[union-attr]
            end = payload.seek(0, 2)  # type: ignore[union-attr]
            payload.seek(start)  # type: ignore[union-attr]
            return max(0, end - start)
    except (OSError, ValueError):
        return None
    return None


@define
class _Part:
    head: bytes
    data: bytes | None = None
    source: FilePayload | None = None
    size: int | None = None


@define
class MultipartBody:
    """An encoded multipart body: headers to send and the content (see the module doc)."""

    boundary: str
    headers: dict[str, str]
    content: BodyContent
    parts: list[_Part] = field(factory=list, repr=False)


def _part_head(boundary: str, name: str, file_name: str | None, mime: str | None) -> bytes:
    return b"--" + boundary.encode("ascii") + _head_after_boundary(name, file_name, mime)


@functools.lru_cache(maxsize=512)
def _head_after_boundary(name: str, file_name: str | None, mime: str | None) -> bytes:
    """A part head after its ``--boundary`` (the same few fields recur on every upload)."""
    disposition = f'form-data; name="{_quote_param(name)}"'
    if file_name is not None:
        disposition += f'; filename="{_quote_param(file_name)}"'
    lines = ["", f"Content-Disposition: {disposition}"]
    if mime is not None and not (file_name is None and mime == "text/plain"):
        lines.append(f"Content-Type: {_check_mime(mime)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def add_body_headers(headers: httpx.Headers, body_headers: Mapping[str, str]) -> None:
    """Set an encoded body's headers (Content-Type, Content-Length) on ``headers``.

    Like ``headers.update(body_headers)``; when ``headers`` is still empty (the common
    case: no caller headers) the entries are set without a lookup per name.
    """
    if headers:
        headers.update(body_headers)
        return
    entries = []
    for key, value in body_headers.items():
        raw = key.encode("ascii")
        entries.append((raw, raw.lower(), value.encode("ascii")))
    headers._list = entries


def _in_memory(payload: bytes | bytearray | memoryview, declared: int | None) -> bytes:
    data = bytes(payload)
    if declared is not None and declared != len(data):
        raise ValueError(f"File.size ({declared}) != len(payload) ({len(data)})")
    return data


def _file_part(name: str, value: File, boundary: str) -> _Part:
    file_name = value.file_name if value.file_name is not None else name
    head = _part_head(boundary, name, file_name, value.mime_type or "application/octet-stream")
    payload = value.payload
    if isinstance(payload, bytes | bytearray | memoryview):
        return _Part(head=head, data=_in_memory(payload, value.size))
    size = value.size if value.size is not None else _known_size(payload)
    return _Part(head=head, source=payload, size=size)


def _build_parts(fields: Sequence[tuple[str, MultipartValue]], boundary: str) -> list[_Part]:
    parts: list[_Part] = []
    for name, value in fields:
        if isinstance(value, File):
            parts.append(_file_part(name, value, boundary))
        else:
            file_name, raw, mime = value
            data = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
            parts.append(_Part(head=_part_head(boundary, name, file_name, mime), data=data))
    return parts


async def _iter_source(source: FilePayload) -> AsyncIterator[bytes]:
    if is_factory(source):
        produced = source()  # type: ignore[operator]
        if not isinstance(produced, AsyncIterable):
            raise TypeError("a File payload factory must return an async iterable of bytes")
        source = produced
    if isinstance(source, AsyncIterable):
        async for chunk in source:
            if not isinstance(chunk, bytes | bytearray | memoryview):
                raise TypeError("async iterable file payloads must yield bytes")
            yield bytes(chunk)
        return
    if isinstance(source, bytes | bytearray | memoryview):
        yield bytes(source)
        return
    read = source.read  # type: ignore[union-attr]
    while True:
        chunk = await anyio.to_thread.run_sync(read, CHUNK_SIZE)
        if not chunk:
            return
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise TypeError("file payloads must be opened in binary mode")
        yield bytes(chunk)


async def _checked(
    source: FilePayload, size: int | None, delimiter: bytes | None = None
) -> AsyncIterator[bytes]:
    """Stream ``source``, enforcing its declared ``size`` and the absence of ``delimiter``."""
    sent = 0
    tail = b"\r\n"  # the part head ends with CRLF: a payload starting "--boundary" clashes too
    keep = len(delimiter) - 1 if delimiter else 0
    async for chunk in _iter_source(source):
        if not chunk:
            continue
        if delimiter is not None:
            window = tail + chunk
            if delimiter in window:
                raise ValueError("file payload contains the multipart boundary")
            tail = window[-keep:]
        sent += len(chunk)
        if size is not None and sent > size:
            raise ValueError(f"file payload is larger than its declared size {size}")
        yield chunk
    if size is not None and sent != size:
        raise ValueError(f"file payload has {sent} bytes, declared size is {size}")


async def _stream(parts: list[_Part], boundary: str) -> AsyncIterator[bytes]:
    delimiter = f"\r\n--{boundary}".encode("ascii")
    for part in parts:
        yield part.head
        if part.data is not None:
            yield part.data
        elif part.source is not None:
            async for chunk in _checked(part.source, part.size, delimiter):
                yield chunk
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode("ascii")


def _draw_parts(
    fields: Sequence[tuple[str, MultipartValue]], boundary: str | None
) -> tuple[str, list[_Part]]:
    """Pick a boundary no in-memory value contains (a fresh draw on a clash)."""
    while True:
        chosen = boundary or secrets.token_hex(16)
        parts = _build_parts(fields, chosen)
        marker = f"--{chosen}".encode("ascii")
        if not any(p.data is not None and marker in p.data for p in parts):
            return chosen, parts
        if boundary is not None:
            raise ValueError("multipart value contains the requested boundary")


def _content_length(parts: list[_Part], boundary: str) -> int | None:
    total = len(f"--{boundary}--\r\n")
    for p in parts:
        size = len(p.data) if p.data is not None else p.size
        if size is None:
            return None
        total += len(p.head) + size + 2
    return total


def encode_multipart(
    fields: Sequence[tuple[str, MultipartValue]], *, boundary: str | None = None
) -> MultipartBody:
    """Encode ``fields`` as multipart/form-data with a fresh random boundary.

    In-memory parts are checked against the boundary (a new one is drawn on a clash);
    file payloads are streamed in chunks. Content-Length is set when every size is known.
    The content is ``bytes`` when every part is in memory, a :class:`ReplayableBody` when
    every streamed payload is a factory, a one-shot async iterator otherwise.
    """
    chosen, parts = _draw_parts(fields, boundary)
    headers = {"Content-Type": f"multipart/form-data; boundary={chosen}"}
    length = _content_length(parts, chosen)
    if length is not None:
        headers["Content-Length"] = str(length)
    sources = [p.source for p in parts if p.data is None]
    content: BodyContent
    if not sources:
        chunks = [b for p in parts for b in (p.head, p.data or b"", b"\r\n")]
        content = b"".join([*chunks, f"--{chosen}--\r\n".encode("ascii")])
    elif all(is_factory(s) for s in sources):
        content = ReplayableBody(lambda: _stream(parts, chosen))
    else:
        content = _stream(parts, chosen)
    return MultipartBody(boundary=chosen, headers=headers, content=content, parts=parts)


@define
class FileBody:
    """A raw (e.g. application/octet-stream) request body: headers and the content."""

    headers: dict[str, str]
    content: BodyContent


def encode_file_body(file: File, *, content_type: str) -> FileBody:
    """Prepare ``file`` as a raw request body, streamed in chunks unless already bytes.

    Content-Type is ``file.mime_type`` or ``content_type``; Content-Length is sent when the
    size is known (bytes, ``File.size`` or a seekable file object). A factory payload gives
    a :class:`ReplayableBody`.
    """
    headers = {"Content-Type": _check_mime(file.mime_type or content_type)}
    payload = file.payload
    if isinstance(payload, bytes | bytearray | memoryview):
        data = _in_memory(payload, file.size)
        headers["Content-Length"] = str(len(data))
        return FileBody(headers=headers, content=data)
    size = file.size if file.size is not None else _known_size(payload)
    if size is not None:
        headers["Content-Length"] = str(size)
    if is_factory(payload):
        return FileBody(headers=headers, content=ReplayableBody(lambda: _checked(payload, size)))
    return FileBody(headers=headers, content=_checked(payload, size))
