"""A wall clock that tests can move forward (token expiry without sleeping)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock seconds plus an offset that :meth:`advance` increases."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Current emulator time, in seconds since the epoch."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward by ``seconds``."""
        self.offset += seconds

    def iso(self) -> str:
        """Current emulator time as an RFC 3339 ``date-time`` string (UTC, ms precision)."""
        moment = datetime.fromtimestamp(self.now(), tz=UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
