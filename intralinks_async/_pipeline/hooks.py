"""The per-attempt hook: one :class:`AttemptRecord` per attempt, for tracing and metrics.

``IntralinksClient(on_attempt=[callback, ...])``: each callback is a plain function called
synchronously after every attempt (keep it quick; exceptions it raises are logged and
ignored). With no callback registered no record is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from intralinks_async._logging import logger

__all__ = ["AttemptHook", "AttemptRecord", "emit"]


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """What one attempt did.

    ``operation`` (operationId), ``method``, ``url`` (secrets masked), ``attempt``
    (1-based), ``status`` (None when no answer came), ``exception`` (the transport
    failure, if any), ``elapsed`` (seconds from sending to the answer, body read
    included unless streaming), ``throttled`` (a 429, or a 503 with Retry-After) and
    ``retry_in`` (seconds until the next attempt; None when this was the last).
    """

    operation: str
    method: str
    url: str
    attempt: int
    status: int | None
    exception: BaseException | None
    elapsed: float
    throttled: bool
    retry_in: float | None


AttemptHook = Callable[[AttemptRecord], None]


def emit(hooks: list[AttemptHook], record: AttemptRecord) -> None:
    """Call every hook with ``record``; a failing hook is logged, never raised."""
    for hook in hooks:
        try:
            hook(record)
        except Exception:  # a metrics hook must not break the request
            logger.exception("on_attempt hook %r failed", hook)
