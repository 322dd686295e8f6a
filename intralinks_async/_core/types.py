"""Value types shared by the generated operations: UNSET, File, Response, DownloadStream."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import IO, Generic, Literal, TypeAlias, TypeVar

import httpx
from attrs import define

__all__ = [
    "UNSET",
    "BodyFactory",
    "DownloadStream",
    "File",
    "FilePayload",
    "FileTypes",
    "MultipartFields",
    "MultipartValue",
    "Response",
    "Unset",
]


class Unset:
    """Marker type of :data:`UNSET` (a value that was not provided)."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Unset = Unset()

#: A zero-argument callable returning a fresh async iterable of bytes chunks on each call:
#: a body that can be produced again, so that a request can be re-sent.
BodyFactory: TypeAlias = Callable[[], AsyncIterable[bytes]]

#: What an uploaded file can be: bytes, a binary file object (read in a worker thread, in
#: chunks), an async iterable of bytes chunks (sent once) or a :data:`BodyFactory`
#: (called once per attempt, so the upload can be re-sent after a 429/503).
FilePayload: TypeAlias = bytes | IO[bytes] | AsyncIterable[bytes] | BodyFactory
#: ``(file_name, payload, mime_type)``, as returned by :meth:`File.to_tuple`.
FileTypes: TypeAlias = tuple[str | None, FilePayload, str | None]


@define
class File:
    """A file to upload in a multipart (or raw) body.

    ``payload`` is bytes, a binary file object (read in a worker thread, in chunks), an
    async iterable of bytes (sent once) or a zero-argument callable returning a fresh async
    iterable of bytes (a factory: the body can be re-sent). ``size`` (optional; found by
    seeking for seekable file objects) lets the encoder send Content-Length, and is checked
    against what the payload yields.
    """

    payload: FilePayload
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None

    def to_tuple(self) -> FileTypes:
        """Return ``(file_name, payload, mime_type)``."""
        return self.file_name, self.payload, self.mime_type


#: One multipart part: a :class:`File`, or ``(file_name, value, mime_type)`` for in-memory values.
MultipartValue: TypeAlias = File | tuple[str | None, bytes | str, str | None]
MultipartFields: TypeAlias = list[tuple[str, MultipartValue]]

T = TypeVar("T")


@define
class Response(Generic[T]):
    """A raw response of one operation: status, headers, raw content and the parsed value.

    Returned by ``client.<resource>.with_raw_response.<method>(...)`` and the generated
    ``asyncio_detailed`` functions. A status error is raised before one exists, so
    ``parsed`` is always the operation's result.
    """

    status_code: int
    content: bytes
    headers: httpx.Headers
    parsed: T

    def parse(self) -> T:
        """The operation's result (the value the plain method returns)."""
        return self.parsed


class DownloadStream:
    """A streamed binary response: ``status_code``, ``headers`` and chunked body iteration.

    The raw response of a download (``with_raw_response``); ``parse()`` gives the chunks.
    """

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status_code: int = response.status_code
        self.headers: httpx.Headers = response.headers

    @property
    def content_length(self) -> int | None:
        """The Content-Length header as an int, when present and valid."""
        value = self.headers.get("content-length")
        if value is None or not value.isdigit():
            return None
        return int(value)

    @property
    def extensions(self) -> Mapping[str, object]:
        """The httpx response extensions (e.g. ``intralinks_attempts``)."""
        return self._response.extensions

    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Iterate over the (decoded) body in chunks, never holding it whole."""
        return self._response.aiter_bytes(chunk_size)

    def parse(self) -> AsyncIterator[bytes]:
        """The body as an async iterator of bytes chunks (what the plain download yields)."""
        return self._response.aiter_bytes()

    def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """Iterate over the raw (undecoded) body in chunks."""
        return self._response.aiter_raw(chunk_size)

    def __repr__(self) -> str:
        return f"<DownloadStream status_code={self.status_code}>"
