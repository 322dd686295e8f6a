"""Replayable request bodies: File(payload=<factory>) gives the sender a body factory."""

from __future__ import annotations

import io
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from intralinks_async import IntralinksClient
from intralinks_async._core.multipart import ReplayableBody, encode_file_body, encode_multipart
from intralinks_async._generated.api import Resources
from intralinks_async.models import File, Folder, UploadDocumentBody, Workspace
from intralinks_async.testing import create_app

from .helpers import parse_multipart

DATA = b"0123456789" * 1000


def _factory(data: bytes = DATA, step: int = 777) -> Any:
    calls: list[int] = []

    def make() -> AsyncIterator[bytes]:
        calls.append(1)

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), step):
                await anyio.lowlevel.checkpoint()
                yield data[i : i + step]

        return chunks()

    make.calls = calls  # type: ignore[attr-defined]
    return make


async def _drain(content: AsyncIterable[bytes]) -> bytes:
    return b"".join([chunk async for chunk in content])


def _fields(payload: Any, size: int | None = None) -> list[tuple[str, Any]]:
    return [
        ("file", File(payload=payload, file_name="a.bin", size=size)),
        ("folderId", (None, b"f1", "text/plain")),
    ]


def test_factory_payload_gives_a_body_factory_that_replays_whole() -> None:
    make = _factory()
    body = encode_multipart(_fields(make, size=len(DATA)))
    assert isinstance(body.content, ReplayableBody) and callable(body.content)
    assert make.calls == []  # nothing produced before the sender asks
    first = anyio.run(_drain, body.content())
    second = anyio.run(_drain, body.content())
    assert first == second and len(make.calls) == 2
    assert int(body.headers["Content-Length"]) == len(first)
    parts = parse_multipart(body.headers["Content-Type"], first)
    assert parts["file"][2] == DATA and parts["folderId"][2] == b"f1"


def test_replayable_body_is_also_a_plain_async_iterable() -> None:
    body = encode_multipart(_fields(_factory()))
    assert "Content-Length" not in body.headers  # size unknown
    assert isinstance(body.content, AsyncIterable)
    once = anyio.run(_drain, body.content)
    assert parse_multipart(body.headers["Content-Type"], once)["file"][2] == DATA


def test_bytes_only_multipart_stays_bytes() -> None:
    body = encode_multipart(_fields(DATA))
    assert isinstance(body.content, bytes)


@pytest.mark.parametrize("one_shot", ["file", "aiter"])
def test_a_one_shot_payload_keeps_the_body_one_shot(one_shot: str) -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield DATA

    payload = io.BytesIO(DATA) if one_shot == "file" else gen()
    fields = [*_fields(_factory()), ("other", File(payload=payload, file_name="b.bin"))]
    body = encode_multipart(fields)
    assert not isinstance(body.content, ReplayableBody)
    assert not callable(body.content)
    parts = parse_multipart(body.headers["Content-Type"], anyio.run(_drain, body.content))
    assert parts["file"][2] == DATA and parts["other"][2] == DATA


def test_each_attempt_checks_the_declared_size() -> None:
    body = encode_multipart(_fields(_factory(), size=len(DATA) + 1))
    assert isinstance(body.content, ReplayableBody)
    for _ in range(2):
        with pytest.raises(ValueError, match="declared size"):
            anyio.run(_drain, body.content())


def test_a_factory_must_return_an_async_iterable() -> None:
    body = encode_multipart(_fields(lambda: [b"not", b"async"]))
    assert isinstance(body.content, ReplayableBody)
    with pytest.raises(TypeError, match="factory must return an async iterable"):
        anyio.run(_drain, body.content())


def test_raw_file_body_from_a_factory_is_replayable() -> None:
    make = _factory()
    body = encode_file_body(File(payload=make, size=len(DATA)), content_type="application/x-y")
    assert isinstance(body.content, ReplayableBody)
    assert body.headers == {"Content-Type": "application/x-y", "Content-Length": str(len(DATA))}
    assert anyio.run(_drain, body.content()) == anyio.run(_drain, body.content()) == DATA


class _ReplayingSender:
    """A sender that re-sends like the client's pipeline: a 503 first, then the real answer."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.bodies: list[bytes] = []

    async def request(
        self, method: str, path: str, *, content: Any = None, headers: Any = None, **_: Any
    ) -> httpx.Response:
        assert callable(content), "a factory payload must reach the sender as a body factory"
        for attempt in range(2):
            sent = await _drain(content())
            self.bodies.append(sent)
            if attempt == 0:
                continue  # the server "answered 503": send again from a fresh iterator
            return await self.client.request(method, path, content=sent, headers=headers)
        raise AssertionError("unreachable")

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


async def test_generated_upload_hands_the_sender_a_factory_it_can_resend() -> None:
    app = create_app()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://emulator"
    ) as http:
        token = (
            await http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "demo",
                    "client_secret": "demo-secret",
                },
            )
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        sender = _ReplayingSender(http)
        api = Resources(sender)  # type: ignore[arg-type]
        created = await http.post("/workspaces", json={"name": "Replay", "type": "ATC"})
        ws_id = created.json()["id"]
        folder = await http.post(f"/workspaces/{ws_id}/folders", json={"name": "in"})
        body = UploadDocumentBody(
            file=File(payload=_factory(), file_name="r.bin", size=len(DATA)),
            folder_id=folder.json()["id"],
        )
        doc = await api.documents.upload(ws_id, body=body)
    assert len(sender.bodies) == 2 and sender.bodies[0] == sender.bodies[1]
    assert doc.file_size == len(DATA)


def _workspace() -> Workspace:
    return Workspace(name="Replay", type="ATC")


async def test_the_client_uploads_a_factory_payload() -> None:
    """IntralinksClient accepts the factory body (whether or not it re-sends it)."""
    app = create_app()
    async with IntralinksClient(
        base_url="http://127.0.0.1:1",
        client_id="demo",
        client_secret="demo-secret",
        transport=httpx.ASGITransport(app=app),
    ) as client:
        ws = await client.workspaces.create(body=_workspace())
        folder = await client.folders.create(ws.id, body=Folder(name="x"))
        doc = await client.documents.upload(
            ws.id,
            body=UploadDocumentBody(
                file=File(payload=_factory(), file_name="c.bin", size=len(DATA)),
                folder_id=folder.id,
            ),
        )
        async with client.documents.download(ws.id, doc.id) as chunks:
            assert b"".join([c async for c in chunks]) == DATA
