"""Stage helpers: classify a failed attempt and turn it into the SDK's typed error.

Transport frames hold request bodies and headers (token forms, bearer tokens) in their
locals, which error reporters print: the raised error keeps the cause's type and message,
not its frames, and drops the cause entirely when its text would expose a secret.
"""

from __future__ import annotations

import httpx

from intralinks_async._logging import redact_text
from intralinks_async._pipeline.body import IterableStream
from intralinks_async._retry import fatal_connect_error, never_sent
from intralinks_async.errors import APIConnectionError, APITimeoutError

__all__ = ["body_started", "connection_error", "raise_connection_error"]


def body_started(request: httpx.Request, exc: BaseException) -> bool:
    """Whether the request body may have begun to leave this process before ``exc``."""
    if never_sent(exc):
        return False
    stream = request.stream
    if isinstance(stream, IterableStream):
        return stream.started
    return True  # bytes: handed to the connection together with the headers


def connection_error(
    exc: httpx.TransportError,
    request: httpx.Request,
    operation: str,
    attempts: int,
    *,
    outcome_unknown: bool = False,
) -> APIConnectionError:
    """The typed error for a transport failure of ``request``."""
    detail = str(exc) or type(exc).__name__
    message = f"{type(exc).__name__}: {detail}" if detail != type(exc).__name__ else detail
    if fatal_connect_error(exc):
        message += " (not retried: no retry can fix it)"
    if isinstance(exc, httpx.TimeoutException):
        error: APIConnectionError = APITimeoutError(
            message, operation=operation, method=request.method, url=request.url, attempts=attempts
        )
        error.outcome_unknown = outcome_unknown
        return error
    if outcome_unknown:
        message += (
            " (the request may or may not have taken effect: the connection broke after "
            "its body began to leave)"
        )
    return APIConnectionError(
        message,
        operation=operation,
        method=request.method,
        url=request.url,
        attempts=attempts,
        outcome_unknown=outcome_unknown,
    )


def _chain_leaks(exc: BaseException) -> bool:
    """Whether the text of ``exc`` or anything it was raised from carries a secret."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if redact_text(text) != text or "bearer " in text.lower():
            return True
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return False


def _drop_frames(exc: BaseException) -> None:
    """Detach the tracebacks of ``exc`` and everything it was raised from."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


def raise_connection_error(error: APIConnectionError, exc: httpx.TransportError) -> None:
    """Raise ``error`` from ``exc`` without leaking secrets or transport frames."""
    if _chain_leaks(exc):
        raise error from None
    _drop_frames(exc)
    raise error from exc
