"""``intralinks-async emulator``: serve the emulator with uvicorn."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register the ``emulator`` subcommand on the top-level parser's ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator",
        help="run a local Intralinks emulator server",
        description="Serve a spec-faithful local Intralinks API (client demo / demo-secret).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="where document content is stored (default: a temporary directory)",
    )
    parser.add_argument(
        "--token-ttl", type=float, default=3600, help="access token lifetime, seconds"
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of API requests answered with a fault (0..1)",
    )
    parser.add_argument(
        "--fault-seed", type=int, default=None, help="seed for deterministic faults"
    )
    parser.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After seconds on injected 429s"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every API request"
    )
    parser.add_argument(
        "--max-page-size",
        type=int,
        default=None,
        help="cap listWorkspaces' limit silently, as real APIs do (default: no cap)",
    )
    parser.add_argument(
        "--no-ranges", action="store_true", help="ignore Range headers on downloads"
    )
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET",
        help="accepted OAuth client (repeatable; default demo:demo-secret)",
    )
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow binding a non-loopback address"
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build the app from ``args`` and serve it until interrupted."""
    from ._app import create_app
    from ._server import is_loopback, serve

    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"refusing to bind non-loopback address {args.host!r}: the emulator has no real "
            "security; pass --allow-remote to do it anyway",
            file=sys.stderr,
        )
        return 2
    clients = None
    if args.client:
        clients = {}
        for item in args.client:
            client_id, sep, secret = item.partition(":")
            if not sep or not client_id:
                print(f"--client expects ID:SECRET, got {client_id!r}...", file=sys.stderr)
                return 2
            clients[client_id] = secret
    if not 0.0 <= args.fault_rate <= 1.0:
        print("--fault-rate must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        app = create_app(
            clients=clients,
            token_ttl=args.token_ttl,
            ranges=not args.no_ranges,
            fault_rate=args.fault_rate,
            fault_seed=args.fault_seed,
            latency=args.latency,
            data_dir=args.data_dir,
            retry_after=args.retry_after,
            max_page_size=args.max_page_size,
        )
    except ValueError as exc:
        print(f"invalid option: {exc}", file=sys.stderr)
        return 2
    print(
        f"Intralinks emulator on http://{args.host}:{args.port} (Ctrl-C to stop)", file=sys.stderr
    )
    try:
        serve(app, args.host, args.port, log_level=args.log_level)
    finally:
        app.state.emulator.close()  # content files are useless without the in-memory state
    return 0
