"""Rich progress bars and summary tables (the ``cli`` extra; imported only when drawing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from intralinks_async.transfers.progress import ProgressEvent
from intralinks_async.transfers.report import TransferReport

__all__ = [
    "ProgressBars",
    "console",
    "failures_table",
    "rate_text",
    "report_table",
]


def console(*, stderr: bool = False) -> Console:
    """A console on stdout (results) or stderr (progress)."""
    return Console(stderr=stderr)


def rate_text(state: Mapping[str, Any] | None) -> str:
    """One line about rate control: pace, mode, throttled answers (empty without state)."""
    if not state:
        return ""
    rate = state.get("rate")
    pace = "unlimited" if rate is None else f"{float(rate):,.1f} req/s"
    learned = state.get("learned")
    mode = str(state.get("mode", "?"))
    if learned is not None:
        mode += f", learned {float(learned):,.1f} req/s"
    return (
        f"rate {pace} ({mode}), "
        f"{int(state.get('throttled', 0)):,} throttled of {int(state.get('requests', 0)):,}"
    )


def _short(label: str, width: int = 40) -> str:
    return label if len(label) <= width else "…" + label[-(width - 1) :]


class ProgressBars:
    """A progress callback drawing an overall bar plus one bar per large active transfer.

    ``status`` (optional) returns a line shown under the overall bar, refreshed with
    every event (the client's rate control, for example).
    """

    def __init__(
        self,
        out: Console,
        title: str,
        *,
        status: Callable[[], str] | None = None,
        max_active: int = 6,
    ) -> None:
        self.title = title
        self.max_active = max_active
        self._status = status
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=30),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=out,
            transient=True,
            refresh_per_second=8,
        )
        self._overall: TaskID = self._progress.add_task(title, total=None)
        self._status_task: TaskID | None = None
        if status is not None:
            self._status_task = self._progress.add_task("", total=None, visible=False)
        self._active: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressBars:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def _update_status(self) -> None:
        if self._status is None or self._status_task is None:
            return
        text = self._status()
        self._progress.update(self._status_task, description=f"  {text}", visible=bool(text))

    def __call__(self, event: ProgressEvent) -> None:
        """Update the bars from one event."""
        items = f"{event.items_done}/{event.items_total if event.items_total is not None else '?'}"
        self._progress.update(
            self._overall,
            description=f"{self.title} {items} files",
            total=event.bytes_total or None,
            completed=event.bytes_done,
        )
        self._update_status()
        if not event.item:
            return
        task = self._active.get(event.item)
        if event.kind in ("finished", "failed", "skipped"):
            if task is not None:
                self._progress.remove_task(task)
                del self._active[event.item]
            return
        if task is None:
            # Only bars for transfers big enough to be worth watching.
            if len(self._active) >= self.max_active or (event.item_size or 0) < 4 * 1024 * 1024:
                return
            task = self._progress.add_task(f"  {_short(event.item)}", total=event.item_size)
            self._active[event.item] = task
        self._progress.update(task, completed=event.item_bytes, total=event.item_size)


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f}"


def report_table(reports: Iterable[TransferReport], *, title: str = "Summary") -> Table:
    """A table with one row per report: files, bytes, elapsed, MB/s, retries, failures."""
    table = Table(title=title)
    for column in ("step", "files", "skipped", "MB", "elapsed s", "MB/s", "retries", "failures"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for r in reports:
        table.add_row(
            r.operation,
            str(r.succeeded + r.adopted),
            str(r.skipped),
            _mb(r.bytes_transferred),
            f"{r.elapsed:.2f}",
            _mb(r.throughput),
            str(r.retries),
            str(r.failed),
            style="red" if r.failures else None,
        )
    return table


def failures_table(reports: Iterable[TransferReport], limit: int = 20) -> Table | None:
    """A table of (at most ``limit``) failures, or None when there are none."""
    rows = [(r.operation, f.path, f.message) for r in reports for f in r.failures]
    if not rows:
        return None
    table = Table(title=f"Failures ({len(rows)})")
    table.add_column("step")
    table.add_column("path")
    table.add_column("error")
    for row in rows[:limit]:
        table.add_row(*row)
    return table


def print_reports(reports: list[TransferReport], *, title: str = "Summary") -> None:
    """Print the summary table, then the failures table when something failed."""
    out = console()
    out.print(report_table(reports, title=title))
    table = failures_table(reports)
    if table is not None:
        out.print(table)
