"""Outage circuit: after consecutive failures across the client, requests wait instead of
each retrying on its own.

Closed (normal): one attribute test per request. After ``threshold`` consecutive failed
attempts (5xx answers, connection failures, timeouts) with no success in between, made by
more than one call, the circuit opens: new attempts wait on it, and one of them at a time is let through as a
probe, at growing intervals (``probe_interval`` x ``probe_factor`` per failed probe, up
to ``probe_cap``). The first success closes the circuit and releases every waiter; a blip
of a few seconds is ridden out with no failed call. When the outage has lasted
``patience`` seconds, waiting calls raise :class:`~intralinks_async.errors.ServiceUnavailableError`
saying since when, and so do later calls, except probes. An operation that has not
failed during the outage is let through as a probe without waiting for the schedule
(the failing part may be a single operation); after the patience, a failed probe raises
the same error at once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

import anyio

from intralinks_async.errors import ServiceUnavailableError

__all__ = ["Circuit"]

_NEVER: Final = math.inf


class Circuit:
    """One client's outage circuit (shared by its ``with_options`` views)."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        patience: float = 300.0,
        probe_interval: float = 0.5,
        probe_factor: float = 1.5,
        probe_cap: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        on_open: Callable[[], None] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        if threshold < 1:
            raise ValueError("the outage threshold must be >= 1")
        if not patience > 0:
            raise ValueError("outage patience must be > 0 seconds")
        self.threshold = threshold
        self.patience = patience
        self.probe_interval = probe_interval
        self.probe_factor = probe_factor
        self.probe_cap = probe_cap
        self.clock = clock
        self._on_open = on_open
        self._on_close = on_close
        #: True while the circuit is open (requests wait on it).
        self.open = False
        self.failures = 0  # consecutive failed attempts
        self.opened = 0  # times the circuit opened (diagnostics)
        self.probes = 0  # probes let through
        self._since_wall = 0.0  # time.time() of the first failure of the run
        self._since = 0.0  # the same on self.clock
        self._interval = probe_interval
        self._next_probe = _NEVER
        self._probing = False
        self._changed: anyio.Event | None = None
        self._failed_ops: set[str] = set()  # operations that failed during this run
        self._first_caller = 0  # the call behind the run's first failure
        self._callers = 0  # distinct calls behind the run (1, or 2 meaning "several")

    # -- outcomes (hot path: one test when closed) -------------------------------------------

    def success(self, probe: bool = False) -> None:
        """An attempt got an answer the service processed (2xx-4xx, 429)."""
        if probe:
            self._probing = False
        if self.failures:
            self.failures = 0
            if self.open:
                self._close()

    def failure(self, probe: bool = False, operation: str | None = None, caller: int = 0) -> None:
        """An attempt failed like an outage would make it fail (5xx, connection failure).

        ``caller`` identifies the call: one call failing alone is its own retry budget's
        business, so the circuit opens only when the run spans several calls.
        """
        now = self.clock()
        if not self.failures:
            self._since = now
            self._since_wall = time.time()
            self._failed_ops.clear()
            self._first_caller = caller
            self._callers = 1
        elif caller != self._first_caller:
            self._callers = 2
        self.failures += 1
        if operation is not None and len(self._failed_ops) < 256:
            self._failed_ops.add(operation)
        if probe:
            self._probing = False
            self._interval = min(self._interval * self.probe_factor, self.probe_cap)
            self._next_probe = now + self._interval
            self._notify()
        elif not self.open and self.failures >= self.threshold and self._callers > 1:
            self._open(now)

    def exhausted(self) -> bool:
        """Whether the circuit is open and the outage has outlasted the patience."""
        return self.open and self.clock() >= self._since + self.patience

    def unavailable(self, operation: str) -> ServiceUnavailableError:
        """The error for a call that met the outage after the patience ran out."""
        return self._error(operation, True)

    def probe_abandoned(self) -> None:
        """A probe ended without an outcome (cancelled): let another one through."""
        self._probing = False
        self._notify()

    # -- waiting ----------------------------------------------------------------------------

    async def wait(self, operation: str, deadline: float | None) -> bool:
        """Wait while the circuit is open; True when the caller is to send the probe.

        Raises :class:`ServiceUnavailableError` once the outage outlasted the patience,
        or when the call's own ``deadline`` (on ``clock``) comes first.
        """
        while self.open:
            now = self.clock()
            give_up = self._since + self.patience
            exhausted = now >= give_up
            # An operation that has not failed in this outage probes as soon as no other
            # probe is in flight: the failing part may be one operation, and this may work.
            fresh = operation not in self._failed_ops
            if not self._probing and (fresh or now >= self._next_probe):
                self._probing = True
                self.probes += 1
                return True
            if exhausted or (deadline is not None and now >= deadline):
                raise self._error(operation, exhausted)
            wake = give_up if self._probing else min(self._next_probe, give_up)
            if deadline is not None:
                wake = min(wake, deadline)
            event = self._changed
            if event is None:
                event = self._changed = anyio.Event()
            with anyio.move_on_after(max(wake - now, 0.0)):
                await event.wait()
        return False

    def _error(self, operation: str, exhausted: bool) -> ServiceUnavailableError:
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self._since_wall))
        lasted = self.clock() - self._since
        reason = (
            f"outage patience of {self.patience:g}s exhausted"
            if exhausted
            else "the call's deadline came first"
        )
        return ServiceUnavailableError(
            f"the service has been unavailable since {since} ({lasted:.1f}s, "
            f"{self.failures} consecutive failures; {reason})",
            operation=operation,
            since=self._since_wall,
        )

    # -- transitions ----------------------------------------------------------------------

    def _open(self, now: float) -> None:
        self.open = True
        self.opened += 1
        self._interval = self.probe_interval
        self._next_probe = now + self._interval
        if self._on_open is not None:
            self._on_open()

    def _close(self) -> None:
        self.open = False
        self._probing = False
        self._next_probe = _NEVER
        self._interval = self.probe_interval
        self._notify()
        if self._on_close is not None:
            self._on_close()

    def _notify(self) -> None:
        event, self._changed = self._changed, None
        if event is not None:
            event.set()

    def __repr__(self) -> str:
        state = "open" if self.open else "closed"
        return f"Circuit({state}, failures={self.failures}, patience={self.patience:g}s)"
