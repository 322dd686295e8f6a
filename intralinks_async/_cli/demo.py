"""``intralinks-async demo``: a generated data room to a throttled emulator and back.

Needs the ``emulator`` extra (and ``cli`` unless ``--json`` or ``-q``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from intralinks_async._cli._common import add_output, print_json, rate_control_state, wants_ui
from intralinks_async._cli._demo_run import DemoResult, run_demo

__all__ = ["DEFAULT_RATE_LIMIT", "register"]

#: The demo's emulator throttles like a tenant: beyond this many requests/s it answers 429.
DEFAULT_RATE_LIMIT = 100.0


def register(subparsers: Any) -> None:
    """Register ``demo``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="migrate a generated data room to a local emulator and back, verified",
        description=(
            "Start a throttled, faulty emulator on loopback, generate a sample data room, "
            "upload it, mirror it back, verify every SHA-256 and print a summary with the "
            "request rate the client learned."
        ),
    )
    parser.add_argument("--files", type=int, default=300, help="number of files (default 300)")
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.05,
        help="share of requests the emulator fails, to show retries (default 0.05)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=DEFAULT_RATE_LIMIT,
        help="requests/s the emulator allows before answering 429 "
        f"(default {DEFAULT_RATE_LIMIT:g}; 0: unthrottled)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="files in flight (default 16)")
    parser.add_argument("--seed", type=int, default=2026, help="data and fault seed")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    add_output(parser)
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    """Run the demo; exit status 1 unless every file came back identical, once."""
    from intralinks_async.testing import create_app  # noqa: F401 (the extra, before any work)

    ui = _Display(args) if wants_ui(args) else None
    try:
        result = await run_demo(
            files=args.files,
            fault_rate=args.fault_rate,
            rate_limit=args.rate_limit or None,
            concurrency=args.concurrency,
            seed=args.seed,
            keep=args.keep,
            upload_progress=ui.upload if ui else None,
            download_progress=ui.download if ui else None,
            on_client=ui.bind if ui else None,
        )
    finally:
        if ui is not None:
            ui.close()
    if args.json:
        print_json(result.to_dict())
    elif ui is not None:
        ui.summary(result)
    return 0 if result.ok else 1


class _Display:
    """The upload bars, then the download bars (one live display at a time)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from intralinks_async._cli import _ui

        self._ui = _ui
        self._client: Any = None
        err = _ui.console(stderr=True)
        err.print(
            f"[bold]intralinks-async demo[/]: {args.files} files, fault rate "
            f"{args.fault_rate:.0%}, rate limit "
            f"{f'{args.rate_limit:g} req/s' if args.rate_limit else 'none'}, "
            f"concurrency {args.concurrency}"
        )
        self._bars = {
            step: _ui.ProgressBars(err, step, status=self._status)
            for step in ("upload  ", "download")
        }
        self._live: Any = None
        self.upload = self._feeder("upload  ")
        self.download = self._feeder("download")

    def bind(self, client: Any) -> None:
        """Remember the client whose rate control the bars show."""
        self._client = client

    def _status(self) -> str:
        return self._ui.rate_text(rate_control_state(self._client))

    def _feeder(self, step: str) -> Callable[[Any], None]:
        bars = self._bars[step]

        def feed(event: Any) -> None:
            if self._live is not bars:
                self.close()
                bars.__enter__()
                self._live = bars
            bars(event)

        return feed

    def close(self) -> None:
        """Stop the live display, if any."""
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def summary(self, result: DemoResult) -> None:
        """The migration table, the verification table, failures and problems."""
        from rich.table import Table

        ui = self._ui
        out = ui.console()
        out.print(ui.report_table([result.upload, result.download], title="Migration"))
        table = Table(title="Verification", show_header=False)
        table.add_column("check")
        table.add_column("result")
        table.add_row("files generated", f"{result.files} ({result.bytes / 1e6:,.1f} MB)")
        table.add_row("SHA-256 identical", f"{result.identical}/{result.files}")
        table.add_row("documents on server", f"{result.server_documents} (expected {result.files})")
        table.add_row("retries", str(result.upload.retries + result.download.retries))
        table.add_row("failures", str(result.upload.failed + result.download.failed))
        limit = "none" if result.rate_limit is None else f"{result.rate_limit:g} req/s"
        table.add_row("emulator rate limit", limit)
        server = result.server
        table.add_row(
            "emulator answered",
            f"{server.get('total_requests', '?')} requests, "
            f"{server.get('throttled', '?')} over the rate limit (429)",
        )
        table.add_row("duplicates on server", str(len(server.get("duplicates", []))))
        table.add_row("rate the client learned", ui.rate_text(result.rate_control) or "n/a")
        table.add_row("total elapsed", f"{result.elapsed:.1f} s")
        table.add_row("result", "[green]OK[/]" if result.ok else "[red]FAILED[/]")
        out.print(table)
        failures = ui.failures_table([result.upload, result.download])
        if failures is not None:
            out.print(failures)
        for problem in result.problems[:20]:
            out.print(f"[red]{problem}[/]", markup=True, highlight=False)
        if result.workdir and Path(result.workdir).exists():
            out.print(f"kept working directory: {result.workdir}")
