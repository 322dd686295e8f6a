"""The ``intralinks-async`` command: a dispatcher over one module per subcommand.

Every subcommand is always registered; one that needs an optional extra imports it
only when run, and says which extra to install when it is missing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from intralinks_async._cli import (
    demo,
    download,
    emulator,
    ls,
    mkdir,
    upload,
    verify,
    workspace,
)
from intralinks_async._cli._common import PROG, run_handler
from intralinks_async._version import __version__

__all__ = ["build_parser", "main"]

_COMMANDS = (emulator, workspace, mkdir, upload, download, verify, ls, demo)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Intralinks data room tools: migrations, verification and a local emulator.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "passthrough", False):
        parser.error("unrecognized arguments: " + " ".join(rest))
    args.rest = rest
    return run_handler(args)
