"""Serving an emulator app with uvicorn: blocking (CLI) or in a background thread (tests)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import uvicorn

from ._faults import EmulatedDisconnect
from ._throttle import Outage, RateLimit


class _HideInjectedDrops(logging.Filter):
    """Uvicorn logs an app exception with a traceback; injected drops are expected, and a
    request cancelled at shutdown (still running after the grace period) is one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop injected-drop records; shorten shutdown cancellations."""
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, EmulatedDisconnect):
            return False
        if isinstance(exc, asyncio.CancelledError):
            record.msg = "a request still running at shutdown was cancelled"
            record.args = ()
            record.exc_info = None
            record.exc_text = None
        return True


_FILTER = _HideInjectedDrops()

GRACEFUL_SHUTDOWN_SECONDS = 1


def install_log_filter() -> None:
    """Keep injected connection drops out of uvicorn's error log (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _config(app: Any, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        backlog=4096,
        # On shutdown, requests still running after this are cancelled (an upload in
        # flight is aborted and its temp file removed) instead of being waited for forever.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


class _QuietServer(uvicorn.Server):
    """Stops on SIGINT / SIGTERM (a second one forces it) and returns normally.

    Stock uvicorn re-raises the signal once it has shut down, which prints a
    ``KeyboardInterrupt`` traceback or kills the process before its clean-up runs.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install the stop handlers while serving (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            if self.should_exit:
                self.force_exit = True
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``OSError`` if the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto is TCP (proto 0 here would mean ~40 ms Nagle/delayed-ACK stalls per request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if hasattr(socket, "SO_REUSEADDR") and not hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            # POSIX: allows TIME_WAIT leftovers, never a port another socket listens on.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def serve(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    log_level: str = "info",
    sock: socket.socket | None = None,
) -> None:
    """Serve ``app`` until SIGINT / SIGTERM (on ``sock`` if given, already bound)."""
    install_log_filter()
    server = _QuietServer(_config(app, host, port, log_level))
    if sock is None:
        server.run()
    else:
        server.run(sockets=[sock])


@contextlib.contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yields the base URL.

    ``port=0`` picks a free port. The server stops (and the thread is joined) when the
    ``with`` block exits.
    """
    install_log_filter()
    sock = bind_socket(host, port)
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, host, bound_port, log_level))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"intralinks-emulator:{bound_port}", daemon=True)
    thread.start()
    try:
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError("emulator server failed to start") from (
                    failure[0] if failure else None
                )
            threading.Event().wait(0.01)
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def serve_in_subprocess(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_level: str = "warning",
    startup_timeout: float = 30.0,
    allow_remote: bool = False,
    **options: Any,
) -> Iterator[str]:
    """Run ``intralinks-async emulator`` in a child process; yields the base URL.

    For benchmarks (the server does not share the caller's GIL). ``options`` are
    :func:`create_app` keyword arguments (``token_ttl``, ``ranges``, ``fault_rate``,
    ``fault_seed``, ``retry_after``, ``latency``, ``data_dir``, ``clients``,
    ``max_page_size``, ``rate_limit``, ``outage``). The child's state is read and steered
    over HTTP: ``GET <base_url>/_emulator/stats``, ``POST <base_url>/_emulator/outage``.
    """
    import subprocess

    if port == 0:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = int(probe.getsockname()[1])
    cmd = _subprocess_argv(host, port, log_level, allow_remote, options)
    # Our own interpreter and flags only; values are passed as separate argv items.
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)  # noqa: S603
    try:
        _wait_listening(proc, host, port, startup_timeout)
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{port}"
    finally:
        proc.terminate()  # SIGTERM: a clean stop (temporary data removed, a data dir saved)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_FLAGS = {"token_ttl": "--token-ttl", "fault_rate": "--fault-rate", "fault_seed": "--fault-seed",
          "retry_after": "--retry-after", "latency": "--latency", "data_dir": "--data-dir",
          "max_page_size": "--max-page-size"}  # fmt: skip


def _subprocess_argv(
    host: str, port: int, log_level: str, allow_remote: bool, options: dict[str, Any]
) -> list[str]:
    """The emulator command line for :func:`create_app` ``options``."""
    import sys

    cmd = [sys.executable, "-m", "intralinks_async.testing._cli", "--host", host,
           "--port", str(port), "--log-level", log_level]  # fmt: skip
    for key, value in options.items():
        if key in _FLAGS:
            if value is not None:
                cmd += [_FLAGS[key], str(value)]
        elif key == "ranges":
            if not value:
                cmd.append("--no-ranges")
        elif key == "rate_limit":
            cmd += _rate_limit_flags(value, options.get("retry_after"))
        elif key == "outage":
            cmd += _outage_flags(value)
        elif key == "clients":
            for client_id, secret in (value or {}).items():
                cmd += ["--client", f"{client_id}:{secret}"]
        else:
            raise TypeError(f"unknown emulator option {key!r}")
    if not is_loopback(host):
        if not allow_remote:
            raise ValueError("binding a non-loopback address needs allow_remote=True")
        cmd.append("--allow-remote")
    return cmd


def _wait_listening(proc: Any, host: str, port: int, timeout: float) -> None:
    """Return once ``host:port`` accepts connections; RuntimeError if the child died."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"emulator exited with status {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("emulator did not start in time") from None
            time.sleep(0.05)


def _rate_limit_flags(value: Any, retry_after: Any) -> list[str]:
    limit = RateLimit.coerce(value)
    if limit is None:
        return []
    if retry_after is not None and limit.retry_after != retry_after:
        raise ValueError(
            "serve_in_subprocess: retry_after= and the RateLimit's retry_after differ "
            "(one --retry-after flag serves both)"
        )
    flags = ["--rate-limit", repr(limit.rate)]
    if retry_after is None:
        flags += ["--retry-after", "auto" if limit.retry_after is None else str(limit.retry_after)]
    if limit.burst is not None:
        flags += ["--burst", repr(limit.burst)]
    return flags


def _outage_flags(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, Outage):
        raise TypeError("outage must be an Outage")
    flags = ["--outage-for", repr(value.duration), "--outage-after", repr(value.after),
             "--outage-kind", value.kind]  # fmt: skip
    if value.operations:
        flags += ["--outage-operations", ",".join(sorted(value.operations))]
    if value.retry_after is not None:
        flags += ["--outage-retry-after", str(value.retry_after)]
    return flags
