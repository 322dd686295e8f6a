"""Progress of a distributed run, aggregated on the coordinator.

Workers send each shard's cumulative counters (bytes and files done, per attempt); a
shard that is run again after its worker died starts a new attempt, whose counters
replace the lost attempt's. When a shard's result arrives its provisional counters are
replaced by the final ones and one event per file is emitted. Memory stays bounded by
the shards in flight.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from intralinks_async.distributed._shards import FileResult
from intralinks_async.transfers.progress import ProgressCallback, ProgressKind, ProgressTracker

__all__ = ["ClusterProgress"]

_KIND: dict[str, ProgressKind] = {
    "succeeded": "finished",
    "adopted": "finished",
    "skipped": "skipped",
    "failed": "failed",
}


@dataclass(slots=True)
class _Live:
    attempt: str
    seq: int
    nbytes: int
    items: int


class ClusterProgress:
    """Turns worker messages and shard results into :class:`ProgressEvent` callbacks."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self.tracker = ProgressTracker(callback, items_total=0, bytes_total=0)
        self._live: dict[int, _Live] = {}
        self._finished: set[int] = set()

    def add_totals(self, *, items: int = 0, nbytes: int = 0) -> None:
        """Grow the overall totals."""
        self.tracker.add_totals(items=items, nbytes=nbytes)

    def on_event(self, event: Any) -> None:
        """Handler of the run's event topic: ``(timestamp, message)``."""
        try:
            _stamp, msg = event
            shard, attempt = int(msg["shard"]), str(msg["attempt"])
            seq, nbytes, items = int(msg["seq"]), int(msg["bytes"]), int(msg["items"])
        except (TypeError, ValueError, KeyError):
            return
        if shard in self._finished:
            return
        prev = self._live.get(shard)
        if prev is not None and prev.attempt == attempt and seq <= prev.seq:
            return
        base_bytes, base_items = (prev.nbytes, prev.items) if prev is not None else (0, 0)
        self._live[shard] = _Live(attempt, seq, nbytes, items)
        self._move(nbytes - base_bytes, items - base_items)

    def local(self, key: str, size: int | None, kind: ProgressKind) -> None:
        """A file settled on the coordinator (skipped from the journal, or refused)."""
        item = self.tracker.item(key, size)
        if kind == "skipped":
            item.skip()
        else:
            item.fail()

    def shard_done(self, shard: int, results: Iterable[FileResult]) -> None:
        """Replace the shard's provisional counters by its results (one event per file)."""
        self._finished.add(shard)
        prev = self._live.pop(shard, None)
        if prev is not None:
            self._move(-prev.nbytes, -prev.items)
        tracker = self.tracker
        for result in results:
            tracker.items_done += 1
            if result.outcome != "failed":
                tracker.bytes_done += result.size or 0
            tracker.emit(_KIND[result.outcome], result.key, result.size or 0, result.size)

    def _move(self, nbytes: int, items: int) -> None:
        if nbytes or items:
            self.tracker.bytes_done += nbytes
            self.tracker.items_done += items
            self.tracker.emit("advanced", "", 0, None)
