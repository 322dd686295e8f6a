"""Response bodies from untrusted servers: a decoded-size limit and typed validation.

Two jobs, one per half of this module:

* **Reading.** A non-streamed body is read and decoded (gzip/deflate) incrementally, and
  never beyond the client's limit (``IntralinksClient(max_response_bytes=...)``, 64 MiB by
  default): a 2xx body over the limit raises :class:`~intralinks_async.errors.
  ResponseTooLargeError`, so a decompression bomb costs at most the limit in memory. A
  non-2xx body is only kept up to :data:`ERROR_BODY_LIMIT` (error messages keep far less);
  the rest is dropped with the connection. The limit and the operation name travel with
  the request in ``request.extensions`` (:data:`MAX_RESPONSE_BYTES_EXTENSION`,
  :data:`OPERATION_EXTENSION`); :func:`read_response` reads an ``httpx.Response`` and the
  default aiohttp transport uses :func:`read_limited` directly.
* **Validation.** Generated operations parse 2xx bodies through :func:`parse_response`:
  a body that is not JSON, has the wrong top-level type or values the model cannot parse
  raises :class:`~intralinks_async.errors.APIResponseValidationError` naming the operation,
  never a raw ``JSONDecodeError``/``TypeError``/...
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import Any, Final, TypeVar, cast

import httpx
import httpx._decoders as httpx_decoders

from intralinks_async._logging import redact_text
from intralinks_async.errors import (
    STREAM_READ_LIMIT,
    APIResponseValidationError,
    ResponseTooLargeError,
)

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "ERROR_BODY_LIMIT",
    "MAX_RESPONSE_BYTES_EXTENSION",
    "OPERATION_EXTENSION",
    "BoundedDecoder",
    "parse_response",
    "read_limited",
    "read_response",
    "response_limit",
    "unknown_codings",
]

T = TypeVar("T")

#: Default decoded-size limit of a non-streamed response body (bytes).
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
#: How much of a non-2xx body is read (decoded bytes); errors keep a prefix of it.
ERROR_BODY_LIMIT: Final = STREAM_READ_LIMIT
#: ``request.extensions`` key: the decoded-size limit for this request's response.
MAX_RESPONSE_BYTES_EXTENSION: Final = "intralinks_max_response_bytes"
#: ``request.extensions`` key: the operationId the request belongs to.
OPERATION_EXTENSION: Final = "intralinks_operation"

# Most bytes one decompression step may produce (memory per step stays small).
_STEP = 256 * 1024
# Other decoders (br, zstd when installed) cannot cap their output: feed them small slices.
_SLICE = 1024
# Body bytes quoted in a validation error (the error clips further and redacts).
_QUOTED = 2000


class Overflow(Exception):
    """Raised by :meth:`BoundedDecoder.feed`: the decoded body outgrew its limit."""


class Undecodable(Exception):
    """Raised by :meth:`BoundedDecoder.feed`: the body is not valid for its Content-Encoding."""


_GZIP_MAGIC = b"\x1f\x8b"


class _ZlibStage:
    """gzip or deflate, decoded in steps of at most ``_STEP`` output bytes.

    A gzip body may hold several members (RFC 1952): each is decoded in turn. Bytes after
    the end that do not start a member are ignored (never buffered).
    """

    __slots__ = ("_ignore", "_raw_fallback", "_started", "_tail", "_wbits", "_z")

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._z = zlib.decompressobj(wbits)
        # "deflate" is sometimes sent without the zlib header (raw deflate); httpx accepts it.
        self._raw_fallback = wbits == zlib.MAX_WBITS
        self._started = False
        self._tail = b""  # the first byte of what may be the next gzip member
        self._ignore = False

    def _first(self, data: bytes) -> bytes:
        try:
            return self._z.decompress(data, _STEP)
        except zlib.error:
            if not self._raw_fallback or self._started:
                raise
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._z.decompress(data, _STEP)

    def _member(self, data: bytes) -> Iterator[bytes]:
        out = self._first(data)
        self._started = True
        z = self._z
        while out:
            yield out
            if not z.unconsumed_tail and len(out) < _STEP:
                break
            out = z.decompress(z.unconsumed_tail, _STEP)

    def _next_member(self, data: bytes) -> bool:
        """After the end of a member: whether ``data`` starts another (then it is set up)."""
        data = self._tail + data
        if self._wbits != zlib.MAX_WBITS | 16 or (len(data) >= 2 and data[:2] != _GZIP_MAGIC):
            self._ignore = True
            return False
        if len(data) < 2:
            self._tail = data
            return False
        self._tail = b""
        self._z = zlib.decompressobj(self._wbits)
        return True

    def __call__(self, data: bytes) -> Iterator[bytes]:
        try:
            while data and not self._ignore:
                if self._z.eof:
                    pending = self._tail + data
                    if not self._next_member(data):
                        return
                    data = pending
                yield from self._member(data)
                data = self._z.unused_data if self._z.eof else b""
        except zlib.error as exc:
            raise Undecodable(str(exc)) from None


def _sliced_stage(name: str) -> Callable[[bytes], Iterator[bytes]]:
    decoder = httpx_decoders.SUPPORTED_DECODERS[name]()

    def decode(data: bytes) -> Iterator[bytes]:
        try:
            for start in range(0, len(data), _SLICE):
                out = decoder.decode(data[start : start + _SLICE])
                if out:
                    yield out
        except httpx.DecodingError as exc:
            raise Undecodable(str(exc)) from None

    return decode


def _stage(name: str) -> Callable[[bytes], Iterator[bytes]] | None:
    if name in ("gzip", "x-gzip"):
        return _ZlibStage(zlib.MAX_WBITS | 16)
    if name == "deflate":
        return _ZlibStage(zlib.MAX_WBITS)
    if name != "identity" and name in httpx_decoders.SUPPORTED_DECODERS:
        return _sliced_stage(name)
    return None  # identity (unknown codings are refused by the callers)


def _coding_names(content_encoding: str | None) -> list[str]:
    return [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]


def unknown_codings(content_encoding: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` value this client cannot decode."""
    known = httpx_decoders.SUPPORTED_DECODERS
    return [n for n in _coding_names(content_encoding) if n not in known and n != "x-gzip"]


def unknown_coding_message(unknown: list[str]) -> str:
    """The text of the error for a 2xx body in codings the client cannot decode."""
    return (
        f"the response body has Content-Encoding {', '.join(unknown)}, which this client "
        "cannot decode (its bytes are not what the server stored)"
    )


class BoundedDecoder:
    """Decodes a ``Content-Encoding`` chain incrementally, producing at most ``limit`` bytes.

    gzip and deflate are decoded in steps of at most 256 KiB, so memory stays within the
    limit plus one step whatever the compression ratio. :meth:`feed` raises ``Overflow``
    once the output passes ``limit`` and ``Undecodable`` for corrupt input. Codings it
    does not know are listed in :attr:`unknown` and left as they are.
    """

    __slots__ = ("_parts", "_stages", "limit", "size", "unknown")

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        names = _coding_names(content_encoding)
        # Codings are listed in the order applied: undo the last one first.
        stages = [_stage(name) for name in reversed(names)]
        self._stages = [s for s in stages if s is not None]
        self.unknown = unknown_codings(content_encoding)
        self._parts: list[bytes] = []
        self.limit = limit
        self.size = 0

    def _run(self, data: bytes, index: int) -> Iterator[bytes]:
        if index == len(self._stages):
            yield data
            return
        for piece in self._stages[index](data):
            yield from self._run(piece, index + 1)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Decode one chunk of the raw body into pieces of at most 256 KiB each (gzip,
        deflate), without keeping them; ``Undecodable`` for corrupt input."""
        return self._run(data, 0)

    def feed(self, data: bytes) -> None:
        """Decode one chunk of the raw body."""
        for piece in self._run(data, 0):
            self.size += len(piece)
            self._parts.append(piece)
            if self.size > self.limit:
                raise Overflow

    def result(self) -> bytes:
        """The body decoded so far."""
        return b"".join(self._parts)


def response_limit(request: httpx.Request | None) -> tuple[int, str | None]:
    """The decoded-size limit and operation name carried by ``request``'s extensions."""
    if request is None:
        return DEFAULT_MAX_RESPONSE_BYTES, None
    extensions = request.extensions
    limit = extensions.get(MAX_RESPONSE_BYTES_EXTENSION)
    if not isinstance(limit, int) or limit <= 0:
        limit = DEFAULT_MAX_RESPONSE_BYTES
    operation = extensions.get(OPERATION_EXTENSION)
    return limit, operation if isinstance(operation, str) else None


async def read_limited(
    chunks: AsyncIterator[bytes],
    *,
    status_code: int,
    content_encoding: str | None,
    limit: int,
    operation: str | None,
) -> tuple[bytes, bool]:
    """Read and decode ``chunks`` (raw body bytes) within the limits.

    Returns ``(decoded body, complete)``. A 2xx body over ``limit`` (decoded, or raw bytes
    on the wire) raises :class:`ResponseTooLargeError`; a corrupt 2xx encoding raises
    :class:`APIResponseValidationError`. A non-2xx body is cut at
    ``min(limit, ERROR_BODY_LIMIT)`` decoded bytes (``complete`` is then False and the
    caller closes the connection); its decoding errors keep what was decoded.
    """
    success = 200 <= status_code < 300
    cap = limit if success else min(limit, ERROR_BODY_LIMIT)
    decoder = BoundedDecoder(content_encoding, cap)
    if success and decoder.unknown:
        raise APIResponseValidationError(
            unknown_coding_message(decoder.unknown), operation=operation, status_code=status_code
        )
    wire = 0
    try:
        async for chunk in chunks:
            wire += len(chunk)
            if wire > limit:
                raise Overflow
            decoder.feed(chunk)
    except Overflow:
        if success:
            raise ResponseTooLargeError(
                limit=limit, operation=operation, status_code=status_code
            ) from None
        return decoder.result()[:cap], False
    except Undecodable as exc:
        if success:
            raise APIResponseValidationError(
                f"the body is not valid {content_encoding} data ({exc})",
                operation=operation,
                status_code=status_code,
            ) from None
        return decoder.result(), False
    return decoder.result(), True


async def read_response(response: httpx.Response) -> None:
    """Read the body of a non-streamed ``response`` within its request's size limit.

    Use instead of ``await response.aread()`` for responses of any httpx transport: the
    decoded body becomes ``response.content``; the response is closed afterwards.
    """
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response built without a request
        request = None
    limit, operation = response_limit(request)
    if hasattr(response, "_content"):  # built from bytes (mocks): decoded already
        if len(response.content) > limit and 200 <= response.status_code < 300:
            raise ResponseTooLargeError(
                limit=limit, operation=operation, status_code=response.status_code
            )
        return
    raw = cast("AsyncGenerator[bytes, None]", response.aiter_raw())
    try:
        content, _ = await read_limited(
            raw,
            status_code=response.status_code,
            content_encoding=response.headers.get("content-encoding"),
            limit=limit,
            operation=operation,
        )
    finally:
        await raw.aclose()
        await response.aclose()
    response._content = content


# -- validation ----------------------------------------------------------------------------

# What a model's from_dict raises on values it cannot handle (and json on bad input).
_PARSE_ERRORS = (
    ValueError,  # JSONDecodeError, UnicodeDecodeError, bad dates/enums
    TypeError,
    AttributeError,
    LookupError,
    ArithmeticError,
    RecursionError,  # deeply nested JSON
)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null"


def _looks_like_html(response: httpx.Response, text: str) -> bool:
    if "html" in response.headers.get("content-type", "").lower():
        return True
    head = text.lstrip()[:100].lower()
    return head.startswith(("<!doctype html", "<html"))


def _describe(response: httpx.Response, exc: BaseException) -> str:
    """Why the body of ``response`` could not be parsed (computed on the error path only)."""
    content = response.content
    if not content.strip():
        return "the response body is empty where JSON was expected"
    try:
        data = json.loads(content)
    except RecursionError:
        return "the response body is JSON nested too deeply to parse"
    except ValueError as json_exc:
        head = content[:200].decode("utf-8", "replace")
        if _looks_like_html(response, head):
            return "the response body is HTML, not JSON"
        return f"the response body is not valid JSON ({type(json_exc).__name__}: {json_exc})"
    if not isinstance(data, dict):
        return f"the response body is a JSON {_json_kind(data)} where an object was expected"
    detail = str(exc)
    if len(detail) > 200:
        detail = detail[:200] + "..."
    return f"the response body does not match the schema ({type(exc).__name__}: {detail})"


def parse_response(
    response: httpx.Response, operation: str, parse: Callable[[httpx.Response], T]
) -> T:
    """Run ``parse(response)`` (a generated body parser); turn its failures into
    :class:`APIResponseValidationError` with the operation, status and a redacted body."""
    try:
        return parse(response)
    except _PARSE_ERRORS as exc:
        error = exc
    body = response.content[:_QUOTED].decode("utf-8", "replace")
    raise APIResponseValidationError(
        redact_text(_describe(response, error)),
        operation=operation,
        status_code=response.status_code,
        body=body,
    ) from None
