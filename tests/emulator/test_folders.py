"""listFolders / createFolder / getFolder / updateFolder / deleteFolder."""

from __future__ import annotations

from .conftest import Api


async def test_tree_and_has_child_folders(api: Api) -> None:
    ws = (await api.workspace())["id"]
    root = await api.folder(ws, "Root")
    assert root["hasChildFolders"] is False and "parentId" not in root and root["version"] == 1
    child = await api.folder(ws, "Child", parent=root["id"])
    assert child["parentId"] == root["id"]
    r = await api.http.get(f"/workspaces/{ws}/folders/{root['id']}")
    assert r.json()["hasChildFolders"] is True
    listed = (await api.http.get(f"/workspaces/{ws}/folders")).json()["folder"]
    assert [f["id"] for f in listed] == [root["id"], child["id"]]
    assert all(isinstance(f["hasChildFolders"], bool) for f in listed)

    r = await api.http.post(f"/workspaces/{ws}/folders", json={"name": "x", "parentId": "999"})
    assert r.status_code == 404


async def test_update_moves_and_bumps_version(api: Api) -> None:
    ws = (await api.workspace())["id"]
    a = await api.folder(ws, "A")
    b = await api.folder(ws, "B")
    c = await api.folder(ws, "C", parent=a["id"])
    r = await api.http.put(
        f"/workspaces/{ws}/folders/{c['id']}", json={"name": "C2", "parentId": b["id"]}
    )
    assert r.status_code == 200
    moved = r.json()
    assert moved["name"] == "C2" and moved["parentId"] == b["id"] and moved["version"] == 2
    folders = {
        f["id"]: f for f in (await api.http.get(f"/workspaces/{ws}/folders")).json()["folder"]
    }
    assert folders[a["id"]]["hasChildFolders"] is False
    assert folders[b["id"]]["hasChildFolders"] is True
    # a folder cannot move under its own descendant
    r = await api.http.put(f"/workspaces/{ws}/folders/{b['id']}", json={"parentId": c["id"]})
    assert r.status_code == 400 and r.json()["ErrorCode"] == "INVALID_PARENT"
    r = await api.http.put(f"/workspaces/{ws}/folders/nope", json={"name": "x"})
    assert r.status_code == 404


async def test_delete_removes_subtree_documents_and_permissions(api: Api) -> None:
    ws = (await api.workspace())["id"]
    top = await api.folder(ws, "Top")
    sub = await api.folder(ws, "Sub", parent=top["id"])
    keep = await api.folder(ws, "Keep")
    d1 = await api.upload(ws, sub["id"], "a.txt", b"a")
    d2 = await api.upload(ws, keep["id"], "b.txt", b"b")
    g = (await api.http.post(f"/workspaces/{ws}/groups", json={"name": "G"})).json()["id"]
    for fid in (sub["id"], keep["id"]):
        r = await api.http.post(
            f"/workspaces/{ws}/permissions",
            json={"groupId": g, "folderId": fid, "permission": "SEE"},
        )
        assert r.status_code == 201

    assert (await api.http.delete(f"/workspaces/{ws}/folders/{top['id']}")).status_code == 204
    ids = [f["id"] for f in (await api.http.get(f"/workspaces/{ws}/folders")).json()["folder"]]
    assert ids == [keep["id"]]
    docs = (await api.http.get(f"/workspaces/{ws}/documents")).json()["document"]
    assert [d["id"] for d in docs] == [d2["id"]]
    assert (await api.http.get(f"/workspaces/{ws}/documents/{d1['id']}")).status_code == 404
    perms = (await api.http.get(f"/workspaces/{ws}/permissions")).json()["permission"]
    assert [p["folderId"] for p in perms] == [keep["id"]]
    assert (await api.http.delete(f"/workspaces/{ws}/folders/{top['id']}")).status_code == 404


async def test_child_delete_clears_parent_flag(api: Api) -> None:
    ws = (await api.workspace())["id"]
    top = await api.folder(ws, "Top")
    sub = await api.folder(ws, "Sub", parent=top["id"])
    await api.http.delete(f"/workspaces/{ws}/folders/{sub['id']}")
    assert (await api.http.get(f"/workspaces/{ws}/folders/{top['id']}")).json()[
        "hasChildFolders"
    ] is False


async def test_folder_requires_name(api: Api) -> None:
    ws = (await api.workspace())["id"]
    r = await api.http.post(f"/workspaces/{ws}/folders", json={})
    assert r.status_code == 400 and r.json()["ErrorCode"] == "MISSING_FIELD"
    r = await api.http.get("/workspaces/nope/folders")
    assert r.status_code == 404
