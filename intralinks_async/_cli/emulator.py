"""``intralinks-async emulator``: serve the local emulator (needs the ``emulator`` extra).

The options are defined by :mod:`intralinks_async.testing._cli`, imported only when the
command runs, so that the command exists (and names its extra) without starlette.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Register ``emulator``; its own options are parsed when it runs."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="run a local Intralinks emulator server (client demo / demo-secret)",
        add_help=False,
        usage="%(prog)s [--host H] [--port N] [--data-dir D] [options] (--help for all)",
    )
    parser.set_defaults(handler=run, passthrough=True)


def run(args: argparse.Namespace) -> int:
    """Parse the emulator's options and serve it until stopped."""
    from intralinks_async.testing import _cli as emulator_cli  # needs the emulator extra

    parser = argparse.ArgumentParser(prog="intralinks-async")
    emulator_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    inner = parser.parse_args(["emulator", *args.rest])
    status: int = inner.handler(inner)
    return status
