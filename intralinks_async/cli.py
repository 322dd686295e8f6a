"""The `intralinks-async` command: dispatches to the emulator and transfer subcommands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="intralinks-async", description="Intralinks data room tools."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    try:
        from intralinks_async.testing import _cli as emulator_cli
    except ImportError:  # emulator extra not installed
        pass
    else:
        emulator_cli.add_parser(subparsers)
    try:
        from intralinks_async.transfers import _cli as transfers_cli
    except ImportError:
        pass
    else:
        transfers_cli.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
