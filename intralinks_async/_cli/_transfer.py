"""What ``upload`` and ``download`` share: options, the progress display, the summary."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import anyio.to_thread

from intralinks_async._cli._common import PROG, print_json, rate_control_state, wants_ui
from intralinks_async.transfers.report import TransferReport

__all__ = [
    "add_tree_options",
    "display",
    "managed",
    "manifest_path",
    "show_reports",
    "write_html",
]


def add_tree_options(parser: argparse.ArgumentParser) -> None:
    """``--journal``, ``--concurrency``, ``--manifest``, ``--html`` and ``--dry-run``."""
    parser.add_argument("--journal", type=Path, help="SQLite journal making the run resumable")
    parser.add_argument("--concurrency", type=int, default=16, help="files in flight (default 16)")
    parser.add_argument(
        "--manifest",
        type=Path,
        help="append one JSON Lines record per item here (paths, ids, size, SHA-256, result)",
    )
    parser.add_argument(
        "--html",
        type=Path,
        help="write an HTML sign-off summary of the run here (from the manifest)",
    )
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


@contextmanager
def manifest_path(args: argparse.Namespace) -> Iterator[Path | None]:
    """The manifest to write: ``--manifest``, else a temporary one when ``--html`` asks."""
    if args.manifest is not None or args.html is None:
        yield args.manifest
        return
    with tempfile.TemporaryDirectory(prefix="intralinks-manifest-") as tmp:
        yield Path(tmp) / "manifest.jsonl"


async def write_html(
    args: argparse.Namespace, report: TransferReport, manifest: Path | None, **about: str
) -> None:
    """Write ``--html`` (if asked): the report's figures and the manifest's records."""
    if args.html is None or manifest is None or not manifest.exists():
        return
    from intralinks_async.transfers.manifest import read_manifest, write_html_summary

    figures = report.to_dict()
    summary = {**about, **{k: v for k, v in figures.items() if not isinstance(v, list | dict)}}

    def write() -> None:
        write_html_summary(
            args.html,
            title=f"intralinks-async {report.operation}",
            summary=summary,
            records=read_manifest(manifest),
        )

    await anyio.to_thread.run_sync(write)


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
