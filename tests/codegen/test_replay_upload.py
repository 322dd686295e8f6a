"""The client re-sends a multipart upload whose payload is a factory (429/503 answers)."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async.errors import APIStatusError
from intralinks_async.models import File, UploadDocumentBody

DATA = bytes(range(256)) * 64
DOC = {"id": "d1", "name": "a.bin", "folderId": "f1", "fileSize": len(DATA)}


def _file_part(request: httpx.Request, body: bytes) -> bytes:
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload: bytes = part.get_payload(decode=True)
            return payload
    raise AssertionError("no file part")


class Server:
    """Answers ``status`` to the first ``failures`` uploads (after reading each body), then 201."""

    def __init__(self, failures: int, status: int) -> None:
        self.failures, self.status = failures, status
        self.bodies: list[bytes] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = b"".join([chunk async for chunk in request.stream])  # type: ignore[union-attr]
        self.bodies.append(body)
        assert _file_part(request, body) == DATA
        if len(self.bodies) <= self.failures:
            return httpx.Response(self.status, headers={"Retry-After": "0"}, json={"error": "x"})
        return httpx.Response(201, json=DOC)


def _factory(calls: list[int]) -> Any:
    def make() -> AsyncIterator[bytes]:
        calls.append(1)

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(DATA), 1000):
                yield DATA[i : i + 1000]

        return chunks()

    return make


async def _upload(server: Server, payload: Any) -> Any:
    async with IntralinksClient(
        "https://api.test/v2",
        access_token="t",
        retry=RetryPolicy(max_retries=3),
        transport=httpx.MockTransport(server),
    ) as client:
        body = UploadDocumentBody(
            file=File(payload=payload, file_name="a.bin", size=len(DATA)), folder_id="f1"
        )
        return await client.documents.upload("w1", body=body)


@pytest.mark.parametrize("status", [429, 503])
async def test_a_factory_upload_is_sent_again_whole(status: int) -> None:
    server, calls = Server(failures=2, status=status), []
    doc = await _upload(server, _factory(calls))
    assert doc.id == "d1"
    assert len(server.bodies) == 3 and len(calls) == 3
    assert server.bodies[0] == server.bodies[1] == server.bodies[2]


async def test_a_one_shot_upload_is_not_sent_again() -> None:
    async def once() -> AsyncIterator[bytes]:
        yield DATA

    server = Server(failures=1, status=503)
    with pytest.raises(APIStatusError) as caught:
        await _upload(server, once())
    assert caught.value.status_code == 503 and len(server.bodies) == 1
