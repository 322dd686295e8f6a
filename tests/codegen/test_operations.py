"""Every operation of the spec through its resource method: request shape and parsed result."""

from __future__ import annotations

import io
import json
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from intralinks_async._generated.api import Resources
from intralinks_async.models import (
    CustomField,
    Document,
    File,
    Folder,
    GetOAuthTokenBody,
    GrantType,
    Group,
    OAuthToken,
    Permission,
    PermissionLevel,
    RevokeOAuthTokenBody,
    Splash,
    UploadDocumentBody,
    User,
    Workspace,
)
from intralinks_async.pagination import AsyncPaginator

from .conftest import TOKEN, HttpxSender
from .helpers import collect, parse_multipart, read_chunks, spec_operation_ids

WS = {
    "id": "ws1",
    "name": "Falcon",
    "type": "ATC",
    "createdOn": "2024-01-02T03:04:05+00:00",
    "statistics": {"documentCount": 3},
}
FOLDER = {"id": "f1", "name": "Fin", "parentId": "f0", "hasChildFolders": False, "version": 2}
DOC = {
    "id": "d1",
    "name": "r.pdf",
    "folderId": "f1",
    "fileSize": 10,
    "extension": "pdf",
    "version": 1,
}
GROUP = {"id": "g1", "name": "Buyers", "memberCount": 2}
USER = {"id": "u1", "firstName": "Ada", "emailId": "ada@example.com"}
PERM = {"id": "p1", "groupId": "g1", "folderId": "f1", "permission": "SEE"}
SPLASH = {"id": "s1", "hasAcceptButton": True, "splashText": "NDA"}
CF = {"id": "c1", "name": "Region", "type": "SELECT", "options": ["EU"]}
OAUTH = {"access_token": "abc", "refresh_token": "def", "token_type": "Bearer", "expires_in": 3600}


@dataclass
class Case:
    op: str
    call: Callable[[Resources], Awaitable[Any]]
    method: str
    path: str
    response: Any = None
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form: dict[str, str] | None = None
    auth: bool = True
    expected: Any = None
    raw_response: bytes | None = None
    #: Responses to further requests of the same operation (e.g. a paginator confirming
    #: that a short first page was the last one), with the query each must carry.
    follow_ups: list[tuple[Any, dict[str, str]]] = field(default_factory=list)


def _upload(api: Resources) -> Awaitable[Document]:
    body = UploadDocumentBody(
        file=File(
            payload=io.BytesIO(b"%PDF-1.7 data"), file_name="r.pdf", mime_type="application/pdf"
        ),
        folder_id="f1",
        name="r.pdf",
        note="Q3",
    )
    return api.documents.upload("ws1", body=body)


async def _download(api: Resources) -> bytes:
    async with api.documents.download("ws1", "d1") as chunks:
        return await read_chunks(chunks)


CASES = [
    Case(
        "getOAuthToken",
        lambda api: api.authentication.get_o_auth_token(
            body=GetOAuthTokenBody(
                grant_type=GrantType.CLIENT_CREDENTIALS, client_id="id", client_secret="s3cret"
            )
        ),
        "POST",
        "/oauth/token",
        OAUTH,
        form={"grant_type": "client_credentials", "client_id": "id", "client_secret": "s3cret"},
        auth=False,
        expected=OAuthToken.from_dict(OAUTH),
    ),
    Case(
        "revokeOAuthToken",
        lambda api: api.authentication.revoke_o_auth_token(body=RevokeOAuthTokenBody(token="tok")),
        "POST",
        "/oauth/revoke",
        None,
        form={"token": "tok"},
        auth=False,
        expected=None,
    ),
    Case(
        "listWorkspaces",
        lambda api: collect(api.workspaces.list(type_="ATC", page_size=50)),
        "GET",
        "/workspaces",
        {"workspace": [WS]},
        query={"type": "ATC", "offset": "0", "limit": "50"},
        expected=[Workspace.from_dict(WS)],
        follow_ups=[({"workspace": []}, {"type": "ATC", "offset": "1", "limit": "50"})],
    ),
    Case(
        "createWorkspace",
        lambda api: api.workspaces.create(body=Workspace(name="Falcon", type="ATC")),
        "POST",
        "/workspaces",
        WS,
        status=201,
        json_body={"name": "Falcon", "type": "ATC"},
        expected=Workspace.from_dict(WS),
    ),
    Case(
        "getWorkspace",
        lambda api: api.workspaces.get("ws1"),
        "GET",
        "/workspaces/ws1",
        WS,
        expected=Workspace.from_dict(WS),
    ),
    Case(
        "updateWorkspace",
        lambda api: api.workspaces.update("ws1", body=Workspace(phase="Open")),
        "PUT",
        "/workspaces/ws1",
        WS,
        json_body={"phase": "Open"},
        expected=Workspace.from_dict(WS),
    ),
    Case(
        "deleteWorkspace",
        lambda api: api.workspaces.delete("ws1"),
        "DELETE",
        "/workspaces/ws1",
        status=204,
    ),
    Case(
        "listFolders",
        lambda api: api.folders.list("ws1"),
        "GET",
        "/workspaces/ws1/folders",
        {"folder": [FOLDER, FOLDER]},
        expected=[Folder.from_dict(FOLDER)] * 2,
    ),
    Case(
        "createFolder",
        lambda api: api.folders.create("ws1", body=Folder(name="Fin", parent_id="f0")),
        "POST",
        "/workspaces/ws1/folders",
        FOLDER,
        status=201,
        json_body={"name": "Fin", "parentId": "f0"},
        expected=Folder.from_dict(FOLDER),
    ),
    Case(
        "getFolder",
        lambda api: api.folders.get("ws1", "f1"),
        "GET",
        "/workspaces/ws1/folders/f1",
        FOLDER,
        expected=Folder.from_dict(FOLDER),
    ),
    Case(
        "updateFolder",
        lambda api: api.folders.update("ws1", "f1", body=Folder(name="New")),
        "PUT",
        "/workspaces/ws1/folders/f1",
        FOLDER,
        json_body={"name": "New"},
        expected=Folder.from_dict(FOLDER),
    ),
    Case(
        "deleteFolder",
        lambda api: api.folders.delete("ws1", "f1"),
        "DELETE",
        "/workspaces/ws1/folders/f1",
        status=204,
    ),
    Case(
        "listDocuments",
        lambda api: api.documents.list("ws1", folder_id="f1"),
        "GET",
        "/workspaces/ws1/documents",
        {"document": [DOC]},
        query={"folderId": "f1"},
        expected=[Document.from_dict(DOC)],
    ),
    Case(
        "uploadDocument",
        _upload,
        "POST",
        "/workspaces/ws1/documents",
        DOC,
        status=201,
        expected=Document.from_dict(DOC),
    ),
    Case(
        "getDocument",
        lambda api: api.documents.get("ws1", "d1"),
        "GET",
        "/workspaces/ws1/documents/d1",
        DOC,
        expected=Document.from_dict(DOC),
    ),
    Case(
        "updateDocument",
        lambda api: api.documents.update("ws1", "d1", body=Document(note="n")),
        "PUT",
        "/workspaces/ws1/documents/d1",
        DOC,
        json_body={"note": "n"},
        expected=Document.from_dict(DOC),
    ),
    Case(
        "deleteDocument",
        lambda api: api.documents.delete("ws1", "d1"),
        "DELETE",
        "/workspaces/ws1/documents/d1",
        status=204,
    ),
    Case(
        "downloadDocument",
        _download,
        "GET",
        "/workspaces/ws1/documents/d1/download",
        raw_response=b"\x00\x01binary\xff" * 100,
        expected=b"\x00\x01binary\xff" * 100,
    ),
    Case(
        "listGroups",
        lambda api: api.groups.list("ws1"),
        "GET",
        "/workspaces/ws1/groups",
        {"group": [GROUP]},
        expected=[Group.from_dict(GROUP)],
    ),
    Case(
        "createGroup",
        lambda api: api.groups.create("ws1", body=Group(name="Buyers")),
        "POST",
        "/workspaces/ws1/groups",
        GROUP,
        status=201,
        json_body={"name": "Buyers"},
        expected=Group.from_dict(GROUP),
    ),
    Case(
        "getGroup",
        lambda api: api.groups.get("ws1", "g1"),
        "GET",
        "/workspaces/ws1/groups/g1",
        GROUP,
        expected=Group.from_dict(GROUP),
    ),
    Case(
        "updateGroup",
        lambda api: api.groups.update("ws1", "g1", body=Group(note="x")),
        "PUT",
        "/workspaces/ws1/groups/g1",
        GROUP,
        json_body={"note": "x"},
        expected=Group.from_dict(GROUP),
    ),
    Case(
        "deleteGroup",
        lambda api: api.groups.delete("ws1", "g1"),
        "DELETE",
        "/workspaces/ws1/groups/g1",
        status=204,
    ),
    Case(
        "listGroupMembers",
        lambda api: api.groups.list_members("ws1", "g1"),
        "GET",
        "/workspaces/ws1/groups/g1/members",
        {"user": [USER]},
        expected=[User.from_dict(USER)],
    ),
    Case(
        "addGroupMember",
        lambda api: api.groups.add_member("ws1", "g1", body=User(email_id="ada@example.com")),
        "POST",
        "/workspaces/ws1/groups/g1/members",
        status=201,
        json_body={"emailId": "ada@example.com"},
    ),
    Case(
        "listPermissions",
        lambda api: api.permissions.list("ws1"),
        "GET",
        "/workspaces/ws1/permissions",
        {"permission": [PERM]},
        expected=[Permission.from_dict(PERM)],
    ),
    Case(
        "createPermission",
        lambda api: api.permissions.create(
            "ws1",
            body=Permission(
                group_id="g1", folder_id="f1", permission=PermissionLevel.SEE_AND_DOWNLOAD
            ),
        ),
        "POST",
        "/workspaces/ws1/permissions",
        PERM,
        status=201,
        json_body={"groupId": "g1", "folderId": "f1", "permission": "SEE_AND_DOWNLOAD"},
        expected=Permission.from_dict(PERM),
    ),
    Case(
        "getSplash",
        lambda api: api.splash.get("ws1"),
        "GET",
        "/workspaces/ws1/splash",
        SPLASH,
        expected=Splash.from_dict(SPLASH),
    ),
    Case(
        "updateSplash",
        lambda api: api.splash.update(
            "ws1", body=Splash(splash_text="Welcome", has_accept_button=True)
        ),
        "PUT",
        "/workspaces/ws1/splash",
        SPLASH,
        json_body={"splashText": "Welcome", "hasAcceptButton": True},
        expected=Splash.from_dict(SPLASH),
    ),
    Case(
        "listCustomFields",
        lambda api: api.custom_fields.list("ws1"),
        "GET",
        "/workspaces/ws1/customfields",
        {"customField": [CF]},
        expected=[CustomField.from_dict(CF)],
    ),
]


def test_cases_cover_every_spec_operation() -> None:
    assert sorted(c.op for c in CASES) == sorted(spec_operation_ids())
    assert len(CASES) == 30


@pytest.mark.parametrize("case", CASES, ids=[c.op for c in CASES])
async def test_operation(
    case: Case, api: Resources, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    if case.raw_response is not None:
        httpx_mock.add_response(
            status_code=case.status,
            content=case.raw_response,
            headers={"Content-Type": "application/octet-stream"},
        )
    elif case.response is not None:
        httpx_mock.add_response(status_code=case.status, json=case.response)
    else:
        httpx_mock.add_response(status_code=case.status)
    for follow_up, _ in case.follow_ups:
        httpx_mock.add_response(status_code=case.status, json=follow_up)

    result = await case.call(api)

    assert result == case.expected
    assert [c["operation"] for c in sender.calls] == [case.op] * (1 + len(case.follow_ups))
    request, *later = httpx_mock.get_requests()
    assert [dict(r.url.params) for r in later] == [query for _, query in case.follow_ups]
    assert request.method == case.method
    assert request.url.host == "api.test"
    assert request.url.path == "/v2" + case.path
    assert dict(request.url.params) == case.query
    if case.auth:
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    else:
        assert "Authorization" not in request.headers
    body = request.read()
    if case.json_body is not None:
        assert request.headers["Content-Type"] == "application/json"
        assert json.loads(body) == case.json_body
    elif case.form is not None:
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert dict(urllib.parse.parse_qsl(body.decode())) == case.form
    elif case.op == "uploadDocument":
        ctype = request.headers["Content-Type"]
        assert ctype.startswith("multipart/form-data; boundary=")
        assert "+++" not in ctype
        parts = parse_multipart(ctype, body)
        assert parts["file"] == ("r.pdf", "application/pdf", b"%PDF-1.7 data")
        assert parts["folderId"][2] == b"f1"
        assert parts["name"][2] == b"r.pdf"
        assert parts["note"][2] == b"Q3"
        assert int(request.headers["Content-Length"]) == len(body)
    else:
        assert body == b""


async def test_paginator_fetches_every_page(api: Resources, httpx_mock: HTTPXMock) -> None:
    pages = [[dict(WS, id=f"w{i}") for i in range(start, min(start + 2, 5))] for start in (0, 2, 4)]
    for page in pages:
        httpx_mock.add_response(json={"workspace": page})
    paginator = api.workspaces.list(page_size=2)
    assert isinstance(paginator, AsyncPaginator)
    items = await collect(paginator)
    assert [w.id for w in items] == ["w0", "w1", "w2", "w3", "w4"]
    offsets = [(r.url.params["offset"], r.url.params["limit"]) for r in httpx_mock.get_requests()]
    assert offsets == [("0", "2"), ("2", "2"), ("4", "2")]


async def test_detailed_variant_exposes_status_and_headers(
    sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    from intralinks_async._generated.api.workspaces import get_workspace

    httpx_mock.add_response(json=WS, headers={"ETag": '"v1"'})
    response = await get_workspace.asyncio_detailed("ws1", client=sender, headers={"X-Trace": "t"})
    assert response.status_code == 200
    assert response.headers["etag"] == '"v1"'
    assert response.parsed == Workspace.from_dict(WS)
    assert httpx_mock.get_requests()[0].headers["X-Trace"] == "t"


async def test_unwrapped_list_tolerates_missing_array(
    api: Resources, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={})
    assert await api.folders.list("ws1") == []


async def test_download_stream_detailed_passes_range_headers(
    sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    from intralinks_async._generated.api.documents import download_document

    httpx_mock.add_response(
        status_code=206,
        content=b"2345",
        headers={"Content-Range": "bytes 2-5/10", "Content-Length": "4", "ETag": '"e"'},
    )
    async with download_document.stream_detailed(
        "ws1", "d1", client=sender, headers={"Range": "bytes=2-5", "If-Range": '"e"'}
    ) as download:
        assert download.status_code == 206
        assert download.headers["content-range"] == "bytes 2-5/10"
        assert download.content_length == 4
        assert b"".join([c async for c in download.aiter_bytes()]) == b"2345"
    request = httpx_mock.get_requests()[0]
    assert request.headers["Range"] == "bytes=2-5"
    assert request.headers["If-Range"] == '"e"'


async def test_download_is_streamed_not_read(sender: HttpxSender, httpx_mock: HTTPXMock) -> None:
    """The body is consumed chunk by chunk through the stream; nothing reads it whole."""
    from intralinks_async._generated.api.documents import download_document

    chunks = [bytes([i]) * 1000 for i in range(50)]
    httpx_mock.add_response(stream=_Stream(chunks))
    seen = []
    async with download_document.stream_detailed("ws1", "d1", client=sender) as download:
        async for chunk in download.aiter_raw():
            seen.append(chunk)
    assert len(seen) == 50
    assert b"".join(seen) == b"".join(chunks)


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> Any:
        for chunk in self.chunks:
            yield chunk
