"""What every command shares: credential options, the client, output modes, error lines.

Credentials and the base URL come from flags or the environment (``INTRALINKS_BASE_URL``,
``INTRALINKS_CLIENT_ID``, ``INTRALINKS_CLIENT_SECRET``, ``INTRALINKS_ACCESS_TOKEN``);
prefer the environment for secrets, since flags are visible in the process list.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from typing import Any

import anyio

from intralinks_async._client import DEFAULT_BASE_URL, IntralinksClient
from intralinks_async.errors import IntralinksError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CommandError",
    "MissingExtraError",
    "add_credentials",
    "add_output",
    "make_client",
    "print_json",
    "rate_control_state",
    "run_handler",
    "wants_ui",
]

PROG = "intralinks-async"
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: The environment variable read when a credential flag is absent.
ENVIRONMENT = {
    "base_url": "INTRALINKS_BASE_URL",
    "client_id": "INTRALINKS_CLIENT_ID",
    "client_secret": "INTRALINKS_CLIENT_SECRET",
    "access_token": "INTRALINKS_ACCESS_TOKEN",
}

# The top-level modules each optional extra brings (a missing one names its extra).
_EXTRA_MODULES = {
    "starlette": "emulator",
    "uvicorn": "emulator",
    "multipart": "emulator",
    "python_multipart": "emulator",
    "httptools": "emulator",
    "rich": "cli",
    "dask": "distributed",
    "distributed": "distributed",
}


class CommandError(Exception):
    """A problem the user can fix (arguments, credentials): one line, exit status 2."""


class MissingExtraError(CommandError):
    """The command needs an optional extra that is not installed."""

    def __init__(self, extra: str) -> None:
        super().__init__(
            f"this command needs the {extra} extra: pip install 'intralinks-async[{extra}]'"
        )
        self.extra = extra


def add_credentials(parser: argparse.ArgumentParser) -> None:
    """Add ``--base-url``, ``--client-id``, ``--client-secret`` and ``--access-token``."""
    group = parser.add_argument_group("credentials (flags or environment)")
    group.add_argument(
        "--base-url", help=f"API base URL (env INTRALINKS_BASE_URL; default {DEFAULT_BASE_URL})"
    )
    group.add_argument("--client-id", help="OAuth client id (env INTRALINKS_CLIENT_ID)")
    group.add_argument(
        "--client-secret",
        help="OAuth client secret (env INTRALINKS_CLIENT_SECRET; prefer the environment)",
    )
    group.add_argument(
        "--access-token",
        help="a bearer token instead of client credentials (env INTRALINKS_ACCESS_TOKEN)",
    )


def add_output(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` and ``-q/--quiet`` (neither needs the ``cli`` extra)."""
    parser.add_argument("--json", action="store_true", help="print a JSON result on stdout")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress display or tables")


def wants_ui(args: argparse.Namespace) -> bool:
    """True when the command should draw progress and tables (needs the ``cli`` extra)."""
    return not (getattr(args, "quiet", False) or getattr(args, "json", False))


def _setting(args: argparse.Namespace, key: str) -> str | None:
    value = getattr(args, key, None) or os.environ.get(ENVIRONMENT[key])
    return value or None


def make_client(args: argparse.Namespace, **options: Any) -> IntralinksClient:
    """An ``IntralinksClient`` from the credential flags, else the environment."""
    base_url = _setting(args, "base_url") or DEFAULT_BASE_URL
    token = _setting(args, "access_token")
    if token:
        return IntralinksClient(base_url, access_token=token, **options)
    client_id, secret = _setting(args, "client_id"), _setting(args, "client_secret")
    if not (client_id and secret):
        raise CommandError(
            "credentials needed: --client-id and --client-secret (or INTRALINKS_CLIENT_ID and "
            "INTRALINKS_CLIENT_SECRET), or --access-token (INTRALINKS_ACCESS_TOKEN)"
        )
    return IntralinksClient(base_url, client_id=client_id, client_secret=secret, **options)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    print(json.dumps(value, ensure_ascii=False, indent=2))


def rate_control_state(client: Any) -> dict[str, Any] | None:
    """The client's rate-control snapshot as a dict, or None when it has none."""
    control = getattr(client, "rate_control", None)
    if control is None:
        return None
    state: dict[str, Any] = control.snapshot().to_dict()
    return state


# -- running a handler -------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _error(message: str) -> None:
    print(f"{PROG}: {_one_line(message)}", file=sys.stderr)


def _leaf(exc: BaseException) -> BaseException:
    """The first error inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _missing_extra(exc: BaseException | None) -> str | None:
    """The extra whose module is missing, following the chain of causes."""
    while exc is not None:
        if isinstance(exc, ImportError):
            extra = _EXTRA_MODULES.get((exc.name or "").partition(".")[0])
            if extra is not None:
                return extra
        exc = exc.__cause__
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _detach_stdout() -> None:
    """Point stdout at the null device so that the interpreter's final flush stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _call(args: argparse.Namespace) -> int:
    handler = args.handler
    if inspect.iscoroutinefunction(handler):
        result: int = anyio.run(handler, args)
    else:
        result = handler(args)
    return result


def run_handler(args: argparse.Namespace) -> int:
    """Run ``args.handler`` (sync or async); turn every expected failure into one line."""
    try:
        return _call(args)
    except KeyboardInterrupt:
        hint = (
            " (rerun with the same --journal to resume)" if getattr(args, "journal", None) else ""
        )
        print(f"interrupted{hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException as raised:
        exc = _leaf(raised)
        if isinstance(exc, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if isinstance(exc, ImportError):
            extra = _missing_extra(exc)
            if extra is None:
                raise
            exc = MissingExtraError(extra)
        if isinstance(exc, BrokenPipeError):  # the reader went away (``| head``)
            _detach_stdout()
            return EXIT_FAILED
        if isinstance(exc, CommandError):
            _error(f"error: {exc}")
            return EXIT_USAGE
        if isinstance(exc, IntralinksError | OSError | ValueError):
            _error(_describe(exc))
            return EXIT_FAILED
        raise
