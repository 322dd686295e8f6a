"""Stage: one attempt -- send one request over the transport and (unless streaming) read
the response body, within the call's deadline.

No retries, no auth decisions here: the driver (``driver.py``) owns both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import anyio
import httpx

from intralinks_async._response import read_response
from intralinks_async._transport import AiohttpTransport

__all__ = ["AttemptSender", "DeadlineExceeded", "RequestHook", "ResponseHook"]

RequestHook = Callable[[httpx.Request], Awaitable[None]]
ResponseHook = Callable[[httpx.Response], Awaitable[None]]


#: Seconds between two checks of the asyncio deadline watchdog.
_WATCH_PERIOD: Final = 0.1


class DeadlineExceeded(Exception):
    """The call's overall deadline cut the attempt off (turned into ``APITimeoutError``)."""


class AttemptSender:
    """Sends one attempt: event hooks, an optional generic ``httpx.Auth`` flow, body read."""

    __slots__ = (
        "_expired",
        "_plain",
        "_timer",
        "_timer_loop",
        "_watched",
        "request_hooks",
        "response_hooks",
    )

    def __init__(
        self, request_hooks: Sequence[RequestHook], response_hooks: Sequence[ResponseHook]
    ) -> None:
        self.request_hooks = list(request_hooks)
        self.response_hooks = list(response_hooks)
        self._plain = not self.request_hooks and not self.response_hooks
        # asyncio deadline watchdog: attempts in flight with their deadline, and the
        # tasks it cancelled.
        self._watched: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    async def send(
        self,
        transport: httpx.AsyncBaseTransport,
        request: httpx.Request,
        generic_auth: httpx.Auth | None,
        *,
        stream: bool,
        deadline: float | None,
    ) -> httpx.Response:
        """Send ``request`` once; read the body unless streaming; respect ``deadline``.

        ``deadline`` is on the event loop's clock (None: no overall deadline for this
        attempt); crossing it raises :class:`DeadlineExceeded`.
        """
        if deadline is None:
            return await self._send(transport, request, generic_auth, stream)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # trio
            with anyio.CancelScope(deadline=deadline) as scope:
                return await self._send(transport, request, generic_auth, stream)
            assert scope.cancelled_caught
            raise DeadlineExceeded() from None
        # asyncio: the watchdog (one timer for all attempts in flight; a dict entry each).
        task = asyncio.current_task()
        assert task is not None
        watched = self._watched
        watched[task] = deadline
        if self._timer is None or self._timer_loop is not loop:
            self._timer_loop = loop
            self._timer = loop.call_later(_WATCH_PERIOD, self._watch, loop)
        try:
            return await self._send(transport, request, generic_auth, stream)
        except asyncio.CancelledError:
            if task in self._expired:
                self._expired.discard(task)
                if task.uncancel() == 0:
                    raise DeadlineExceeded() from None
            raise
        finally:
            watched.pop(task, None)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel the attempts whose deadline passed; re-arm while any is in flight.

        One periodic timer instead of one timer handle per attempt (which costs a context
        copy and a heap entry per request): a deadline is enforced within
        ``_WATCH_PERIOD`` of when it falls.
        """
        now = loop.time()
        watched = self._watched
        for task, deadline in list(watched.items()):
            if deadline <= now:
                del watched[task]
                self._expired.add(task)
                task.cancel()
        if loop is not self._timer_loop:
            return  # a timer of a loop this sender no longer serves
        self._timer = loop.call_later(_WATCH_PERIOD, self._watch, loop) if watched else None

    def _send(
        self,
        transport: httpx.AsyncBaseTransport,
        request: httpx.Request,
        generic_auth: httpx.Auth | None,
        stream: bool,
    ) -> Awaitable[httpx.Response]:
        """The awaitable of one attempt (not a coroutine itself: one frame fewer)."""
        if (
            generic_auth is None
            and not stream
            and self._plain
            and type(transport) is AiohttpTransport
        ):
            # Fast path: no hooks, our transport, body wanted whole (read in one call).
            return transport.send_buffered(request)
        return self._send_general(transport, request, generic_auth, stream)

    async def _send_general(
        self,
        transport: httpx.AsyncBaseTransport,
        request: httpx.Request,
        generic_auth: httpx.Auth | None,
        stream: bool,
    ) -> httpx.Response:
        if generic_auth is not None:
            response = await self._send_with_auth(transport, request, generic_auth)
        else:
            response = await self._send_once(transport, request)
        if not stream:
            try:
                await read_response(response)  # bounded by max_response_bytes
            except BaseException:
                await response.aclose()
                raise
        return response

    async def _send_once(
        self, transport: httpx.AsyncBaseTransport, request: httpx.Request
    ) -> httpx.Response:
        for hook in self.request_hooks:
            await hook(request)
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            for response_hook in self.response_hooks:
                await response_hook(response)
        except BaseException:
            await response.aclose()
            raise
        return response

    async def _send_with_auth(
        self, transport: httpx.AsyncBaseTransport, request: httpx.Request, auth: httpx.Auth
    ) -> httpx.Response:
        """Drive an arbitrary ``httpx.Auth`` async flow over the transport."""
        flow = auth.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                response = await self._send_once(transport, outgoing)
                if auth.requires_response_body:
                    await read_response(response)
                try:
                    outgoing = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                await response.aclose()
        finally:
            await flow.aclose()
