"""The public API contract, written as a user would: must pass ``mypy --strict``.

Model ids are ``str | Unset`` (the spec does not mark them required and the same models are
request bodies), so path parameters accept ``str | Unset``. This module is only
type-checked (``test_contract_typing.py``), never executed.
"""

from __future__ import annotations

from typing import assert_type

from intralinks_async import IntralinksClient
from intralinks_async.models import (
    Document,
    DownloadStream,
    Folder,
    Group,
    Response,
    User,
    Workspace,
)


async def contract() -> None:
    """The contract snippet as-is, plus documents and groups."""
    async with IntralinksClient(
        base_url="https://api.intralinks.com/v2",
        client_id="...",
        client_secret="...",
        max_retries=3,
        transport=None,
    ) as client:
        ws = await client.workspaces.create(body=Workspace(name="Project Falcon", type="ATC"))
        async for w in client.workspaces.list(page_size=100):
            assert_type(w, Workspace)
        folders = await client.folders.list(ws.id)
        assert_type(folders, list[Folder])
        f = await client.folders.create(ws.id, body=Folder(name="Financials"))
        doc = await client.transfers.upload_file(ws.id, f.id, "report.pdf", note="Q3")
        await client.transfers.download_file(ws.id, doc.id, "copy.pdf")
        await client.transfers.upload_tree(
            "./dataroom", ws.id, concurrency=32, journal="migration.db"
        )
        await client.transfers.download_tree(ws.id, "./mirror", concurrency=32)

        # documents: ids taken straight from returned models
        docs = await client.documents.list(ws.id, folder_id=f.id)
        assert_type(docs, list[Document])
        for d in docs:
            fetched = await client.documents.get(ws.id, d.id)
            await client.documents.update(ws.id, fetched.id, body=Document(note="reviewed"))
            async with client.documents.download(ws.id, d.id) as chunks:
                async for chunk in chunks:
                    assert_type(chunk, bytes)
        await client.documents.delete(ws.id, doc.id)

        # groups: create, add a member, list members, by the returned ids
        g = await client.groups.create(ws.id, body=Group(name="Bidders", type="Regular"))
        await client.groups.add_member(ws.id, g.id, body=User(email_id="a@example.com"))
        members = await client.groups.list_members(ws.id, g.id)
        assert_type(members, list[User])
        await client.groups.update(ws.id, g.id, body=Group(note="phase 2"))
        await client.groups.delete(ws.id, g.id)
        await client.folders.delete(ws.id, f.id)
        await client.workspaces.delete(ws.id)


async def raw_responses(client: IntralinksClient, ws: Workspace) -> None:
    """with_raw_response and with_options, typed as the plain methods are."""
    raw = await client.workspaces.with_raw_response.get(ws.id)
    assert_type(raw, Response[Workspace])
    assert_type(raw.parse(), Workspace)
    assert_type(raw.status_code, int)
    page = await client.with_options(max_retries=0).folders.with_raw_response.list(ws.id)
    assert_type(page.parse(), list[Folder])
    listed = await client.workspaces.with_raw_response.list(offset=0, limit=10)
    assert_type(listed.parsed, list[Workspace])
    async with client.documents.with_raw_response.download(ws.id, "d1") as stream:
        assert_type(stream, DownloadStream)
        async for chunk in stream.parse():
            assert_type(chunk, bytes)
