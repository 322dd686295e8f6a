"""Retries against the emulator's faults, in-process and over loopback (aiohttp transport)."""

from __future__ import annotations

import socket

import httpx
import pytest
from client_helpers import CLIENT_ID, CLIENT_SECRET, make_client

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async._transport import AiohttpTransport
from intralinks_async.errors import APIConnectionError, InternalServerError
from intralinks_async.models import Workspace


async def test_429_retry_after_is_waited_out(app, emu) -> None:
    """Done-when: a 429 with Retry-After: 1 is waited out (really) and succeeds."""
    [ws_id] = emu.seed_workspaces(1)
    emu.inject_fault("429", operation="getWorkspace")
    waited: list[float] = []
    async with make_client(app) as client:
        real_sleep = client._sleep

        async def sleep(delay: float) -> None:
            waited.append(delay)
            await real_sleep(delay)

        client._sleep = sleep
        ws = await client.workspaces.get(ws_id)
    assert ws.id == ws_id
    assert len(waited) == 1 and 1.0 <= waited[0] <= 1.05  # Retry-After: 1, never earlier
    assert emu.faults.injected["429"] == 1 and emu.requests["getWorkspace"] == 2


async def test_persistent_503_raises_internal_server_error_with_attempts(app, emu, sleeps) -> None:
    [ws_id] = emu.seed_workspaces(1)
    emu.inject_fault("503", count=10, operation="getWorkspace")
    async with make_client(app, sleep=sleeps, max_retries=3) as client:
        with pytest.raises(InternalServerError) as info:
            await client.workspaces.get(ws_id)
    assert info.value.status_code == 503
    assert info.value.attempts == 4
    assert "attempts=4" in str(info.value)
    assert emu.requests["getWorkspace"] == 4
    assert len(sleeps.delays) == 3


async def test_dropped_response_get_is_retried_post_is_not(app, emu, sleeps) -> None:
    [ws_id] = emu.seed_workspaces(1)
    emu.inject_fault("drop", operation="getWorkspace")
    emu.inject_fault("drop", operation="createWorkspace")
    async with make_client(app, sleep=sleeps) as client:
        assert (await client.workspaces.get(ws_id)).id == ws_id
        before = len([w async for w in client.workspaces.list()])
        with pytest.raises(APIConnectionError) as info:
            await client.workspaces.create(body=Workspace(name="Once", type="ATC"))
        after = [w async for w in client.workspaces.list()]
    assert info.value.attempts == 1 and info.value.operation == "createWorkspace"
    # The POST landed once and was not sent again (no duplicate).
    assert len(after) == before + 1
    assert emu.requests["createWorkspace"] == 1


async def test_over_loopback_with_the_default_aiohttp_transport(app, emu, loopback_url) -> None:
    ids = emu.seed_workspaces(3)
    emu.inject_fault("drop", operation="getWorkspace")
    emu.inject_fault("503", operation="getWorkspace")
    policy = RetryPolicy(backoff_base=0.001, backoff_cap=0.002)
    async with IntralinksClient(
        loopback_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, retry=policy
    ) as client:
        assert isinstance(client._get_transport(), AiohttpTransport)
        ws = await client.workspaces.get(ids[0])
        assert ws.id == ids[0]
        listed = [w.id async for w in client.workspaces.list(page_size=2)]
        created = await client.workspaces.create(body=Workspace(name="Loop", type="ATC"))
        assert (await client.workspaces.get(created.id)).name == "Loop"
    assert listed == ids
    assert emu.faults.injected["drop"] == 1 and emu.faults.injected["503"] == 1
    assert sum(emu.oauth.token_requests.values()) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("transport", [None, "httpx"])
async def test_connection_refused_is_retried_then_raised(transport, sleeps) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    kwargs = {} if transport is None else {"transport": httpx.AsyncHTTPTransport()}
    async with IntralinksClient(url, access_token="t", max_retries=2, **kwargs) as client:
        client._sleep = sleeps
        with pytest.raises(APIConnectionError) as info:
            await client.workspaces.create(body=Workspace(name="x"))
    # A POST that never reached the server is safe to retry.
    assert info.value.attempts == 3
    assert info.value.operation == "createWorkspace"
    assert len(sleeps.delays) == 2


async def test_stream_yields_an_unread_body(app, emu, loopback_url) -> None:
    [ws_id] = emu.seed_workspaces(1)
    client = IntralinksClient(loopback_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    path = f"/workspaces/{ws_id}"
    async with client, client.stream("GET", path, operation="getWorkspace") as resp:
        assert resp.status_code == 200
        assert resp.extensions["intralinks_attempts"] == 1
        body = b"".join([chunk async for chunk in resp.aiter_bytes()])
    assert ws_id.encode() in body


async def test_gzip_responses_are_decoded() -> None:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from intralinks_async.testing import serve_in_thread

    payload = {"id": "w", "name": "x" * 5000}

    async def endpoint(request):  # type: ignore[no-untyped-def]
        return JSONResponse(payload)

    app = Starlette(
        routes=[Route("/workspaces/w", endpoint)],
        middleware=[Middleware(GZipMiddleware, minimum_size=100)],
    )
    with serve_in_thread(app) as url:
        async with IntralinksClient(url, access_token="t") as client:
            resp = await client.request("GET", "/workspaces/w", operation="getWorkspace")
            assert resp.headers["content-encoding"] == "gzip"
            assert resp.json() == payload
            async with client.stream("GET", "/workspaces/w", operation="getWorkspace") as s:
                await s.aread()
                assert s.json() == payload


async def test_loopback_under_trio_uses_httpx_pool(app, emu, loopback_url) -> None:
    import anyio

    [ws_id] = emu.seed_workspaces(1)

    async def main() -> str:
        async with IntralinksClient(
            loopback_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
        ) as client:
            assert isinstance(client._get_transport(), httpx.AsyncHTTPTransport)
            return (await client.workspaces.get(ws_id)).id

    assert await anyio.to_thread.run_sync(lambda: anyio.run(main, backend="trio")) == ws_id


async def test_streamed_request_bodies_over_aiohttp() -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from intralinks_async.testing import serve_in_thread

    async def echo(request):  # type: ignore[no-untyped-def]
        body = await request.body()
        return JSONResponse(
            {
                "size": len(body),
                "sha": __import__("hashlib").sha256(body).hexdigest(),
                "length": request.headers.get("content-length"),
                "te": request.headers.get("transfer-encoding"),
            }
        )

    chunk = bytes(range(256)) * 256  # 64 KiB

    async def body():
        for _ in range(16):
            yield chunk

    import hashlib

    expected = hashlib.sha256(chunk * 16).hexdigest()
    app = Starlette(routes=[Route("/echo", echo, methods=["PUT"])])
    with serve_in_thread(app) as url:
        async with IntralinksClient(url, access_token="t") as client:
            chunked = await client.request("PUT", "/echo", operation="echo", content=body())
            sized = await client.request(
                "PUT",
                "/echo",
                operation="echo",
                content=body(),
                headers={"Content-Length": str(16 * len(chunk))},
            )
            whole = await client.request("PUT", "/echo", operation="echo", content=chunk * 16)
    assert chunked.json() == {"size": 16 * 65536, "sha": expected, "length": None, "te": "chunked"}
    assert sized.json() == {"size": 16 * 65536, "sha": expected, "length": "1048576", "te": None}
    assert whole.json()["sha"] == expected and whole.json()["length"] == "1048576"


async def test_read_timeout_over_aiohttp_is_an_api_timeout_error(sleeps) -> None:
    import anyio
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from intralinks_async.errors import APITimeoutError
    from intralinks_async.testing import serve_in_thread

    async def slow(request):  # type: ignore[no-untyped-def]
        await anyio.sleep(0.5)
        return JSONResponse({})

    app = Starlette(routes=[Route("/slow", slow)])
    with serve_in_thread(app) as url:
        async with IntralinksClient(url, access_token="t", timeout=0.1, max_retries=1) as client:
            client._sleep = sleeps
            with pytest.raises(APITimeoutError) as info:
                await client.request("GET", "/slow", operation="slowOp")
    assert info.value.attempts == 2 and info.value.operation == "slowOp"
