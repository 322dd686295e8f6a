"""Front-door throttling: a token-bucket rate limit (429) and an outage switch (503 / drop).

Pure Python (no web framework), so the option objects can be built without the
``emulator`` extra. Both apply to API requests only, never to ``/oauth/*``: a token
request is rare, and a throttled token endpoint would blur "slow down" with "your
credentials failed". Time comes from ``clock`` (``time.monotonic`` by default), which
tests can replace to step time without sleeping.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Clock = Callable[[], float]

OUTAGE_KINDS = ("503", "drop")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``rate`` requests/s sustained, ``burst`` at once.

    ``burst`` defaults to one second's worth (``max(1, rate)``). ``retry_after`` is the
    ``Retry-After`` value (whole seconds) of a 429; ``None`` sends the time until the
    bucket next holds a token, rounded up (at least 1).
    """

    rate: float
    burst: float | None = None
    retry_after: int | None = 1

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError("rate_limit rate must be a finite number of requests/s > 0")
        if self.burst is not None and not (self.burst >= 1 and math.isfinite(self.burst)):
            raise ValueError("rate_limit burst must be a finite number >= 1")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("rate_limit retry_after must be None or >= 0 seconds")

    @property
    def capacity(self) -> float:
        """The bucket's size (``burst`` or its default)."""
        return self.burst if self.burst is not None else max(1.0, self.rate)

    @classmethod
    def coerce(cls, value: RateLimit | float | None) -> RateLimit | None:
        """A :class:`RateLimit` from itself, a number of requests/s, or ``None``."""
        if value is None or isinstance(value, RateLimit):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("rate_limit must be a number of requests/s or a RateLimit")
        return cls(rate=float(value))


class RateLimiter:
    """The live bucket. ``admitted`` / ``throttled`` count API requests let in / refused."""

    def __init__(self, limit: RateLimit | None = None, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.admitted = 0
        self.throttled = 0
        self.limit: RateLimit | None = None
        self._tokens = 0.0
        self._stamp = 0.0
        self.configure(limit)

    def configure(self, limit: RateLimit | float | None) -> None:
        """Change (or remove, with ``None``) the limit at runtime; the bucket starts full."""
        self.limit = RateLimit.coerce(limit)
        self._stamp = self.clock()
        self._tokens = self.limit.capacity if self.limit is not None else 0.0

    def acquire(self) -> int | None:
        """Take a token: ``None`` if the request may go on, else the ``Retry-After`` seconds."""
        limit = self.limit
        if limit is None:
            self.admitted += 1
            return None
        now = self.clock()
        capacity = limit.capacity
        elapsed = max(0.0, now - self._stamp)  # a clock swapped in by a test may start at 0
        tokens = min(capacity, self._tokens + elapsed * limit.rate)
        self._stamp = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            self.admitted += 1
            return None
        self._tokens = tokens
        self.throttled += 1
        if limit.retry_after is not None:
            return limit.retry_after
        return max(1, math.ceil((1.0 - tokens) / limit.rate))


@dataclass(frozen=True, slots=True)
class Outage:
    """A window during which API requests fail without being processed.

    It starts ``after`` seconds after the first API request the emulator serves (so
    start-up time does not eat into it) and lasts ``duration`` seconds. ``kind`` is
    ``"503"`` (an HTML gateway page, with ``Retry-After`` if ``retry_after`` is set) or
    ``"drop"`` (the connection is closed without an answer). ``operations`` limits it to
    those operationIds (default: every API operation).
    """

    duration: float
    kind: str = "503"
    after: float = 0.0
    operations: frozenset[str] | None = None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if not (self.duration > 0 and math.isfinite(self.duration)):
            raise ValueError("outage duration must be a finite number of seconds > 0")
        if not (self.after >= 0 and math.isfinite(self.after)):
            raise ValueError("outage after must be a finite number of seconds >= 0")
        if self.kind not in OUTAGE_KINDS:
            raise ValueError(f"outage kind must be one of {OUTAGE_KINDS}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("outage retry_after must be None or >= 0 seconds")
        if self.operations is not None and not isinstance(self.operations, frozenset):
            object.__setattr__(self, "operations", frozenset(self.operations))


@dataclass(slots=True)
class _Window:
    outage: Outage
    start: float | None  # None: starts at the first API request (+ outage.after)


class OutageSwitch:
    """Scheduled outage windows. ``served[kind]`` counts requests failed by an outage."""

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self.served: Counter[str] = Counter()
        self._windows: list[_Window] = []
        self._first_request: float | None = None

    def schedule(self, outage: Outage, *, now: bool = False) -> None:
        """Add ``outage``: from now + ``after`` if ``now``, else from the first API request."""
        start = self.clock() + outage.after if now else None
        if start is None and self._first_request is not None:
            start = self._first_request + outage.after
        self._windows.append(_Window(outage, start))

    def clear(self) -> None:
        """End every outage, running or scheduled."""
        self._windows.clear()

    def active(self, operation: str | None = None) -> Outage | None:
        """The outage covering a request of ``operation`` right now, if any."""
        if not self._windows:
            return None
        now = self.clock()
        for window in self._windows:
            start = window.start
            if start is None or now < start or now >= start + window.outage.duration:
                continue
            ops = window.outage.operations
            if operations_match(ops, operation):
                return window.outage
        return None

    def check(self, operation: str) -> Outage | None:
        """Called once per API request: starts pending windows, returns the active outage."""
        if self._first_request is None:
            self._first_request = self.clock()
            for window in self._windows:
                if window.start is None:
                    window.start = self._first_request + window.outage.after
        if not self._windows:
            return None
        outage = self.active(operation)
        if outage is not None:
            self.served[outage.kind] += 1
        return outage


def operations_match(ops: Iterable[str] | None, operation: str | None) -> bool:
    """True when ``ops`` is unrestricted or names ``operation``."""
    return ops is None or (operation is not None and operation in ops)
