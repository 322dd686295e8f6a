"""``intralinks-async verify LOCAL WORKSPACE``: prove a local tree and a workspace hold the same.

One line per file, marked as ``rclone check --combined`` does (``=`` same, ``-`` missing
remotely, ``+`` only remote, ``*`` differs, ``!`` error), then a summary; the exit status
is 1 on any difference.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import anyio.to_thread

from intralinks_async._cli._common import (
    add_credentials,
    add_output,
    make_client,
    print_json,
)
from intralinks_async._cli._transfer import display, managed
from intralinks_async.transfers.verify import VerifyReport, verify_tree

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Register ``verify``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="compare a local tree with a workspace: = same, - missing, + extra, * differs, ! error",
        description=(
            "Compare the files under LOCAL with the workspace's documents (under --folder, "
            "else the top folder named after LOCAL, else the whole workspace): names, sizes "
            "and the server's hashes; --download also hashes the stored bytes. Prints one "
            "line per file, then a summary; exits 1 on any difference."
        ),
    )
    parser.add_argument("local", type=Path, help="local directory")
    parser.add_argument("workspace", help="workspace id")
    parser.add_argument("--folder", help="the remote folder to compare LOCAL with")
    parser.add_argument(
        "--download", action="store_true", help="download and hash every stored document"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="documents compared at once (default 8)"
    )
    parser.add_argument("--html", type=Path, help="also write an HTML sign-off summary here")
    add_output(parser)
    add_credentials(parser)
    parser.set_defaults(handler=run)


def _line(entry: Any) -> str:
    line: str = entry.line()
    return f"{line}  ({entry.detail})" if entry.detail and entry.mark in "*!" else line


def show(args: argparse.Namespace, report: VerifyReport) -> None:
    """Print the entries and the summary, or the report as JSON."""
    if args.json:
        print_json(report.to_dict())
        return
    for entry in report.entries:
        print(_line(entry))
    print(report.summary())


async def run(args: argparse.Namespace) -> int:
    """Compare; exit status 0 only when both sides hold the same files."""
    async with make_client(args) as client:
        bars = display(args, client, "verify")
        with managed(bars):
            report = await verify_tree(
                client,
                args.local,
                args.workspace,
                folder_id=args.folder,
                download=args.download,
                progress=bars,
                concurrency=args.concurrency,
            )
    show(args, report)
    if args.html is not None:
        await anyio.to_thread.run_sync(report.write_html, args.html)
    return 0 if report.ok else 1
