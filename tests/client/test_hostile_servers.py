"""Small hostile servers: a trickling body cannot outlast total_timeout; a token endpoint
refusing the client stops every caller at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import httpx
import pytest
from client_helpers import make_client

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async.errors import APITimeoutError, AuthenticationError
from intralinks_async.testing import create_app


@contextmanager
def trickling_server(interval: float) -> Iterator[str]:
    """Loopback HTTP/1.1 server answering 200 with a 1,000-byte body sent one byte per
    ``interval`` seconds (each read arrives well within any per-read timeout)."""
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: 1000\r\n\r\n")
            await writer.drain()
            for _ in range(1000):
                writer.write(b" ")
                await writer.drain()
                await asyncio.sleep(interval)
        except (ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def run() -> None:
        loop = asyncio.new_event_loop()
        holder["loop"] = loop

        async def serve() -> None:
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            holder["port"] = server.sockets[0].getsockname()[1]
            holder["stop"] = stop = asyncio.Event()
            ready.set()
            async with server:
                await stop.wait()

        loop.run_until_complete(serve())
        pending = asyncio.all_tasks(loop)  # handlers still trickling: end them cleanly
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{holder['port']}"
    finally:
        loop = holder["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        stop = holder["stop"]
        assert isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_a_trickling_body_cannot_outlast_total_timeout(transport: str) -> None:
    """Per-read timeouts never fire (a byte every 0.2 s, read timeout 1 s); the overall
    deadline of the call still ends it, body read included."""
    kwargs: dict[str, object] = {}
    if transport == "httpx":
        kwargs["transport"] = httpx.AsyncHTTPTransport()
    with trickling_server(0.2) as url:
        policy = RetryPolicy(max_retries=3, total_timeout=1.5)
        async with IntralinksClient(
            url, access_token="t", retry=policy, timeout=httpx.Timeout(1.0), **kwargs
        ) as client:  # type: ignore[arg-type]
            with anyio.fail_after(30), pytest.raises(APITimeoutError) as info:
                await client.workspaces.get("w")
    assert "overall deadline" in str(info.value)
    assert info.value.operation == "getWorkspace"


async def test_invalid_client_storm_makes_at_most_two_token_requests() -> None:
    app = create_app()
    emu = app.state.emulator
    [ws_id] = emu.seed_workspaces(1)
    errors: list[BaseException] = []
    async with make_client(app, client_secret="wrong-secret") as client:

        async def get() -> None:
            try:
                await client.workspaces.get(ws_id)
            except AuthenticationError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(get)
        # Later calls fail at once too, with no new token request.
        with pytest.raises(AuthenticationError, match="client authentication failed"):
            await client.workspaces.get(ws_id)
        assert client.auth is not None
    assert len(errors) == 100
    assert sum(emu.oauth.token_requests.values()) <= 2
    assert emu.requests.get("getWorkspace", 0) == 0


async def test_credentials_refused_mid_run_stop_every_later_call() -> None:
    """The client registration disappears mid-run: the replay after a 401 meets
    invalid_client, and later calls fail without asking the token endpoint again."""
    app = create_app()
    emu = app.state.emulator
    [ws_id] = emu.seed_workspaces(1)
    async with make_client(app) as client:
        oauth = client._oauth
        assert oauth is not None
        await client.workspaces.get(ws_id)
        assert oauth.refused is None
        emu.revoke_all_tokens()
        emu.oauth.clients.clear()  # the client registration is gone: invalid_client
        with pytest.raises(AuthenticationError):
            await client.workspaces.get(ws_id)
        asked = sum(emu.oauth.token_requests.values())
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                await client.workspaces.get(ws_id)
        assert sum(emu.oauth.token_requests.values()) == asked
        assert oauth.refused is not None
