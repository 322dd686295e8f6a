"""Retry policy: which failures are retried, and how long to wait between attempts.

Rules (the client's pipeline applies them; it is their only owner):

* 429 and 503 answers are retried for every method, POST included, whenever the body can
  be sent again (bytes, or a body factory): the server said it did not process the request.
  Waits after a 429 (throttling) do not use up ``max_retries``; only ``total_timeout``
  bounds them;
* other retryable statuses (408, 500, 502, 504) and timeouts after the request was sent are
  retried for idempotent methods only;
* a connection that could not be established (the request never left) is retried for every
  method; a connection that broke after the body began to leave is retried for idempotent
  methods, while a non-idempotent request raises
  ``APIConnectionError(outcome_unknown=True)`` (it may or may not have taken effect);
* name-resolution and TLS certificate-verification failures are raised at once: no retry
  can fix them;
* a request whose body is a one-shot async iterable is never re-sent once it started;
* waits grow exponentially with jitter up to a cap; ``Retry-After`` (seconds or an HTTP
  date) is honoured up to ``retry_after_cap``; all attempts share one overall deadline.
"""

from __future__ import annotations

import random
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from intralinks_async.errors import parse_retry_after

__all__ = [
    "IDEMPOTENT_METHODS",
    "NOT_PROCESSED_STATUSES",
    "RETRY_STATUSES",
    "RetryPolicy",
    "fatal_connect_error",
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
#: Statuses by which the server says it did not process the request (retried for any method).
NOT_PROCESSED_STATUSES: frozenset[int] = frozenset({429, 503})


def never_sent(exc: BaseException) -> bool:
    """True when ``exc`` proves the request never reached the server."""
    return isinstance(exc, _NEVER_SENT)


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen) and len(seen) < 16:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def fatal_connect_error(exc: BaseException) -> bool:
    """True for failures no retry can fix: name resolution, TLS certificate verification.

    Recognised in the cause chain: ``socket.gaierror`` (both transports),
    ``ssl.SSLCertVerificationError``, and aiohttp's DNS / certificate connector errors.
    """
    for cause in _causes(exc):
        if isinstance(cause, socket.gaierror | ssl.SSLCertVerificationError):
            return True
        name = type(cause).__name__
        if name in ("ClientConnectorDNSError", "ClientConnectorCertificateError"):
            return True
        inner = getattr(cause, "os_error", None) or getattr(cause, "certificate_error", None)
        if isinstance(inner, socket.gaierror | ssl.SSLCertVerificationError):
            return True
    return False


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
    streamed body (an upload, which may rightly take longer), bounded by those timeouts.
    ``non_idempotent_statuses`` are the statuses retried for non-idempotent methods too
    (default ``{429, 503}``: the server did not process the request). A 429 retry does not
    count against ``max_retries``: sustained throttling slows a call down, and only
    ``total_timeout`` ends it.
    """

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    jitter: float = 0.5
    retry_after_cap: float = 60.0
    total_timeout: float | None = 300.0
    retry_statuses: frozenset[int] = RETRY_STATUSES
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS
    non_idempotent_statuses: frozenset[int] = NOT_PROCESSED_STATUSES

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
            return not fatal_connect_error(exc)
        return replayable and method in self.idempotent_methods
