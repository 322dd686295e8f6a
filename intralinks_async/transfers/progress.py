"""Progress events for transfers.

A transfer reports through a plain callback, ``progress(event)``, called on the event
loop with a :class:`ProgressEvent` that carries both the item's own counters and the
overall ones (bytes and items done and total). The CLI turns them into rich bars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ItemProgress", "ProgressCallback", "ProgressEvent", "ProgressKind", "ProgressTracker"]

ProgressKind = Literal["started", "advanced", "finished", "failed", "skipped", "totals"]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """A progress update.

    ``item`` is the item's label (a relative path or document name; empty for
    ``totals`` events); ``item_bytes``/``item_size`` its bytes done and size (None if
    unknown); ``bytes_done``/``bytes_total`` and ``items_done``/``items_total`` the
    overall counters (totals None while unknown).
    """

    kind: ProgressKind
    item: str
    item_bytes: int
    item_size: int | None
    bytes_done: int
    bytes_total: int | None
    items_done: int
    items_total: int | None


ProgressCallback = Callable[[ProgressEvent], None]


class ProgressTracker:
    """Aggregate per-item progress into overall counters and emit events."""

    def __init__(
        self,
        callback: ProgressCallback | None,
        *,
        items_total: int | None = None,
        bytes_total: int | None = None,
    ) -> None:
        self._callback = callback
        self.items_total = items_total
        self.bytes_total = bytes_total
        self.bytes_done = 0
        self.items_done = 0

    def emit(self, kind: ProgressKind, item: str, item_bytes: int, item_size: int | None) -> None:
        """Send one event to the callback (if any)."""
        if self._callback is not None:
            self._callback(
                ProgressEvent(
                    kind,
                    item,
                    item_bytes,
                    item_size,
                    self.bytes_done,
                    self.bytes_total,
                    self.items_done,
                    self.items_total,
                )
            )

    def add_totals(self, *, items: int = 0, nbytes: int = 0) -> None:
        """Grow the overall totals (for transfers that discover work as they go)."""
        self.items_total = (self.items_total or 0) + items
        self.bytes_total = (self.bytes_total or 0) + nbytes
        self.emit("totals", "", 0, None)

    def item(self, label: str, size: int | None) -> ItemProgress:
        """Start tracking one item."""
        return ItemProgress(self, label, size)


class ItemProgress:
    """Progress of one item; obtained from :meth:`ProgressTracker.item`."""

    def __init__(self, tracker: ProgressTracker, label: str, size: int | None) -> None:
        self._tracker = tracker
        self.label = label
        self.size = size
        self.done = 0
        self._closed = False

    def start(self) -> None:
        """Announce that the item's transfer begins."""
        self._tracker.emit("started", self.label, self.done, self.size)

    def set_size(self, size: int) -> None:
        """Record the item's size once learnt."""
        self.size = size

    def advance(self, nbytes: int) -> None:
        """Count ``nbytes`` more bytes transferred."""
        if nbytes:
            self.done += nbytes
            self._tracker.bytes_done += nbytes
            self._tracker.emit("advanced", self.label, self.done, self.size)

    def rewind(self) -> None:
        """Forget the bytes counted so far (the item is being sent again)."""
        self._tracker.bytes_done -= self.done
        self.done = 0
        self._tracker.emit("advanced", self.label, 0, self.size)

    def _close(self, kind: ProgressKind) -> None:
        if self._closed:
            return
        self._closed = True
        self._tracker.items_done += 1
        self._tracker.emit(kind, self.label, self.done, self.size)

    def finish(self) -> None:
        """The item completed."""
        self._close("finished")

    def fail(self) -> None:
        """The item failed."""
        self._close("failed")

    def skip(self) -> None:
        """The item needed no transfer (already present or already done)."""
        if self.size:
            # Count skipped bytes so that the overall bar reaches its total.
            self._tracker.bytes_done += self.size - self.done
            self.done = self.size
        self._close("skipped")
