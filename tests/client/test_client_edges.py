"""Adversarial client/transport cases: lifecycle, event loops, deadlines, plain http."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import anyio
import httpx
import pytest
from client_helpers import SleepRecorder, make_client
from pytest_httpx import HTTPXMock

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async.errors import APITimeoutError

API = "https://api.intralinks.com/v2"


@contextmanager
def stalling_server() -> Iterator[str]:
    """Loopback HTTP/1.1 server: ``/stall`` sends headers and one body byte, then hangs;
    ``/sink`` never reads the request body nor answers."""
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if b" /sink" in head.split(b"\r\n", 1)[0]:
                    await asyncio.sleep(3600)  # never reads the body, never answers
                if b" /stall" in head.split(b"\r\n", 1)[0]:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
                    await writer.drain()
                    await asyncio.sleep(3600)
                body = b'{"ok":true}'
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
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
            await stop.wait()
            server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

        loop.run_until_complete(serve())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield f"http://127.0.0.1:{holder['port']}"
    finally:
        loop = holder["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        stop = holder["stop"]
        assert isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)


async def test_cancelled_requests_release_their_connection() -> None:
    """With a one-connection pool, cancelled calls (mid-body) must not starve the next."""
    with stalling_server() as url:
        client = IntralinksClient(
            url, access_token="t", max_connections=1, timeout=httpx.Timeout(5, pool=2)
        )
        async with client:
            with anyio.move_on_after(0.1):
                await client.request("GET", "/stall", operation="x")
            assert (await client.request("GET", "/ok", operation="x")).json() == {"ok": True}
            with anyio.move_on_after(0.1):
                async with client.stream("GET", "/stall", operation="x") as response:
                    await response.aread()
            assert (await client.request("GET", "/ok", operation="x")).json() == {"ok": True}


async def test_request_after_close_is_a_clear_error(app) -> None:
    client = make_client(app)  # injected transport: it would happily keep serving
    async with client:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        await client.request("GET", "/workspaces", operation="listWorkspaces")
    with pytest.raises(RuntimeError, match="closed"):
        await client.with_options(max_retries=0).request("GET", "/workspaces", operation="x")
    await client.aclose()  # idempotent


def test_use_on_a_second_event_loop_is_a_clear_error(loopback_url: str) -> None:
    client = IntralinksClient(loopback_url, client_id="demo", client_secret="demo-secret")

    async def call() -> int:
        return (await client.request("GET", "/workspaces", operation="x")).status_code

    async def other_loop() -> None:
        with anyio.fail_after(5), pytest.raises(RuntimeError, match="event loop"):
            await call()

    async def close() -> None:
        await client.aclose()

    runner = asyncio.Runner()
    try:
        assert runner.run(call()) == 200
        asyncio.run(other_loop())  # the first loop is still alive: no hang, no mix-up
    finally:
        runner.run(close())
        runner.close()


@pytest.mark.parametrize(
    "url",
    ["http://localhost.evil.example", "http://api.localhost", "http://127.0.0.1.nip.io"],
)
def test_plain_http_to_names_that_only_look_local_is_refused(url: str) -> None:
    # Only literal loopback addresses and "localhost" itself are trusted: a DNS name
    # under .localhost is not guaranteed to resolve to loopback by every resolver.
    with pytest.raises(ValueError, match="http://"):
        IntralinksClient(url, access_token="t")


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://h.example/v2", "https://h.example/v2/workspaces/a%2Fb"),
        ("https://h.example/v2/", "https://h.example/v2/workspaces/a%2Fb"),
        ("https://h.example", "https://h.example/workspaces/a%2Fb"),
        ("https://h.example/", "https://h.example/workspaces/a%2Fb"),
    ],
)
async def test_base_url_path_prefix_is_joined_without_double_slash(
    httpx_mock: HTTPXMock, base: str, expected: str
) -> None:
    httpx_mock.add_response(url=expected, json={})
    async with IntralinksClient(
        base, access_token="t", transport=httpx.AsyncHTTPTransport()
    ) as client:
        await client.request("GET", "/workspaces/a%2Fb", operation="x")
    assert str(httpx_mock.get_requests()[0].url) == expected


async def test_overall_deadline_bounds_a_hanging_attempt() -> None:
    """total_timeout is the whole budget: an attempt that hangs past it is cut off."""
    with stalling_server() as url:
        policy = RetryPolicy(max_retries=5, total_timeout=0.3)
        client = IntralinksClient(url, access_token="t", retry=policy, timeout=30)
        client._sleep = SleepRecorder()
        async with client:
            with anyio.fail_after(10), pytest.raises(APITimeoutError) as info:
                await client.request("GET", "/stall", operation="stallOp")
    assert info.value.operation == "stallOp" and info.value.attempts == 1


async def test_retry_after_beyond_the_deadline_is_not_slept(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{API}/x", status_code=429, headers={"Retry-After": "50"})
    sleeps = SleepRecorder()
    policy = RetryPolicy(max_retries=3, total_timeout=10)
    async with IntralinksClient(
        access_token="t", retry=policy, transport=httpx.AsyncHTTPTransport()
    ) as client:
        client._sleep = sleeps
        response = await client.request("GET", "/x", operation="x")
    assert response.status_code == 429 and sleeps.delays == []


async def test_a_failing_response_hook_does_not_leak_the_response(httpx_mock: HTTPXMock) -> None:
    closed: list[bool] = []

    class Tracked(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"{}"

        async def aclose(self) -> None:
            closed.append(True)

    httpx_mock.add_response(url=f"{API}/x", stream=Tracked())

    async def hook(response: httpx.Response) -> None:
        raise ValueError("hook failed")

    async with IntralinksClient(
        access_token="t",
        transport=httpx.AsyncHTTPTransport(),
        event_hooks={"response": [hook]},
    ) as client:
        with pytest.raises(ValueError, match="hook failed"):
            async with client.stream("GET", "/x", operation="x"):
                pass
    assert closed == [True]


async def test_401_whose_refresh_fails_closes_the_streamed_response(
    httpx_mock: HTTPXMock,
) -> None:
    closed: list[bool] = []

    class Tracked(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b"{}"

        async def aclose(self) -> None:
            closed.append(True)

    token_url = f"{API}/oauth/token"
    httpx_mock.add_response(
        url=token_url, method="POST", json={"access_token": "a1", "expires_in": 3600}
    )
    httpx_mock.add_response(url=f"{API}/x", status_code=401, stream=Tracked())
    httpx_mock.add_response(url=token_url, method="POST", status_code=401, json={})
    from intralinks_async.errors import AuthenticationError

    async with IntralinksClient(
        client_id="cid", client_secret="s", transport=httpx.AsyncHTTPTransport()
    ) as client:
        with pytest.raises(AuthenticationError):
            async with client.stream("GET", "/x", operation="x"):
                pass
    assert closed == [True]


class SlowReader(httpx.AsyncBaseTransport):
    """Consumes the request body at 20 chunks/s; answers 200 ``{}``."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        async for _ in request.stream:
            await anyio.sleep(0.05)
        await anyio.sleep(0.3 if request.headers.get("x-slow") else 0)
        return httpx.Response(200, json={})


async def test_overall_deadline_does_not_cut_off_a_long_upload() -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(8):  # ~0.4 s to send, twice the overall deadline
            yield b"x" * 1024

    policy = RetryPolicy(max_retries=0, total_timeout=0.2)
    async with IntralinksClient(access_token="t", retry=policy, transport=SlowReader()) as c:
        response = await c.request("POST", "/upload", operation="upload", content=body())
        assert response.status_code == 200
        with pytest.raises(APITimeoutError):  # a plain API call is still bounded by it
            await c.request("GET", "/x", operation="x", headers={"x-slow": "1"})


@pytest.mark.parametrize("streamed", [True, False])
async def test_upload_to_a_peer_that_stops_reading_hits_the_write_timeout(
    streamed: bool,
) -> None:
    payload = b"x" * (32 * 1024 * 1024)  # far more than the socket buffers hold

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 1 << 20):
            yield payload[start : start + (1 << 20)]

    with stalling_server() as url:
        timeout = httpx.Timeout(30, write=0.3)
        async with IntralinksClient(url, access_token="t", timeout=timeout, max_retries=0) as c:
            with anyio.fail_after(10), pytest.raises(APITimeoutError, match="WriteTimeout"):
                await c.request(
                    "POST", "/sink", operation="up", content=body() if streamed else payload
                )


async def test_pool_timeout_is_an_api_timeout_error() -> None:
    with stalling_server() as url:
        timeout = httpx.Timeout(5, connect=0.1, pool=0.1)
        client = IntralinksClient(
            url, access_token="t", max_connections=1, timeout=timeout, max_retries=1
        )
        client._sleep = SleepRecorder()
        async with client, client.stream("GET", "/stall", operation="hold"):
            with anyio.fail_after(10), pytest.raises(APITimeoutError) as info:
                await client.request("GET", "/ok", operation="waiting")
    assert info.value.attempts == 2  # never sent, so retried even though it timed out


@pytest.mark.parametrize("write_timeout", [None, 30.0])
async def test_an_exception_from_the_callers_body_source_propagates_unchanged(
    write_timeout: float | None,
) -> None:
    """A failing upload source is the caller's error, not a retryable connection error."""
    from intralinks_async.models import File, Folder, UploadDocumentBody, Workspace
    from intralinks_async.testing import create_app, serve_in_thread

    class SourceBroke(Exception):
        pass

    async def source() -> AsyncIterator[bytes]:
        yield b"x" * 100_000
        raise SourceBroke("disk went away")

    timeout = httpx.Timeout(30.0, write=write_timeout)
    with serve_in_thread(create_app()) as url:
        async with IntralinksClient(
            url, client_id="demo", client_secret="demo-secret", timeout=timeout
        ) as client:
            ws = await client.workspaces.create(body=Workspace(name="w"))
            folder = await client.folders.create(ws.id, body=Folder(name="f"))
            body = UploadDocumentBody(
                file=File(payload=source(), file_name="a.bin", size=300_000),
                folder_id=folder.id,
                name="a.bin",
            )
            with pytest.raises(SourceBroke, match="disk went away"):
                await client.documents.upload(ws.id, body=body)
            assert await client.documents.list(ws.id) == []
