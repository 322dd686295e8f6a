"""Stage: one attempt -- send one request over the transport and (unless streaming) read
the response body, within the call's deadline.

No retries, no auth decisions here: the driver (``driver.py``) owns both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import anyio
import httpx

from intralinks_async._response import read_response
from intralinks_async._transport import AiohttpTransport

__all__ = ["AttemptSender", "DeadlineExceeded", "RequestHook", "ResponseHook"]

RequestHook = Callable[[httpx.Request], Awaitable[None]]
ResponseHook = Callable[[httpx.Response], Awaitable[None]]


class DeadlineExceeded(Exception):
    """The call's overall deadline cut the attempt off (turned into ``APITimeoutError``)."""


class AttemptSender:
    """Sends one attempt: event hooks, an optional generic ``httpx.Auth`` flow, body read."""

    __slots__ = ("_plain", "request_hooks", "response_hooks")

    def __init__(
        self, request_hooks: Sequence[RequestHook], response_hooks: Sequence[ResponseHook]
    ) -> None:
        self.request_hooks = list(request_hooks)
        self.response_hooks = list(response_hooks)
        self._plain = not self.request_hooks and not self.response_hooks

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
        # asyncio: a bare timer handle that cancels the task at the deadline (a third of
        # the cost of asyncio.timeout_at, a fifth of a cancel scope's).
        task = asyncio.current_task()
        assert task is not None
        fired: list[bool] = []

        def expire() -> None:
            fired.append(True)
            task.cancel()

        handle = loop.call_at(deadline, expire)
        try:
            return await self._send(transport, request, generic_auth, stream)
        except asyncio.CancelledError:
            if fired and task.uncancel() == 0:
                raise DeadlineExceeded() from None
            raise
        finally:
            handle.cancel()

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
