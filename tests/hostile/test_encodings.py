"""Content-Encoding chains and unknown codings on 2xx answers (review findings).

A chain such as ``gzip, gzip`` multiplies the compression ratios, and a coding the
client cannot decode must never reach the caller as if it were the document's bytes.
"""

from __future__ import annotations

import gzip
import json

import pytest

from intralinks_async.errors import APIResponseValidationError

from .servers import MiB, PeakRSS, Reply, gzip_bomb
from .test_bomb import TRANSPORTS, WORKSPACE, client_for, replying

DOUBLE_DECODED = 256 * MiB


@pytest.fixture(scope="module")
def double_bomb() -> bytes:
    """256 MiB of zeros, gzipped twice (a few KiB on the wire)."""
    data = gzip.compress(gzip_bomb(DOUBLE_DECODED), 9)
    assert len(data) < 64 * 1024
    return data


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_streamed_download_with_a_gzip_chain_comes_in_small_chunks(
    kind: str, double_bomb: bytes
) -> None:
    reply = Reply(
        200,
        [("Content-Type", "application/octet-stream"), ("Content-Encoding", "gzip, gzip")],
        double_bomb,
    )
    largest = total = 0
    async with client_for(kind, replying(reply)) as client:
        with PeakRSS() as rss:
            async with client.documents.download("ws1", "d1") as chunks:
                async for chunk in chunks:
                    largest = max(largest, len(chunk))
                    total += len(chunk)
    assert total == DOUBLE_DECODED  # decoded exactly, both layers
    assert largest <= 17 * MiB, f"one decoded chunk of {largest / MiB:.0f} MiB"
    assert rss.growth < 150 * MiB, f"RSS grew by {rss.growth / MiB:.0f} MiB"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_streamed_download_with_an_unknown_coding_is_refused(kind: str) -> None:
    body = b"\x28\xb5\x2f\xfd" + b"zstd frame the client cannot decode"
    reply = Reply(200, [("Content-Type", "application/pdf"), ("Content-Encoding", "zstd")], body)
    received = b""
    async with client_for(kind, replying(reply)) as client:
        with pytest.raises(APIResponseValidationError) as info:
            async with client.documents.download("ws1", "d1") as chunks:
                async for chunk in chunks:
                    received += chunk
    assert received == b""  # never handed over as the document's bytes
    assert info.value.operation == "downloadDocument"
    assert "zstd" in str(info.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize("coding", ["compress", "zstd", "gzip, x-custom"])
async def test_json_answer_with_an_unknown_coding_is_a_validation_error(
    kind: str, coding: str
) -> None:
    body = json.dumps(WORKSPACE).encode()
    if coding.startswith("gzip"):
        body = gzip.compress(body)
    reply = Reply(200, [("Content-Type", "application/json"), ("Content-Encoding", coding)], body)
    async with client_for(kind, replying(reply)) as client:
        with pytest.raises(APIResponseValidationError) as info:
            await client.workspaces.get("ws1")
    assert info.value.operation == "getWorkspace"
    assert "Content-Encoding" in str(info.value)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_identity_and_known_chains_still_decode(kind: str) -> None:
    body = gzip.compress(gzip.compress(json.dumps(WORKSPACE).encode()))
    reply = Reply(
        200,
        [("Content-Type", "application/json"), ("Content-Encoding", "gzip, identity, GZIP")],
        body,
    )
    async with client_for(kind, replying(reply)) as client:
        assert (await client.workspaces.get("ws1")).id == "ws1"


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_multi_member_gzip_download_is_not_truncated(kind: str) -> None:
    # RFC 1952: a gzip file may hold several members; the body is all of them.
    parts = [bytes(range(256)) * 300, b"second member", b"", b"third" * 50_000]
    body = b"".join(gzip.compress(p) for p in parts)
    reply = Reply(200, [("Content-Encoding", "gzip")], body)
    received = b""
    async with (
        client_for(kind, replying(reply)) as client,
        client.documents.download("ws1", "d1") as chunks,
    ):
        async for chunk in chunks:
            received += chunk
    assert received == b"".join(parts)


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_multi_member_gzip_json_is_decoded_whole(kind: str) -> None:
    text = json.dumps(WORKSPACE).encode()
    body = gzip.compress(text[:10]) + gzip.compress(text[10:])
    reply = Reply(200, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")], body)
    async with client_for(kind, replying(reply)) as client:
        assert (await client.workspaces.get("ws1")).name == "Falcon"
