"""Fault injection: 429 + Retry-After, 503, and a connection dropped mid-response.

Each API request (never ``/oauth/*``) draws once from a ``random.Random(fault_seed)``:
with probability ``fault_rate`` it gets a fault, the kind chosen uniformly among
``FAULT_KINDS``. The sequence of decisions is therefore deterministic in request
arrival order. Tests can also queue faults for the next requests with
:meth:`FaultInjector.inject`, which take precedence over the random draw.

How a dropped connection looks to a client:

* over a socket (uvicorn): the status line, headers (with the full ``Content-Length``)
  and part of the body are sent, then the connection is closed; httpx raises
  ``httpx.RemoteProtocolError``, aiohttp ``ClientPayloadError``.
* in-process (``httpx.ASGITransport``): the app raises :class:`EmulatedDisconnect`, a
  subclass of ``httpx.RemoteProtocolError``, out of the transport, as a real transport
  would.

The request itself is processed before the drop: an upload whose response is dropped
has stored its document.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from typing import Any

import anyio.lowlevel
import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

FAULT_KINDS = ("429", "503", "drop")

# Where the emulator app keeps the server's own ``send`` (see ``_app.EmulatorApp``).
RAW_SEND_KEY = "intralinks_emulator.raw_send"


class EmulatedDisconnect(httpx.RemoteProtocolError):
    """Raised by the app to abort a response mid-body (a simulated broken connection)."""

    def __init__(
        self, message: str = "emulator dropped the connection mid-response (injected fault)"
    ) -> None:
        super().__init__(message)


class FaultInjector:
    """Decides which API requests fail, and how. ``injected[kind]`` counts faults served."""

    def __init__(self, rate: float = 0.0, seed: int | None = None) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self.rate = rate
        self._rng = random.Random(seed)  # noqa: S311 (not crypto)
        self._queue: deque[tuple[str, str | None]] = deque()
        self.injected: Counter[str] = Counter()

    def inject(self, kind: str, count: int = 1, *, operation: str | None = None) -> None:
        """Queue ``count`` faults of ``kind`` for the next API requests (of ``operation``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}")
        self._queue.extend([(kind, operation)] * count)

    def draw(self, operation: str) -> str | None:
        """The fault for this request, or None."""
        if self._queue:
            for i, (kind, op) in enumerate(self._queue):
                if op is None or op == operation:
                    del self._queue[i]
                    self.injected[kind] += 1
                    return kind
        if self.rate <= 0.0:
            return None
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(FAULT_KINDS)
        self.injected[kind] += 1
        return kind


class DroppedResponse(Response):
    """Sends ``inner``'s status and headers and part of its body, then aborts."""

    def __init__(self, inner: Response) -> None:
        # Deliberately no super().__init__(): this only wraps ``inner``.
        self.inner = inner
        self.status_code = inner.status_code

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run ``inner`` with a ``send`` that cuts the body short and raises."""
        fake_body: list[bytes] = []

        async def cut(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = _with_body_room(message, fake_body)
                await send(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body: bytes = message.get("body", b"") or (fake_body[0] if fake_body else b"")
            if not body and message.get("more_body", False):
                return
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise EmulatedDisconnect()

        await self.inner(scope, receive, cut)


def _with_body_room(message: Message, fake_body: list[bytes]) -> Message:
    """For a body-less response (204), announce a short body so it can be cut short."""
    headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
    length = next((v for k, v in headers if k.lower() == b"content-length"), None)
    if message["status"] != 204 and length not in (None, b"0"):
        return message
    fake_body.append(b"{}")
    headers = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
    headers += [(b"content-length", b"2"), (b"content-type", b"application/json")]
    new: dict[str, Any] = dict(message)
    new["status"] = 200 if message["status"] == 204 else message["status"]
    new["headers"] = headers
    return new


async def drop_connection(request: Request) -> Response:
    """Close the client's connection without any answer (the request is not processed).

    Over uvicorn the connection's transport is aborted; what the app returns afterwards
    is discarded by the server. In-process (no transport) :class:`EmulatedDisconnect`
    is raised, as a broken connection surfaces from a real httpx transport.
    """
    send = request.scope.get(RAW_SEND_KEY)
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        raise EmulatedDisconnect("emulator dropped the connection without answering (outage)")
    transport.abort()
    # One loop turn: the server sees the connection lost and ignores what follows.
    await anyio.lowlevel.checkpoint()
    return Response(status_code=503)
