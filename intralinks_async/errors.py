"""Exception hierarchy and Intralinks error-body parsing.

Every non-2xx response seen by generated code becomes an :class:`APIStatusError`
subclass through :func:`raise_for_status`; transport failures surface as
:class:`APIConnectionError` (raised by the client layer). Exception messages never
carry request headers, and secrets that appear in bodies or URLs are redacted.
"""

from __future__ import annotations

import email.utils
import html
import json
import math
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, cast

import httpx

from intralinks_async._logging import (
    REDACTED,
    redact_text,
    redact_url,
    register_secret,
    sensitive_header,
)

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "IntralinksError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
    "araise_for_status",
    "make_status_error",
    "raise_for_status",
    "redact_text",
    "redact_url",
    "register_secret",
]

#: Maximum number of characters of a response body kept on an error.
BODY_LIMIT = 2000
#: Maximum number of characters of the parsed message kept on an error.
MESSAGE_LIMIT = 500
#: Maximum number of bytes read from a streamed error response.
STREAM_READ_LIMIT = 64 * 1024

_REQUEST_ID_HEADERS = (
    "x-request-id",
    "x-intralinks-request-id",
    "x-correlation-id",
    "x-amzn-requestid",
    "request-id",
    "x-ms-request-id",
)

_TAG_RE = re.compile(r"<[^>]+>")
_WS_RE = re.compile(r"\s+")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _redact_deep(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [_redact_deep(item) for item in value]
    if isinstance(value, dict):
        return {key: _redact_deep(item) for key, item in value.items()}
    return value


def redact_response_headers(headers: Mapping[str, str] | None) -> httpx.Headers:
    """A copy of ``headers`` with credential-bearing values masked (kept on errors)."""
    if not headers:
        return httpx.Headers()
    return httpx.Headers(
        [
            (k, REDACTED if sensitive_header(k) else (redact_text(v) if len(v) >= 8 else v))
            for k, v in headers.items()
        ]
    )


class IntralinksError(Exception):
    """Base class of every error raised by the SDK.

    Its text never shows a secret: string arguments are redacted when the error is built,
    and ``str()`` redacts again (a token registered later is masked too).
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact_text(a) if isinstance(a, str) else a for a in args))

    def __str__(self) -> str:
        return redact_text(super().__str__())

    def __repr__(self) -> str:
        return redact_text(super().__repr__())


class APIConnectionError(IntralinksError):
    """The request could not be completed (connection refused, reset, protocol error)."""

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        operation: str | None = None,
        method: str | None = None,
        url: str | httpx.URL | None = None,
        attempts: int = 1,
        outcome_unknown: bool = False,
    ) -> None:
        self.message = redact_text(message)
        self.operation = operation
        self.method = method
        self.url = redact_url(url)
        self.attempts = attempts
        #: True when the connection broke after the request body began to leave this
        #: process: a non-idempotent request (an upload) may or may not have taken effect.
        self.outcome_unknown = outcome_unknown
        where = " ".join(p for p in (method, self.url) if p)
        parts = [self.message]
        if where:
            parts.append(f"[{where}]")
        if operation:
            parts.append(f"(operation {operation})")
        if attempts > 1:
            parts.append(f"after {attempts} attempts")
        super().__init__(" ".join(parts))


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        operation: str | None = None,
        method: str | None = None,
        url: str | httpx.URL | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message, operation=operation, method=method, url=url, attempts=attempts)


class APIResponseValidationError(IntralinksError):
    """A 2xx answer whose body is not what the operation documents (malformed, wrong shape,
    unparsable field values, or larger than the client's body size limit)."""

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status_code: int | None = None,
        body: str | None = None,
    ) -> None:
        self.message = redact_text(message)
        self.operation = operation
        self.status_code = status_code
        self.body = None if body is None else _clip(redact_text(body), 500)
        parts = [self.message]
        if status_code is not None:
            parts.append(f"(HTTP {status_code})")
        if operation:
            parts.append(f"(operation {operation})")
        super().__init__(" ".join(parts))


class ResponseTooLargeError(APIResponseValidationError):
    """A response body larger than the client's decoded-size limit (``limit`` bytes;
    ``IntralinksClient(max_response_bytes=...)``). Nothing beyond the limit was kept."""

    def __init__(
        self,
        message: str | None = None,
        *,
        limit: int,
        operation: str | None = None,
        status_code: int | None = None,
    ) -> None:
        self.limit = limit
        super().__init__(
            message
            or f"the response body exceeds the client's limit of {limit} bytes "
            "(max_response_bytes)",
            operation=operation,
            status_code=status_code,
        )


class ServiceUnavailableError(IntralinksError):
    """The service stayed unavailable (5xx, connection failures) longer than the client's
    outage patience; ``since`` is when the outage began (``time.time()`` seconds)."""

    def __init__(
        self, message: str, *, operation: str | None = None, since: float | None = None
    ) -> None:
        self.message = redact_text(message)
        self.operation = operation
        self.since = since
        parts = [self.message]
        if operation:
            parts.append(f"(operation {operation})")
        super().__init__(" ".join(parts))


class APIStatusError(IntralinksError):
    """The API answered with a non-2xx status.

    Attributes: ``status_code``, ``method``, ``url`` (secrets masked), ``operation``,
    ``message`` and ``code``/``subcode``/``hint``/``errors`` parsed from the body,
    ``request_id``, ``body`` (truncated, redacted text), ``headers`` (response
    headers) and ``attempts`` (how many times the request was sent).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        url: str | httpx.URL | None = None,
        operation: str | None = None,
        code: str | None = None,
        subcode: str | None = None,
        hint: str | None = None,
        errors: list[Any] | None = None,
        request_id: str | None = None,
        body: str | None = None,
        headers: Mapping[str, str] | None = None,
        attempts: int = 1,
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.url = redact_url(url)
        self.operation = operation
        self.message = _clip(redact_text(message), MESSAGE_LIMIT)
        self.code = code
        self.subcode = subcode
        self.hint = redact_text(hint) if hint is not None else None
        self.errors = _redact_deep(errors or [])
        self.request_id = request_id
        self.body = None if body is None else redact_text(body)
        self.headers = redact_response_headers(headers)
        self.attempts = attempts
        super().__init__(self._describe())

    def _describe(self) -> str:
        head = f"HTTP {self.status_code}"
        where = " ".join(p for p in (self.method, self.url) if p)
        if where:
            head += f" from {where}"
        if self.operation:
            head += f" (operation {self.operation})"
        text = f"{head}: {self.message}"
        extras = []
        if self.code is not None:
            extras.append(f"code={self.code}")
        if self.subcode is not None:
            extras.append(f"subcode={self.subcode}")
        if self.request_id is not None:
            extras.append(f"request_id={self.request_id}")
        if self.attempts > 1:
            extras.append(f"attempts={self.attempts}")
        if extras:
            text += " [" + ", ".join(extras) + "]"
        if self.hint:
            text += f" Hint: {self.hint}"
        return text


class BadRequestError(APIStatusError):
    """HTTP 400."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing, expired or invalid credentials."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429; ``retry_after`` is the server's requested delay in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class InternalServerError(APIStatusError):
    """HTTP 5xx."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _status_class(status_code: int) -> type[APIStatusError]:
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or HTTP date) into seconds >= 0."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def _as_str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


class _Parsed:
    __slots__ = ("code", "errors", "hint", "message", "request_id", "subcode")

    def __init__(self) -> None:
        self.message: str | None = None
        self.code: str | None = None
        self.subcode: str | None = None
        self.hint: str | None = None
        self.request_id: str | None = None
        self.errors: list[Any] = []


def _first_error_message(errors: list[Any]) -> str | None:
    for item in errors:
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            for key in ("message", "Error", "error", "description", "detail"):
                text = _as_str(item.get(key))
                if text:
                    return text
    return None


def _parse_json_body(data: Any, out: _Parsed) -> None:
    if isinstance(data, list):
        out.errors = data
        out.message = _first_error_message(data)
        return
    if not isinstance(data, dict):
        out.message = _as_str(data)
        return
    lowered = {str(k).lower(): v for k, v in data.items()}
    # Shape 1: {"ErrorCode": ..., "Error": ..., "Hint": ...}
    if "errorcode" in lowered or ("error" in lowered and isinstance(lowered["error"], str)):
        out.code = _as_str(lowered.get("errorcode"))
        out.message = _as_str(lowered.get("error"))
        out.hint = _as_str(lowered.get("hint"))
        # OAuth-style {"error": "invalid_client", "error_description": "..."}
        description = _as_str(lowered.get("error_description"))
        if description:
            if out.code is None:
                out.code = out.message
            out.message = description
    # Shapes 2/3: {"error": {"code", "message", "subcode"}} (optionally with "status": str)
    err = lowered.get("error")
    if isinstance(err, dict):
        out.code = _as_str(err.get("code"))
        out.message = _as_str(err.get("message")) or _as_str(err.get("description"))
        out.subcode = _as_str(err.get("subcode"))
        out.hint = _as_str(err.get("hint"))
        out.request_id = _as_str(err.get("errorId")) or _as_str(err.get("requestId"))
        if out.message is None:
            out.message = _as_str(lowered.get("status"))
    # Shape 4: {"status": {"code", "subcode", "message", "errorId"}, "errors": [...]}
    status = lowered.get("status")
    if isinstance(status, dict):
        out.code = _as_str(status.get("code"))
        out.subcode = _as_str(status.get("subcode"))
        out.message = _as_str(status.get("message"))
        out.request_id = _as_str(status.get("errorId"))
    errors = lowered.get("errors")
    if isinstance(errors, list):
        out.errors = errors
        if out.message is None:
            out.message = _first_error_message(errors)
    if out.message is None:
        for key in ("message", "detail", "title", "description"):
            text = _as_str(lowered.get(key))
            if text:
                out.message = text
                break
    if out.code is None:
        out.code = _as_str(lowered.get("code"))
    if out.message is None and isinstance(status, str):
        out.message = status


_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H1_RE = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)


def _html_text(fragment: str) -> str:
    return _WS_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", fragment))).strip()


def _parse_html(text: str) -> str | None:
    for pattern in (_TITLE_RE, _H1_RE):
        match = pattern.search(text)
        if match:
            found = _html_text(match.group(1))
            if found:
                return found
    stripped = _html_text(text)
    return stripped[:200] or None


def _looks_like_html(text: str, content_type: str) -> bool:
    if "html" in content_type:
        return True
    head = text.lstrip()[:100].lower()
    return head.startswith("<!doctype html") or head.startswith("<html")


def _parse_body(text: str, content_type: str) -> _Parsed:
    out = _Parsed()
    stripped = text.strip()
    if not stripped:
        return out
    if stripped[0] in "{[" or "json" in content_type:
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply
            pass
        else:
            _parse_json_body(data, out)
            return out
    if _looks_like_html(stripped, content_type):
        out.message = _parse_html(stripped)
        return out
    first_line = stripped.splitlines()[0].strip()
    out.message = first_line[:300]
    return out


def _decode(content: bytes, response: httpx.Response) -> str:
    encoding = response.charset_encoding or "utf-8"
    try:
        return content.decode(encoding, errors="replace")
    except (LookupError, ValueError):  # unknown codec, or one refusing errors="replace"
        return content.decode("utf-8", errors="replace")


def _request_info(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        request = response.request
    except RuntimeError:
        return None, None
    return request.method, str(request.url)


def _build(response: httpx.Response, content: bytes, operation: str | None) -> APIStatusError:
    status = response.status_code
    # Redacted before parsing: message, hint, errors... all derive from the masked text.
    text = redact_text(_decode(content, response))
    content_type = response.headers.get("content-type", "").lower()
    parsed = _parse_body(text, content_type)
    message = parsed.message or response.reason_phrase or f"HTTP {status}"
    request_id = next(
        (response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers),
        parsed.request_id,
    )
    body = text
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT] + f"... [truncated, {len(text)} chars]"
    attempts_raw = response.extensions.get("intralinks_attempts", 1)
    attempts = attempts_raw if isinstance(attempts_raw, int) and attempts_raw > 0 else 1
    method, url = _request_info(response)
    cls = _status_class(status)
    kwargs: dict[str, Any] = {
        "status_code": status,
        "method": method,
        "url": url,
        "operation": operation,
        "code": parsed.code,
        "subcode": parsed.subcode,
        "hint": parsed.hint,
        "errors": parsed.errors,
        "request_id": request_id,
        "body": body,
        "headers": response.headers,
        "attempts": attempts,
    }
    if cls is RateLimitError:
        return RateLimitError(
            message, retry_after=parse_retry_after(response.headers.get("retry-after")), **kwargs
        )
    return cls(message, **kwargs)


def make_status_error(response: httpx.Response, *, operation: str | None = None) -> APIStatusError:
    """Build the typed error for a (read) non-2xx ``response`` without raising it."""
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = b""
    return _build(response, content, operation)


def raise_for_status(response: httpx.Response, *, operation: str | None = None) -> None:
    """Raise the typed :class:`APIStatusError` for a non-2xx ``response`` (body already read)."""
    if 200 <= response.status_code < 300:
        return
    raise make_status_error(response, operation=operation)


async def araise_for_status(response: httpx.Response, *, operation: str | None = None) -> None:
    """Like :func:`raise_for_status` for a streamed response: reads at most a bounded prefix.

    A 2xx compressed stream is left unread, but it is decoded here, incrementally, in
    pieces of at most 256 KiB per coding (whatever the chain, ``gzip, gzip`` included, and
    whatever chunk sizes the transport delivers); ``aiter_raw`` and ``aiter_bytes`` then
    both give the decoded bytes. A 2xx in a coding the client cannot decode raises
    :class:`APIResponseValidationError` (its bytes are not the document's).
    """
    if 200 <= response.status_code < 300:
        _decode_incrementally(response, operation)
        return
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = await _read_error_prefix(response)
    raise _build(response, content, operation)


#: Raw chunk size of a compressed streamed response (see :func:`araise_for_status`).
ENCODED_CHUNK_LIMIT = 16 * 1024


class _DecodedStream(httpx.AsyncByteStream):
    """A compressed response stream, decoded in bounded pieces (see ``araise_for_status``)."""

    def __init__(self, stream: httpx.AsyncByteStream, content_encoding: str) -> None:
        from intralinks_async._response import BoundedDecoder

        self._stream = stream
        self._decoder = BoundedDecoder(content_encoding, 0)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        from intralinks_async._response import Undecodable

        try:
            async for chunk in self._stream:
                for start in range(0, len(chunk), ENCODED_CHUNK_LIMIT):
                    for piece in self._decoder.pieces(chunk[start : start + ENCODED_CHUNK_LIMIT]):
                        if piece:
                            yield piece
        except Undecodable as exc:
            raise httpx.DecodingError(f"the response body is not valid: {exc}") from None

    async def aclose(self) -> None:
        await self._stream.aclose()


def _decode_incrementally(response: httpx.Response, operation: str | None) -> None:
    from httpx._decoders import IdentityDecoder

    from intralinks_async._response import unknown_coding_message, unknown_codings

    encoding = ", ".join(response.headers.get_list("content-encoding"))
    unknown = unknown_codings(encoding)
    if unknown:
        raise APIResponseValidationError(
            unknown_coding_message(unknown), operation=operation, status_code=response.status_code
        )
    codings = {n.strip().lower() for n in encoding.split(",")} - {"", "identity"}
    if not codings or hasattr(response, "_content"):
        return
    stream = response.stream
    if isinstance(stream, httpx.AsyncByteStream) and not isinstance(stream, _DecodedStream):
        response.stream = _DecodedStream(stream, encoding)
        response._decoder = IdentityDecoder()  # decoded above: httpx must not decode again


async def _read_error_prefix(response: httpx.Response) -> bytes:
    """At most ``STREAM_READ_LIMIT`` decoded bytes of a streamed error body (never more in
    memory, whatever its compression), or what arrived before the connection failed."""
    from intralinks_async._response import BoundedDecoder, Overflow, Undecodable

    decoder = BoundedDecoder(response.headers.get("content-encoding"), STREAM_READ_LIMIT)
    raw = cast("AsyncGenerator[bytes, None]", response.aiter_raw())
    try:
        async for chunk in raw:
            decoder.feed(chunk)
    except (Overflow, Undecodable, httpx.HTTPError):
        pass
    finally:
        await raw.aclose()
    return decoder.result()[:STREAM_READ_LIMIT]
