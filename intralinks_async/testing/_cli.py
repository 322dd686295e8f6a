"""``intralinks-async emulator``: serve the emulator with uvicorn.

Also runnable alone: ``python -m intralinks_async.testing._cli [options]``. The port is
bound before anything is printed (a port in use is one line on stderr and exit status
1; a missing extra, one line and exit status 2); SIGINT and SIGTERM stop the server within about a second (requests still running
are cancelled), remove a temporary data directory and exit 0 without a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any

EXTRA_HINT = "pip install 'intralinks-async[emulator]'"
OPTIONAL_MODULES = ("starlette", "uvicorn", "multipart", "python_multipart", "httptools")
DESCRIPTION = "Serve a spec-faithful local Intralinks API (client demo / demo-secret)."


def add_parser(subparsers: Any) -> None:
    """Register the ``emulator`` subcommand on the top-level parser's ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulator", help="run a local Intralinks emulator server", description=DESCRIPTION
    )
    add_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The emulator's options (``--port``, ``--data-dir``, rate limit, outage, ...)."""
    _add_server_arguments(parser)
    _add_behaviour_arguments(parser.add_argument_group("behaviour"))
    _add_throttling_arguments(parser.add_argument_group("throttling and outages"))
    parser.set_defaults(handler=run)


def _add_server_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    add("--port", type=int, default=8765, help="port (default 8765; 0: any free)")
    add("--data-dir", default=None,
        help="where the data room is kept across restarts (default: a temporary directory, "
        "removed on exit)")  # fmt: skip
    add("--client", action="append", default=[], metavar="ID:SECRET",
        help="accepted OAuth client (repeatable; default demo:demo-secret)")  # fmt: skip
    add("--allow-remote", action="store_true", help="allow binding a non-loopback address")
    add("--log-level", default="info", help="uvicorn log level")


def _add_behaviour_arguments(group: argparse._ArgumentGroup) -> None:
    add = group.add_argument
    add("--token-ttl", type=float, default=3600, help="access token lifetime, seconds")
    add("--fault-rate", type=float, default=0.0,
        help="share of API requests answered with a fault (0..1)")  # fmt: skip
    add("--fault-seed", type=int, default=None, help="seed for deterministic faults")
    add("--latency", type=float, default=0.0, help="seconds added to every API request")
    add("--max-page-size", type=int, default=None,
        help="cap listWorkspaces' limit silently, as real APIs do (default: no cap)")  # fmt: skip
    add("--no-ranges", action="store_true", help="ignore Range headers on downloads")


def _add_throttling_arguments(group: argparse._ArgumentGroup) -> None:
    add = group.add_argument
    add("--retry-after", type=_retry_after, default=1, metavar="SECONDS|auto",
        help="Retry-After on 429s (rate limit and injected faults; default 1); auto: the "
        "rate limit sends the time until its next token")  # fmt: skip
    add("--rate-limit", type=float, default=None, metavar="REQ_PER_S",
        help="token bucket in front of the API (not /oauth/*): 429 + Retry-After beyond it")  # fmt: skip
    add("--burst", type=float, default=None,
        help="token bucket size for --rate-limit (default: one second's worth)")  # fmt: skip
    add("--outage-for", type=float, default=None, metavar="SECONDS",
        help="fail API requests for this long (nothing is processed meanwhile)")  # fmt: skip
    add("--outage-after", type=float, default=0.0, metavar="SECONDS",
        help="start the outage this long after the first API request (default 0)")  # fmt: skip
    add("--outage-kind", choices=("503", "drop"), default="503",
        help="503: an HTML gateway page; drop: the connection is closed unanswered")  # fmt: skip
    add("--outage-retry-after", type=int, default=None, metavar="SECONDS",
        help="Retry-After on the outage's 503s (default: none)")  # fmt: skip
    add("--outage-operations", default=None, metavar="OP[,OP...]",
        help="limit the outage to these operationIds (default: all)")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator command on its own (``python -m intralinks_async.testing._cli``)."""
    parser = argparse.ArgumentParser(prog="intralinks-async emulator", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in OPTIONAL_MODULES:
            raise
        print(f"{parser.prog}: error: this command needs the emulator extra: {EXTRA_HINT}",
              file=sys.stderr)  # fmt: skip
        return 2


def run(args: argparse.Namespace) -> int:
    """Build the app from ``args`` and serve it until SIGINT / SIGTERM; the exit status."""
    with _stop_quietly():
        # Without the extra this raises ModuleNotFoundError: the top-level command turns it
        # into its one-line hint, main() below into the same line.
        from ._server import is_loopback

        options = _options(args, is_loopback)
        if isinstance(options, str):
            print(options, file=sys.stderr)
            return 2
        app = _build(args, options)
        if app is None:
            return 2
        try:
            return _serve(args, app)
        finally:
            app.state.emulator.close()  # a temporary data dir is removed, a given one saved
    return 0


def _build(args: argparse.Namespace, options: dict[str, Any]) -> Any:
    """The app, or ``None`` once the reason it cannot be built is printed."""
    from ._app import create_app
    from ._persist import DataDirError

    try:
        return create_app(**options)
    except DataDirError as exc:  # locked by another emulator, or unreadable state
        print(f"cannot use --data-dir: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"cannot use --data-dir {args.data_dir}: {exc.strerror or exc}", file=sys.stderr)
    except ValueError as exc:
        print(f"invalid option: {exc}", file=sys.stderr)
    return None


def _serve(args: argparse.Namespace, app: Any) -> int:
    """Bind, print the banner, serve until stopped; 1 if the port cannot be had."""
    from ._server import bind_socket, serve

    try:
        sock = bind_socket(args.host, args.port)
        sock.listen(4096)  # connectable as soon as the banner is out
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(f"cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    with sock:
        port = sock.getsockname()[1]
        shown = f"[{args.host}]" if ":" in args.host else args.host
        where = app.state.emulator.store.root
        kept = f"data kept in {where}" if args.data_dir else f"temporary data in {where}"
        print(f"Intralinks emulator on http://{shown}:{port} ({kept}; Ctrl-C to stop)",
              file=sys.stderr, flush=True)  # fmt: skip
        serve(app, args.host, port, log_level=args.log_level, sock=sock)
    return 0


class _Stop(Exception):
    """SIGTERM before (or after) the server's own handlers are in place."""


@contextlib.contextmanager
def _stop_quietly() -> Iterator[None]:
    """Turn SIGTERM into an exception, and it or Ctrl-C into a quiet exit (with cleanup)."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise _Stop()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _options(args: argparse.Namespace, is_loopback: Any) -> dict[str, Any] | str:
    """``create_app`` keyword arguments from ``args``, or the error message."""
    if not is_loopback(args.host) and not args.allow_remote:
        return (
            f"refusing to bind non-loopback address {args.host!r}: the emulator has no real "
            "security; pass --allow-remote to do it anyway"
        )
    clients = None
    if args.client:
        clients = {}
        for item in args.client:
            client_id, sep, secret = item.partition(":")
            if not sep or not client_id:
                return f"--client expects ID:SECRET, got {client_id!r}..."
            clients[client_id] = secret
    if not 0.0 <= args.fault_rate <= 1.0:
        return "--fault-rate must be between 0 and 1"
    try:
        throttling = _throttling(args)
    except ValueError as exc:
        return f"invalid option: {exc}"
    return {
        "clients": clients,
        "token_ttl": args.token_ttl,
        "ranges": not args.no_ranges,
        "fault_rate": args.fault_rate,
        "fault_seed": args.fault_seed,
        "latency": args.latency,
        "data_dir": args.data_dir,
        "retry_after": 1 if args.retry_after is None else args.retry_after,
        "max_page_size": args.max_page_size,
        **throttling,
    }


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


if __name__ == "__main__":
    sys.exit(main())
