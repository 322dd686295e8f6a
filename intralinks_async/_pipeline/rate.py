"""Client-wide rate control: learn the rate the server sustains, pace every request to it.

One :class:`RateController` serves a client and all its ``with_options`` views. Modes:

* ``"adaptive"`` (default): no pacing at all until the server throttles (429, or 503 with
  ``Retry-After``); the cost per request is then a counter. On a throttle the controller
  takes the rate of *accepted* answers it measured over the last second as the ceiling it
  met (``W_max``), paces at ``beta * W_max`` and grows back along a CUBIC curve
  ``C * (t - K)**3 + W_max`` that plateaus near ``W_max`` and then probes above it. A
  first throttle seen before any full measurement window grows back by doubling per
  second instead (the ceiling estimate is unreliable). Only throttles of requests sent
  after the last reduction reduce again (one reduction per congestion epoch), so a burst
  of 429s from requests already in flight counts once; and once pacing, a reduction
  needs the recent throttles to be a real share of the answers (at least 3, and 5%, over
  about the last second), so
  that stray 429s unrelated to the rate cannot ratchet it down to nothing. With
  ``rate_limit`` set, that rate is a ceiling pacing starts at.
* ``"fixed"``: pace at ``rate_limit`` requests/s, never adapt (like rclone's ``--tpslimit``).
* ``"off"``: never pace (throttled requests are still retried after ``Retry-After``).

Pacing is a token bucket without burst: requests queue first come, first served, and
each takes the next send slot, ``1 / rate`` after the previous one at the rate current
then (jittered +-25% so that callers never fall into lockstep). Compared with botocore's adaptive mode, which measures its
own *send* rate: measuring what the server accepted gives the ceiling directly, one cut
per epoch avoids collapsing on a burst of in-flight 429s, and pacing switches itself off
again after a long quiet spell far below the learned rate.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import anyio

__all__ = ["RateController", "RateSnapshot"]

_WINDOW: Final = 0.5  # seconds per measurement window
_SMOOTH: Final = 0.8  # weight of the newest window
_BETA: Final = 0.8  # multiplicative decrease on a throttle
_CUBIC_C: Final = 0.4
_MIN_RATE: Final = 0.5  # requests/s: never paced slower than this
_QUIET: Final = 60.0  # seconds without throttle after which pacing may switch off
_JITTER: Final = 0.25
_EPOCH_THROTTLES: Final = 3  # while pacing, throttles an epoch needs before a reduction
_EPOCH_SHARE: Final = 0.05  # ... and their share of the epoch's answers


@dataclass(frozen=True, slots=True)
class RateSnapshot:
    """The rate controller's state at one moment.

    ``rate`` is the current paced rate (requests/s; None while unlimited), ``learned`` the
    ceiling learned from the last throttle (None before any), ``throttled`` the 429/503
    answers seen, ``requests`` the requests admitted, ``mode`` ``"adaptive"``, ``"fixed"``
    or ``"off"``, ``rate_limit`` the configured cap (None: none).
    """

    mode: str
    rate: float | None
    learned: float | None
    throttled: int
    requests: int
    rate_limit: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (rates rounded to 0.1 request/s)."""
        return {
            "mode": self.mode,
            "rate": None if self.rate is None else round(self.rate, 1),
            "learned": None if self.learned is None else round(self.learned, 1),
            "throttled": self.throttled,
            "requests": self.requests,
            "rate_limit": self.rate_limit,
        }


class RateController:
    """Paces the requests of one client (see the module docstring for the algorithm).

    ``rate_limit`` (requests/s) is a fixed cap; ``adaptive=False`` turns learning off
    (mode ``"fixed"`` with a cap, ``"off"`` without). ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        *,
        rate_limit: float | None = None,
        adaptive: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_limit is not None and not rate_limit > 0:
            raise ValueError("rate_limit must be > 0 requests/s (or None)")
        self.rate_limit = rate_limit
        self.adaptive = adaptive
        self.mode = "adaptive" if adaptive else ("fixed" if rate_limit is not None else "off")
        self.clock = clock
        #: Requests admitted, and 429/503 answers seen.
        self.requests = 0
        self.throttled = 0
        self.paced = rate_limit is not None
        self._rate = rate_limit if rate_limit is not None else math.inf
        self._interval = 0.0 if rate_limit is None else 1.0 / rate_limit
        self._tat = 0.0  # next free send slot
        # Measurement of accepted answers and of sends (per window, smoothed).
        self._win_start = -math.inf
        self._win_end = -math.inf
        self._ok = 0
        self._sent = 0
        self._ok_rate: float | None = None
        self._sent_rate: float | None = None
        # CUBIC state.
        self._w_max: float | None = None
        self._t_cut = 0.0
        self._k = 0.0
        self._doubling = False
        self._last_cut = -math.inf
        # Answers and throttles since the last cut, halved every window (~1 s memory).
        self._epoch_ok = 0.0
        self._epoch_throttled = 0.0
        self._waiters: deque[anyio.Event] = deque()
        self._saved: tuple[bool, float, float | None, float, float, bool] | None = None

    # -- hot path -------------------------------------------------------------------------

    def reserve(self, now: float) -> bool:
        """Admit one request: True to send it now, False to queue (:meth:`wait_turn`)."""
        self.requests += 1
        if not self.paced:
            return True
        if now >= self._win_end:
            self._roll(now)
        if self._waiters or self._tat > now:
            return False
        self._take(now)
        return True

    async def wait_turn(self, deadline: float | None) -> float:
        """Queue (first come, first served) for a send slot; return the send time.

        Slots are spaced at the rate current when each is taken, so a reduction applies
        to everyone queued at once. Raises ``TimeoutError`` when ``deadline`` (on
        ``clock``) would pass first.
        """
        turn = anyio.Event()
        waiters = self._waiters
        waiters.append(turn)
        try:
            if waiters[0] is not turn:
                with anyio.move_on_after(_remaining(self.clock(), deadline)):
                    await turn.wait()
                if not turn.is_set():
                    raise TimeoutError("the call's deadline came before its send slot")
            while True:
                now = self.clock()
                if not self.paced or self._tat <= now:
                    break
                if deadline is not None and self._tat > deadline:
                    raise TimeoutError("the call's deadline comes before its send slot")
                await anyio.sleep(self._tat - now)
            if self.paced:
                self._take(now)
            return now
        finally:
            if waiters and waiters[0] is turn:
                waiters.popleft()
                if waiters:
                    waiters[0].set()
            else:
                waiters.remove(turn)

    def _take(self, now: float) -> None:
        self._sent += 1
        start = self._tat if self._tat > now else now
        self._tat = start + self._interval * (1.0 - _JITTER + 2 * _JITTER * random.random())  # noqa: S311

    def on_answer(self, now: float) -> None:
        """An answer that was not a throttle (any status the server processed)."""
        self._ok += 1
        self._epoch_ok += 1
        if now >= self._win_end:
            self._roll(now)

    # -- learning -----------------------------------------------------------------------

    def on_throttle(self, sent_at: float, now: float) -> None:
        """A 429 (or 503 + Retry-After) answer to a request sent at ``sent_at``."""
        self.throttled += 1
        if not self.adaptive or sent_at <= self._last_cut:
            return  # not adapting, or this congestion epoch was already answered
        if self.paced and self._w_max is not None:
            self._epoch_throttled += 1
            throttled = self._epoch_throttled
            if throttled < _EPOCH_THROTTLES or throttled < _EPOCH_SHARE * (
                throttled + self._epoch_ok
            ):
                return  # stray throttles: not (yet) a sign the rate is too high
        if now >= self._win_end:
            self._roll(now)
        measured, reliable = self._accepted(now)
        ceiling = self._rate if self.paced else math.inf
        w_max = max(min(measured, ceiling), _MIN_RATE)
        self._w_max = w_max
        self._t_cut = self._last_cut = now
        self._epoch_ok = self._epoch_throttled = 0.0
        self._k = (w_max * (1.0 - _BETA) / _CUBIC_C) ** (1.0 / 3.0)
        self._doubling = not reliable
        if not self.paced:
            self.paced = True
            self._tat = now
            self._sent_rate = None
        self._set_rate(w_max * _BETA)

    def _accepted(self, now: float) -> tuple[float, bool]:
        """Accepted answers per second lately, and whether a full window backs it."""
        span = now - self._win_start
        if self._ok_rate is None:
            return self._ok / max(span, _WINDOW), False
        if span >= 0.2:
            return _SMOOTH * (self._ok / span) + (1 - _SMOOTH) * self._ok_rate, True
        return self._ok_rate, True

    def _roll(self, now: float) -> None:
        span = now - self._win_start
        if span <= 2 * _WINDOW:  # a gap longer than that restarts the measurement
            ok_rate = self._ok / span
            self._ok_rate = (
                ok_rate
                if self._ok_rate is None
                else _SMOOTH * ok_rate + (1 - _SMOOTH) * self._ok_rate
            )
            sent_rate = self._sent / span
            self._sent_rate = (
                sent_rate
                if self._sent_rate is None
                else _SMOOTH * sent_rate + (1 - _SMOOTH) * self._sent_rate
            )
        self._ok = self._sent = 0
        self._epoch_ok *= 0.5
        self._epoch_throttled *= 0.5
        self._win_start = now
        self._win_end = now + _WINDOW
        if self.paced and self.adaptive and self._w_max is not None:
            self._grow(now)

    def _grow(self, now: float) -> None:
        assert self._w_max is not None
        elapsed = now - self._t_cut
        if self._doubling:
            rate = self._w_max * _BETA * 2.0**elapsed
        else:
            rate = _CUBIC_C * (elapsed - self._k) ** 3 + self._w_max
        demand = self._sent_rate
        if demand is not None and not self._waiters:  # a queue: demand exceeds the rate
            if elapsed > _QUIET and self.rate_limit is None and rate > 4 * demand:
                self.paced = False  # long quiet, far below the learned rate: stop pacing
                self._rate = math.inf
                return
            rate = min(rate, max(2.0 * demand, 2 * _MIN_RATE))
        self._set_rate(rate)

    def _set_rate(self, rate: float) -> None:
        if self.rate_limit is not None:
            rate = min(rate, self.rate_limit)
        rate = max(rate, _MIN_RATE)
        self._rate = rate
        self._interval = 1.0 / rate

    # -- outages (the circuit calls these) ------------------------------------------------

    def outage_started(self) -> None:
        """Remember the learned state: an outage says nothing about the sustainable rate."""
        self._saved = (
            self.paced,
            self._rate,
            self._w_max,
            self.clock() - self._t_cut,
            self._k,
            self._doubling,
        )

    def outage_ended(self) -> None:
        """Restore the state remembered when the outage began."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        self.paced, rate, self._w_max, elapsed, self._k, self._doubling = saved
        now = self.clock()
        self._t_cut = now - elapsed
        self._last_cut = now
        self._tat = now
        if self.paced:
            self._set_rate(rate)
        else:
            self._rate = math.inf

    # -- state ------------------------------------------------------------------------------

    @property
    def rate(self) -> float | None:
        """The current paced rate (requests/s), None while unlimited."""
        return self._rate if self.paced else None

    def snapshot(self) -> RateSnapshot:
        """The current state (see :class:`RateSnapshot`)."""
        return RateSnapshot(
            mode=self.mode,
            rate=self.rate,
            learned=self._w_max,
            throttled=self.throttled,
            requests=self.requests,
            rate_limit=self.rate_limit,
        )

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:.1f}/s"
        return f"RateController(mode={self.mode!r}, rate={rate}, throttled={self.throttled})"


def _remaining(now: float, deadline: float | None) -> float:
    return math.inf if deadline is None else max(deadline - now, 0.0)
