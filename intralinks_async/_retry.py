"""Retry policy: which failures are retried, and how long to wait between attempts.

Rules (see DESIGN.md, "Retries"):

* statuses 408, 429, 500, 502, 503, 504 and transport errors (connection failures,
  timeouts, dropped connections) are retried;
* only idempotent methods are retried by default; a non-idempotent request (POST) is
  retried only when it provably never reached the server (the connection could not be
  established), because a POST whose response was lost may already have taken effect
  (an upload would be duplicated);
* a request whose body is a one-shot async iterable is never re-sent;
* waits grow exponentially with jitter up to a cap; ``Retry-After`` (seconds or an HTTP
  date) is honoured up to ``retry_after_cap``; all attempts share one overall deadline.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from intralinks_async.errors import parse_retry_after

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "RetryPolicy",
    "never_sent",
    "parse_retry_after",
]

#: Statuses that are retried by default.
RETRY_STATUSES: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})
#: Methods that may be re-sent after the server could have seen them.
IDEMPOTENT_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

# Transport failures that happen before any byte of the request left this process.
_NEVER_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
_NOT_RETRYABLE: tuple[type[Exception], ...] = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


def never_sent(exc: BaseException) -> bool:
    """True when ``exc`` proves the request never reached the server."""
    return isinstance(exc, _NEVER_SENT)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries failed requests.

    ``max_retries`` counts re-sends (so a request is sent at most ``max_retries + 1``
    times). The n-th retry waits ``min(backoff_cap, backoff_base * 2**(n-1))`` reduced by
    a random share of up to ``jitter`` (0 = no jitter, 1 = "full jitter"), unless the
    response carries ``Retry-After``, which wins up to ``retry_after_cap`` seconds (plus
    at most ``10% * jitter`` so that many clients told the same delay do not return at once).
    ``total_timeout`` bounds all attempts and waits together (None = no deadline); a wait
    that would cross it is not taken, and an attempt whose per-request timeouts would let
    it stall past it is cut off there with ``APITimeoutError`` -- except one sending a
    streamed body (an upload, which may rightly take longer), bounded by those timeouts. ``non_idempotent_statuses`` opts non-idempotent
    methods into status retries (e.g. ``{429}`` when the server guarantees a
    rate-limited request was not processed); it is empty by default.
    """

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    jitter: float = 0.5
    retry_after_cap: float = 60.0
    total_timeout: float | None = 300.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS
    non_idempotent_statuses: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_base < 0 or self.backoff_cap < 0 or self.retry_after_cap < 0:
            raise ValueError("backoff_base, backoff_cap and retry_after_cap must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be within [0, 1]")
        if self.total_timeout is not None and self.total_timeout <= 0:
            raise ValueError("total_timeout must be > 0 or None")

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry number ``retry_number`` (1-based), jitter applied."""
        exp = min(self.backoff_cap, self.backoff_base * 2.0 ** max(0, retry_number - 1))
        if self.jitter:
            exp *= 1.0 - self.jitter * random.random()  # noqa: S311 (jitter, not crypto)
        return exp

    def delay(self, retry_number: int, headers: Mapping[str, str] | None = None) -> float:
        """Wait before ``retry_number``: ``Retry-After`` (capped) if present, else backoff."""
        if headers is not None:
            retry_after = parse_retry_after(headers.get("retry-after"))
            if retry_after is not None:
                wait = min(retry_after, self.retry_after_cap)
                if self.jitter and wait:
                    # Never earlier than asked, but spread out: N clients told "1" must
                    # not all come back in the same millisecond and be rate-limited again.
                    wait *= 1.0 + 0.1 * self.jitter * random.random()  # noqa: S311
                return wait
        return self.backoff(retry_number)

    def retry_status(self, method: str, status_code: int, *, replayable: bool = True) -> bool:
        """Whether a response with ``status_code`` to ``method`` may be retried."""
        if not replayable or status_code not in self.retry_statuses:
            return False
        return method in self.idempotent_methods or status_code in self.non_idempotent_statuses

    def retry_error(self, method: str, exc: BaseException, *, replayable: bool = True) -> bool:
        """Whether a transport failure ``exc`` of a ``method`` request may be retried."""
        if isinstance(exc, _NOT_RETRYABLE) or not isinstance(exc, httpx.TransportError):
            return False
        if never_sent(exc):
            return True
        return replayable and method in self.idempotent_methods
