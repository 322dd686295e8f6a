"""Decompression bombs and oversized bodies: typed errors, memory bounded by the limit.

Every case runs through the three ways a body reaches the client: the default aiohttp
transport over real loopback (buffered fast path), httpx's own transport over loopback,
and an in-process ASGI app through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async._response import DEFAULT_MAX_RESPONSE_BYTES
from intralinks_async.errors import (
    APIResponseValidationError,
    InternalServerError,
    NotFoundError,
    ResponseTooLargeError,
)

from .servers import MiB, PeakRSS, Reply, Request, asgi_app, gzip_bomb, raw_server

TOKEN = "static-access-token-0123456789"
TRANSPORTS = ["aiohttp", "httpx", "asgi"]
WORKSPACE = {"id": "ws1", "name": "Falcon", "createdOn": "2024-01-02T03:04:05+00:00"}


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """1 GiB of zeros as about 1 MiB of gzip."""
    data = gzip_bomb(1024 * MiB)
    assert len(data) < 2 * MiB
    return data


@asynccontextmanager
async def client_for(
    kind: str, handler: Callable[[Request], Reply], **options: object
) -> AsyncIterator[IntralinksClient]:
    """A client whose requests reach ``handler`` through the transport ``kind``."""
    options.setdefault("retry", RetryPolicy(max_retries=0))
    if kind == "asgi":
        transport = httpx.ASGITransport(app=asgi_app(handler))
        async with IntralinksClient(
            "http://127.0.0.1:9", access_token=TOKEN, transport=transport, **options
        ) as client:
            yield client
        return
    async with raw_server(handler) as url:
        if kind == "httpx":
            options["transport"] = httpx.AsyncHTTPTransport()
        async with IntralinksClient(url, access_token=TOKEN, **options) as client:
            yield client


def replying(reply: Reply) -> Callable[[Request], Reply]:
    return lambda request: reply


def gzip_json(value: object) -> bytes:
    return gzip.compress(json.dumps(value).encode())


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("chunked", [False, True])
async def test_gzip_bomb_on_a_json_endpoint_is_refused_with_bounded_memory(
    kind: str, chunked: bool, bomb: bytes
) -> None:
    reply = Reply(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], bomb)
    reply.chunked = chunked
    async with client_for(kind, replying(reply)) as client:
        with PeakRSS() as rss, pytest.raises(ResponseTooLargeError) as info:
            await client.workspaces.get("ws1")
    error = info.value
    assert isinstance(error, APIResponseValidationError)
    assert error.operation == "getWorkspace"
    assert error.status_code == 200
    assert error.limit == DEFAULT_MAX_RESPONSE_BYTES
    assert "getWorkspace" in str(error) and "max_response_bytes" in str(error)
    # 1 GiB decoded without the limit; with it, the limit plus small change.
    assert rss.growth < 300 * MiB, f"RSS grew by {rss.growth / MiB:.0f} MiB"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_a_lower_limit_bounds_memory_lower(kind: str, bomb: bytes) -> None:
    reply = Reply(200, [("Content-Encoding", "gzip")], bomb)
    async with client_for(kind, replying(reply), max_response_bytes=4 * MiB) as client:
        with PeakRSS() as rss, pytest.raises(ResponseTooLargeError) as info:
            await client.folders.list("ws1")
    assert info.value.limit == 4 * MiB and info.value.operation == "listFolders"
    assert rss.growth < 100 * MiB, f"RSS grew by {rss.growth / MiB:.0f} MiB"


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("chunked", [False, True])
async def test_limit_is_exact_for_plain_bodies(kind: str, chunked: bool) -> None:
    limit = 1000

    def body(size: int) -> bytes:
        head = b'{"id": "ws1", "name": "'
        return head + b"a" * (size - len(head) - 2) + b'"}'

    sizes = iter([limit, limit + 1])

    def handler(request: Request) -> Reply:
        return Reply(200, [("Content-Type", "application/json")], body(next(sizes)), chunked)

    async with client_for(kind, handler, max_response_bytes=limit) as client:
        ws = await client.workspaces.get("ws1")
        assert ws.name == "a" * (limit - 25)
        with pytest.raises(ResponseTooLargeError):
            await client.workspaces.get("ws1")


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as IIS sends it
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("identity", lambda data: data),
    ],
)
async def test_compressed_bodies_still_decode(
    kind: str, encoding: str, encode: Callable[[bytes], bytes]
) -> None:
    payload = encode(json.dumps(WORKSPACE).encode())
    reply = Reply(
        200, [("Content-Type", "application/json"), ("Content-Encoding", encoding)], payload
    )
    async with client_for(kind, replying(reply)) as client:
        ws = await client.workspaces.get("ws1")
    assert ws.id == "ws1" and ws.created_on is not None


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_bytes_after_the_gzip_stream_are_ignored_but_count_on_the_wire(kind: str) -> None:
    good = gzip_json(WORKSPACE) + b"trailing junk"
    flood = gzip_json(WORKSPACE) + bytes(3 * MiB)
    replies = iter([good, flood])

    def handler(request: Request) -> Reply:
        return Reply(200, [("Content-Encoding", "gzip")], next(replies))

    async with client_for(kind, handler, max_response_bytes=2 * MiB) as client:
        assert (await client.workspaces.get("ws1")).id == "ws1"
        with pytest.raises(ResponseTooLargeError):
            await client.workspaces.get("ws1")


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_corrupt_gzip_on_2xx_is_a_validation_error(kind: str) -> None:
    corrupt = b"this is not gzip data at all" * 4
    reply = Reply(200, [("Content-Encoding", "gzip")], corrupt)
    async with client_for(kind, replying(reply)) as client:
        with pytest.raises(APIResponseValidationError) as info:
            await client.workspaces.get("ws1")
    assert not isinstance(info.value, ResponseTooLargeError)
    assert info.value.operation == "getWorkspace" and "gzip" in str(info.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_corrupt_gzip_on_an_error_status_keeps_the_status_error(kind: str) -> None:
    reply = Reply(500, [("Content-Encoding", "gzip")], b"\x1f\x8b\x08\x00garbage" * 10)
    async with client_for(kind, replying(reply)) as client:
        with pytest.raises(InternalServerError) as info:
            await client.workspaces.get("ws1")
    assert info.value.status_code == 500 and info.value.operation == "getWorkspace"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_bomb_in_an_error_body_is_cut_and_the_status_error_raised(
    kind: str, bomb: bytes
) -> None:
    reply = Reply(500, [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], bomb)
    async with client_for(kind, replying(reply)) as client:
        with PeakRSS() as rss, pytest.raises(InternalServerError) as info:
            await client.workspaces.get("ws1")
    assert info.value.operation == "getWorkspace"
    assert info.value.body is not None and len(info.value.body) < 3000
    assert rss.growth < 100 * MiB, f"RSS grew by {rss.growth / MiB:.0f} MiB"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_huge_plain_error_body_is_cut(kind: str) -> None:
    calls: list[str] = []

    def handler(request: Request) -> Reply:
        calls.append(request.path)
        if len(calls) == 1:
            return Reply(404, [("Content-Type", "text/plain")], b"not here " * (2 * MiB // 9))
        return Reply(200, [("Content-Type", "application/json")], json.dumps(WORKSPACE).encode())

    async with client_for(kind, handler) as client:
        with pytest.raises(NotFoundError) as info:
            await client.workspaces.get("ws1")
        assert info.value.message.startswith("not here")
        # The cut connection is not reused for the next call.
        assert (await client.workspaces.get("ws1")).id == "ws1"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_streamed_error_body_bomb_is_bounded(kind: str, bomb: bytes) -> None:
    reply = Reply(404, [("Content-Encoding", "gzip")], bomb)
    async with client_for(kind, replying(reply)) as client:
        with PeakRSS() as rss, pytest.raises(NotFoundError) as info:
            async with client.documents.download("ws1", "d1"):
                pass
    assert info.value.operation == "downloadDocument"
    assert rss.growth < 150 * MiB, f"RSS grew by {rss.growth / MiB:.0f} MiB"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_streamed_compressed_download_comes_in_small_decoded_chunks(
    kind: str, bomb: bytes
) -> None:
    reply = Reply(
        200, [("Content-Type", "application/octet-stream"), ("Content-Encoding", "gzip")], bomb
    )
    largest = total = 0
    async with client_for(kind, replying(reply)) as client:
        with PeakRSS() as rss:
            async with client.documents.download("ws1", "d1") as chunks:
                async for chunk in chunks:
                    largest = max(largest, len(chunk))
                    total += len(chunk)
                    if total >= 200 * MiB:
                        break
    assert total >= 200 * MiB
    assert largest <= 17 * MiB  # 16 KiB of gzip decodes to at most ~16.5 MiB
    assert rss.growth < 150 * MiB, f"RSS grew by {rss.growth / MiB:.0f} MiB"


def test_max_response_bytes_must_be_positive() -> None:
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="max_response_bytes"):
            IntralinksClient("http://127.0.0.1:9", access_token=TOKEN, max_response_bytes=bad)  # type: ignore[arg-type]
