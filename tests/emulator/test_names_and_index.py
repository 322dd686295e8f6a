"""Names the service forbids are refused; documents are indexed by folder."""

from __future__ import annotations

import pytest

from intralinks_async.testing import create_app
from intralinks_async.testing._validation import FORBIDDEN_NAME_CHARS

from .conftest import Api

FORBIDDEN = list(FORBIDDEN_NAME_CHARS)


def test_the_forbidden_set_is_the_services() -> None:
    assert sorted(FORBIDDEN_NAME_CHARS) == sorted('/\\:*"<>?|')


def _refused(r: object, char: str) -> None:
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["ErrorCode"] == "INVALID_NAME"
    assert char in body["Error"] and body["Hint"]


@pytest.mark.parametrize("char", FORBIDDEN)
async def test_forbidden_characters_are_refused_everywhere(api: Api, char: str) -> None:
    ws = (await api.workspace())["id"]
    folder = (await api.folder(ws))["id"]
    doc = (await api.upload(ws, folder, "ok.txt"))["id"]
    base = f"/workspaces/{ws}"
    name = f"Agreement{char} Final"
    _refused(await api.http.post(base + "/folders", json={"name": name}), char)
    _refused(await api.http.put(f"{base}/folders/{folder}", json={"name": name}), char)
    _refused(await api.http.put(f"{base}/documents/{doc}", json={"name": name + ".pdf"}), char)
    up = await api.http.post(
        base + "/documents",
        files={"file": ("x.pdf", b"1")},
        data={"folderId": folder, "name": name + ".pdf"},
    )
    _refused(up, char)
    if char not in '/\\"':  # a filename the multipart encoder can carry as such
        up = await api.http.post(
            base + "/documents",
            files={"file": (name + ".pdf", b"1")},
            data={"folderId": folder},
        )
        _refused(up, char)
    # nothing changed, nothing stored
    assert [f["name"] for f in (await api.http.get(base + "/folders")).json()["folder"]] == [
        "Financials"
    ]
    docs = (await api.http.get(base + "/documents")).json()["document"]
    assert [(d["name"], d["version"]) for d in docs] == [("ok.txt", 1)]
    assert list(api.emu.store.tmp_dir.iterdir()) == []
    assert len(list(api.emu.store.blob_dir.iterdir())) == 1


async def test_lookalikes_and_other_names_are_accepted(api: Api) -> None:
    ws = (await api.workspace("Project: Falcon"))["id"]  # workspace names are not file names
    name = "Agreement\uff1a Final\uff1f.pdf"  # fullwidth colon and question mark
    folder = (await api.folder(ws, "Q3 \uff0a results"))["id"]
    assert (await api.upload(ws, folder, name))["name"] == name
    group = await api.http.post(f"/workspaces/{ws}/groups", json={"name": "Buyers: A/B"})
    assert group.status_code == 201


async def test_listing_one_folder_reads_only_that_folder(api: Api) -> None:
    emu = api.emu
    ws = emu.seed_workspaces(1)[0]
    a, b = emu.seed_folder(ws, "A"), emu.seed_folder(ws, "B")
    sub = emu.seed_folder(ws, "sub", a)
    ids = {
        f: [emu.seed_document(ws, f, f"{f}-{i}.txt", b"x") for i in range(3)] for f in (a, b, sub)
    }
    record = emu.room.workspaces[ws]
    assert {k: list(v) for k, v in record.by_folder.items()} == ids

    async def listed(folder: str) -> list[str]:
        r = await api.http.get(f"/workspaces/{ws}/documents", params={"folderId": folder})
        return [d["id"] for d in r.json()["document"]]

    assert await listed(a) == ids[a]
    assert await listed("404404") == []
    moved = ids[a][0]
    r = await api.http.put(f"/workspaces/{ws}/documents/{moved}", json={"folderId": b})
    assert r.status_code == 200
    assert await listed(a) == ids[a][1:]
    assert await listed(b) == ids[b] + [moved]
    await api.http.delete(f"/workspaces/{ws}/documents/{ids[b][0]}")
    assert await listed(b) == [*ids[b][1:], moved]
    await api.http.delete(f"/workspaces/{ws}/folders/{a}")  # with its subfolder
    assert await listed(sub) == []
    assert set(record.by_folder) == {b}
    everything = (await api.http.get(f"/workspaces/{ws}/documents")).json()["document"]
    assert sorted(d["id"] for d in everything) == sorted([*ids[b][1:], moved])


def test_index_scales_with_the_folder_not_the_workspace() -> None:
    # 40,000 documents in 400 folders: listing one folder touches its 100 records only
    emu = create_app().state.emulator
    ws = emu.seed_workspaces(1)[0]
    room = emu.room
    record = room.workspace(ws)
    folders = [room.create_folder(record, {"name": f"F{i}"})["id"] for i in range(400)]
    blob = emu.store.put(b"x")
    for i in range(40_000):
        room.add_document(
            record, folder_id=folders[i % 400], name=f"d{i}", note=None, blob=blob, by="t"
        )
    assert len(record.by_folder[folders[7]]) == 100
    assert sum(len(v) for v in record.by_folder.values()) == 40_000
    emu.close()
