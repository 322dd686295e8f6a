"""What ``upload`` and ``download`` share: options, the progress display, the summary."""

from __future__ import annotations

import argparse
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from intralinks_async._cli._common import PROG, print_json, rate_control_state, wants_ui
from intralinks_async.transfers.report import TransferReport

__all__ = ["add_tree_options", "display", "managed", "show_reports"]


def add_tree_options(parser: argparse.ArgumentParser) -> None:
    """``--journal``, ``--concurrency`` and ``--dry-run``."""
    parser.add_argument("--journal", type=Path, help="SQLite journal making the run resumable")
    parser.add_argument("--concurrency", type=int, default=16, help="files in flight (default 16)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print what a tree transfer would do, and change nothing",
    )


def display(args: argparse.Namespace, client: Any, title: str) -> Any:
    """Progress bars for ``client``'s transfer (with its rate control), or None when quiet.

    Imports rich up front, so that a missing ``cli`` extra is reported before any work.
    """
    if not wants_ui(args):
        return None
    from intralinks_async._cli import _ui

    def status() -> str:
        return _ui.rate_text(rate_control_state(client))

    return _ui.ProgressBars(_ui.console(stderr=True), title, status=status)


def managed(bars: Any) -> AbstractContextManager[Any]:
    """``bars`` as a context manager (a no-op one for None)."""
    return bars if bars is not None else nullcontext()


def show_reports(
    args: argparse.Namespace,
    reports: list[TransferReport],
    rate_control: dict[str, Any] | None = None,
) -> None:
    """Print the reports as JSON, or the plan, tables and notes (nothing with ``-q``)."""
    if args.json:
        print_json({r.operation: r.to_dict() for r in reports})
        return
    for report in reports:
        if report.dry_run:
            for line in report.planned:
                print(line)
            print(f"dry run: {len(report.planned)} actions planned, nothing was sent")
        if report.aborted:
            print(f"{PROG}: {report.operation} stopped early: {report.aborted}", file=sys.stderr)
    if args.quiet:
        return
    from intralinks_async._cli import _ui

    _ui.print_reports(reports)
    state = rate_control or next((r.rate_control for r in reports if r.rate_control), None)
    line = _ui.rate_text(state)
    if line:
        print(line)
