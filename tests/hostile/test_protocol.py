"""Protocol-level garbage (oversized or numerous headers, a bad Content-Length) ends in
APIConnectionError naming the operation, and a token echoed in the garbage stays masked."""

from __future__ import annotations

import traceback

import httpx
import pytest

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async.errors import APIConnectionError

from .servers import Reply, raw_server

TOKEN = "static-access-token-" + "9" * 20


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, [("X-Echo", TOKEN + "a" * 200_000)], b"{}"),
        Reply(200, [("Content-Length", "abc " + TOKEN)], b"{}", chunked=True),
    ],
    ids=["huge header", "bad content-length"],
)
async def test_protocol_garbage_is_a_typed_connection_error(kind: str, reply: Reply) -> None:
    options = {"transport": httpx.AsyncHTTPTransport()} if kind == "httpx" else {}
    async with (
        raw_server(lambda request: reply) as url,
        IntralinksClient(
            url, access_token=TOKEN, retry=RetryPolicy(max_retries=0), **options
        ) as client,
    ):
        with pytest.raises(APIConnectionError) as info:
            await client.workspaces.get("ws1")
    error = info.value
    assert error.operation == "getWorkspace"
    text = str(error) + repr(error) + "".join(traceback.format_exception(error))
    assert TOKEN not in text
