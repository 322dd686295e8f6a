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
        "--retry-after",
        type=_retry_after,
        default=1,
        metavar="SECONDS|auto",
        help="Retry-After on 429s (rate limit and injected faults; default 1); auto: the "
        "rate limit sends the time until its next token",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="REQ_PER_S",
        help="token bucket in front of the API (not /oauth/*): 429 + Retry-After beyond it",
    )
    parser.add_argument(
        "--burst",
        type=float,
        default=None,
        help="token bucket size for --rate-limit (default: one second's worth)",
    )
    parser.add_argument(
        "--outage-for",
        type=float,
        default=None,
        metavar="SECONDS",
        help="fail API requests for this long (nothing is processed meanwhile)",
    )
    parser.add_argument(
        "--outage-after",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="start the outage this long after the first API request (default 0)",
    )
    parser.add_argument(
        "--outage-kind",
        choices=("503", "drop"),
        default="503",
        help="503: an HTML gateway page; drop: the connection is closed unanswered",
    )
    parser.add_argument(
        "--outage-retry-after",
        type=int,
        default=None,
        metavar="SECONDS",
        help="Retry-After on the outage's 503s (default: none)",
    )
    parser.add_argument(
        "--outage-operations",
        default=None,
        metavar="OP[,OP...]",
        help="limit the outage to these operationIds (default: all)",
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
        throttling = _throttling(args)
        app = create_app(
            clients=clients,
            token_ttl=args.token_ttl,
            ranges=not args.no_ranges,
            fault_rate=args.fault_rate,
            fault_seed=args.fault_seed,
            latency=args.latency,
            data_dir=args.data_dir,
            retry_after=1 if args.retry_after is None else args.retry_after,
            max_page_size=args.max_page_size,
            **throttling,
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


def _throttling(args: argparse.Namespace) -> dict[str, Any]:
    """``rate_limit`` / ``outage`` options of :func:`create_app` from the flags."""
    from ._throttle import Outage, RateLimit

    options: dict[str, Any] = {}
    if args.rate_limit is not None:
        options["rate_limit"] = RateLimit(args.rate_limit, args.burst, args.retry_after)
    elif args.burst is not None:
        raise ValueError("--burst needs --rate-limit")
    if args.outage_for is not None:
        ops = None
        if args.outage_operations:
            ops = frozenset(o.strip() for o in args.outage_operations.split(",") if o.strip())
        options["outage"] = Outage(
            args.outage_for, args.outage_kind, args.outage_after, ops, args.outage_retry_after
        )
    return options


def _retry_after(text: str) -> int | None:
    """``--retry-after``: whole seconds >= 0, or ``auto`` (``None``)."""
    if text == "auto":
        return None
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0 or 'auto'")
    return value
