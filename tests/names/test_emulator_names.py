# ruff: noqa: RUF001  (the lookalike characters are what these tests are about)
"""Encoded names through the emulator: accepted as they are and mapped back exactly."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from intralinks_async import IntralinksClient
from intralinks_async._generated.models import Folder, UploadDocumentBody
from intralinks_async._generated.types import File
from intralinks_async.models import Workspace
from intralinks_async.testing import create_app
from intralinks_async.transfers.names import (
    REMOTE_FORBIDDEN,
    local_to_remote,
    remote_to_local,
)

LOCAL_NAMES = [
    "Agreement: Final.pdf",
    'a"b.txt',
    "Q3?.xlsx",
    "<draft>|v2*.doc",
    "back\\slash",
    "CON.txt",
    "A.txt",
    "a.txt",
    "trailing space ",
    "trailing dot.",
    "already：fullwidth",
    "‛quote",
    "tab\tin name",
    "  ",
    "．",
    os.fsdecode(b"bad\xff.txt") if os.name != "nt" else "bad\udcff.txt",
]


@pytest.fixture
async def client() -> AsyncIterator[IntralinksClient]:
    app = create_app()
    try:
        async with IntralinksClient(
            "http://127.0.0.1",
            client_id="demo",
            client_secret="demo-secret",
            transport=httpx.ASGITransport(app=app),
        ) as c:
            yield c
    finally:
        app.state.emulator.close()


async def test_documents_and_folders_round_trip_exactly(client: IntralinksClient) -> None:
    ws = await client.workspaces.create(body=Workspace(name="Names", type="ATC"))
    assert isinstance(ws.id, str)
    folder = await client.folders.create(ws.id, body=Folder(name=local_to_remote("Deal: 2026")))
    assert isinstance(folder.id, str)
    sent: dict[str, str] = {}
    for name in LOCAL_NAMES:
        remote = local_to_remote(name, windows=False)
        assert not set(remote) & set(REMOTE_FORBIDDEN)
        body = UploadDocumentBody(
            file=File(payload=b"x", file_name="x", size=1), folder_id=folder.id, name=remote
        )
        doc: Any = await client.documents.upload(ws.id, body=body)
        sent[remote] = name
        assert doc.name == remote
    listed = await client.documents.list(ws.id, folder_id=folder.id)
    back = sorted(remote_to_local(str(d.name), windows=False) for d in listed)
    assert back == sorted(LOCAL_NAMES)
    (stored,) = [f for f in await client.folders.list(ws.id) if f.id == folder.id]
    assert remote_to_local(str(stored.name), windows=False) == "Deal: 2026"
