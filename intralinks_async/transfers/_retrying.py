"""Which failures a transfer retries by itself, and how long it waits."""

from __future__ import annotations

import random

import anyio
import httpx

from intralinks_async.errors import APIConnectionError, InternalServerError, RateLimitError
from intralinks_async.transfers.errors import TransferError

__all__ = ["ShortReadError", "backoff", "is_retryable"]

_MAX_SLEEP = 2.0
_MAX_RETRY_AFTER = 30.0


class ShortReadError(TransferError):
    """A response ended before the requested bytes were complete (retryable)."""


def is_retryable(exc: BaseException) -> bool:
    """Connection drops, short reads, timeouts, 429 and 5xx: worth another attempt."""
    return isinstance(
        exc,
        httpx.TransportError
        | APIConnectionError
        | InternalServerError
        | RateLimitError
        | ShortReadError,
    )


async def backoff(attempt: int, exc: BaseException | None = None) -> None:
    """Sleep before retry number ``attempt`` (1-based): jittered exponential, or Retry-After."""
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(exc, RateLimitError) and isinstance(retry_after, int | float):
        await anyio.sleep(min(float(retry_after), _MAX_RETRY_AFTER))
        return
    delay = min(_MAX_SLEEP, 0.05 * 2 ** (attempt - 1))
    await anyio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311 (jitter)
