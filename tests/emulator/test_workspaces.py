"""listWorkspaces / createWorkspace / getWorkspace / updateWorkspace / deleteWorkspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .conftest import Api

STAT_KEYS = {"documentCount", "folderCount", "userCount", "groupCount"}


async def test_create_get_update_delete(api: Api) -> None:
    ws = await api.workspace("Project Falcon", type="ILP")
    assert ws["name"] == "Project Falcon" and ws["type"] == "ILP"
    assert set(ws["statistics"]) == STAT_KEYS
    assert ws["createdOn"].endswith("Z")

    r = await api.http.get(f"/workspaces/{ws['id']}")
    assert r.status_code == 200 and r.json() == ws

    r = await api.http.put(
        f"/workspaces/{ws['id']}", json={"name": "Renamed", "phase": "OPEN", "id": "x"}
    )
    assert r.status_code == 200
    updated = r.json()
    assert updated["name"] == "Renamed" and updated["phase"] == "OPEN" and updated["id"] == ws["id"]
    assert updated["type"] == "ILP"

    assert (await api.http.delete(f"/workspaces/{ws['id']}")).status_code == 204
    r = await api.http.get(f"/workspaces/{ws['id']}")
    assert r.status_code == 404
    body = r.json()
    assert body["status"]["code"] == 404 and body["status"]["errorId"] and body["errors"]
    assert (await api.http.delete(f"/workspaces/{ws['id']}")).status_code == 404


async def test_statistics_count_contents(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    await api.upload(ws, f)
    await api.upload(ws, f)
    g = (await api.http.post(f"/workspaces/{ws}/groups", json={"name": "Buyers"})).json()["id"]
    await api.http.post(f"/workspaces/{ws}/groups/{g}/members", json={"emailId": "a@b.example"})
    stats = (await api.http.get(f"/workspaces/{ws}")).json()["statistics"]
    assert stats == {"documentCount": 2, "folderCount": 1, "userCount": 1, "groupCount": 1}


async def test_paging_is_stable_and_complete(api: Api) -> None:
    ids = api.emu.seed_workspaces(1234)
    seen: list[str] = []
    offset = 0
    while True:
        r = await api.http.get("/workspaces", params={"offset": offset, "limit": 100})
        page = r.json()["workspace"]
        seen += [w["id"] for w in page]
        if len(page) < 100:
            break
        offset += 100
    assert seen == ids
    r = await api.http.get("/workspaces", params={"offset": 1230, "limit": 100})
    assert [w["id"] for w in r.json()["workspace"]] == ids[1230:]
    r = await api.http.get("/workspaces", params={"offset": 5000})
    assert r.json() == {"workspace": []}
    r = await api.http.get("/workspaces")
    assert len(r.json()["workspace"]) == 1234


@pytest.mark.parametrize(
    "params",
    [
        {"offset": -1},
        {"limit": -5},
        {"limit": 0},
        {"offset": "abc"},
        {"limit": "1.5"},
        {"offset": ""},
    ],
)
async def test_invalid_paging_is_400(api: Api, params: dict[str, Any]) -> None:
    r = await api.http.get("/workspaces", params=params)
    assert r.status_code == 400
    assert set(r.json()) == {"ErrorCode", "Error", "Hint"}


async def test_type_filter(api: Api) -> None:
    await api.workspace("a", type="ATC")
    await api.workspace("b", type="ILP")
    r = await api.http.get("/workspaces", params={"type": "ILP"})
    assert [w["name"] for w in r.json()["workspace"]] == ["b"]


@pytest.mark.parametrize(
    "body",
    [b"{}", b'{"name": 5}', b"[1]", b"not json", b'{"name": "  "}', b'{"name": "x", "host": true}'],
)
async def test_invalid_bodies_are_400(api: Api, body: bytes) -> None:
    r = await api.http.post(
        "/workspaces", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["ErrorCode"]


async def test_delete_workspace_removes_content(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    doc = await api.upload(ws, f)
    path = api.emu.document_path(ws, doc["id"])
    assert (await api.http.delete(f"/workspaces/{ws}")).status_code == 204
    assert (await api.http.get(f"/workspaces/{ws}/documents/{doc['id']}")).status_code == 404
    assert (await api.http.get(f"/workspaces/{ws}/folders")).status_code == 404
    import os

    assert not os.path.exists(path)


async def test_unknown_path_is_404_in_status_shape(api: Api) -> None:
    r = await api.http.get("/nowhere")
    assert r.status_code == 404 and r.json()["status"]["code"] == 404


async def test_oversized_json_body_is_413(api: Api) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    r = await api.http.post(
        "/workspaces", content=big, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["ErrorCode"] == "REQUEST_TOO_LARGE"

    async def chunked() -> AsyncIterator[bytes]:
        yield big

    r = await api.http.post(
        "/workspaces", content=chunked(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413
    r = await api.http.post("/oauth/token", content=b"a=" + b"x" * 70000)
    assert r.status_code == 413
