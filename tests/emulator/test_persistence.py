"""With a data dir, the whole data room (not only content) survives a restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from intralinks_async.testing import Emulator, create_app
from intralinks_async.testing._persist import COMPACT_AFTER, DataDirError

from .conftest import CREDS, get_token


@contextlib.asynccontextmanager
async def _session(data_dir: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Emulator]]:
    """An app on ``data_dir`` and an authenticated client; the app is closed afterwards."""
    app = create_app(data_dir=data_dir)
    emu: Emulator = app.state.emulator
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
            http.headers["Authorization"] = f"Bearer {await get_token(http)}"
            yield http, emu
    finally:
        emu.close()


async def _build_room(http: httpx.AsyncClient) -> dict[str, Any]:
    ws = (await http.post("/workspaces", json={"name": "Falcon", "type": "DEAL"})).json()["id"]
    base = f"/workspaces/{ws}"
    top = (await http.post(base + "/folders", json={"name": "Legal"})).json()["id"]
    sub = (await http.post(base + "/folders", json={"name": "NDA", "parentId": top})).json()["id"]
    gone = (await http.post(base + "/folders", json={"name": "Tmp"})).json()["id"]
    docs = []
    for i, folder in enumerate((top, sub, sub, gone)):
        r = await http.post(
            base + "/documents",
            files={"file": (f"d{i}.txt", f"content {i}".encode())},
            data={"folderId": folder, "note": f"n{i}"},
        )
        docs.append(r.json()["id"])
    await http.put(f"{base}/documents/{docs[1]}", json={"name": "renamed.txt", "folderId": top})
    await http.delete(f"{base}/documents/{docs[2]}")
    await http.delete(f"{base}/folders/{gone}")
    group = (await http.post(base + "/groups", json={"name": "Bidders"})).json()["id"]
    await http.post(f"{base}/groups/{group}/members", json={"emailId": "a@bidder.example"})
    await http.put(f"{base}/groups/{group}", json={"note": "round 1"})
    perm = {"groupId": group, "folderId": top, "permission": "SEE_AND_DOWNLOAD"}
    await http.post(base + "/permissions", json=perm)
    await http.put(base + "/splash", json={"splashText": "Welcome", "hasAcceptButton": True})
    await http.put(base, json={"phase": "OPEN"})
    doomed = (await http.post("/workspaces", json={"name": "Doomed"})).json()["id"]
    await http.delete(f"/workspaces/{doomed}")
    return {"ws": ws, "docs": docs}


async def _view(http: httpx.AsyncClient, ws: str) -> dict[str, Any]:
    """Everything the API shows about the room (timestamps included)."""
    base = f"/workspaces/{ws}"
    out: dict[str, Any] = {"workspaces": (await http.get("/workspaces")).json()}
    for part in ("folders", "documents", "groups", "permissions", "splash", "customfields"):
        out[part] = (await http.get(f"{base}/{part}")).json()
    for group in out["groups"]["group"]:
        out[group["id"]] = (await http.get(f"{base}/groups/{group['id']}/members")).json()
    out["content"] = [
        (await http.get(f"{base}/documents/{d['id']}/download")).content
        for d in out["documents"]["document"]
    ]
    return out


async def test_metadata_and_content_survive_a_restart(tmp_path: Path) -> None:
    async with _session(tmp_path) as (http, emu):
        built = await _build_room(http)
        emu.seed_custom_fields(
            built["ws"], [{"name": "Region", "type": "SELECT", "options": ["EU"]}]
        )
        before = await _view(http, built["ws"])
        docs = emu.room.workspaces[built["ws"]].documents.values()
        stamped = [d.meta["lastAccessedOn"] for d in docs]
    async with _session(tmp_path) as (http, emu):
        after = await _view(http, built["ws"])
        assert after == before | {"documents": after["documents"]}
        # downloads stamp lastAccessedOn: the stamps of before's downloads were kept
        stamps = [d.pop("lastAccessedOn") for d in after["documents"]["document"]]
        assert stamps == stamped
        for d in before["documents"]["document"]:
            d.pop("lastAccessedOn")
        assert after["documents"] == before["documents"]
        assert [d["name"] for d in after["documents"]["document"]] == ["d0.txt", "renamed.txt"]
        assert after["content"] == [b"content 0", b"content 1"]
        # ids go on from where they were; listing by folder still works
        new = (await http.post("/workspaces", json={"name": "Next"})).json()["id"]
        assert int(new) > max(int(d) for d in built["docs"])
        folder = after["documents"]["document"][0]["folderId"]
        listed = (await http.get(f"/workspaces/{built['ws']}/documents?folderId={folder}")).json()
        assert len(listed["document"]) == 2
    assert sorted(p.name for p in (tmp_path / "blobs").iterdir()) == sorted(
        Path(emu.room.workspaces[built["ws"]].documents[d].blob.path).name
        for d in emu.room.workspaces[built["ws"]].documents
    )


async def test_a_restart_without_close_keeps_every_answered_request(tmp_path: Path) -> None:
    # The journal is written before each answer: an emulator that dies uncleanly
    # (simulated by opening a second app after releasing the first one's lock only)
    async with _session(tmp_path) as (http, emu):
        built = await _build_room(http)
        before = await _view(http, built["ws"])
        assert emu.persistence is not None
        emu.persistence.files.close()  # drop the lock, skip the final snapshot
        emu.persistence = None
        journal = (tmp_path / "state" / "journal.jsonl").read_bytes()
        assert journal.count(b"\n") > 10
    async with _session(tmp_path) as (http, _):
        after = await _view(http, built["ws"])
    assert after["folders"] == before["folders"]
    assert after["groups"] == before["groups"]
    assert after["content"] == before["content"]


async def test_a_torn_journal_line_is_dropped(tmp_path: Path) -> None:
    async with _session(tmp_path) as (http, emu):
        ws = (await http.post("/workspaces", json={"name": "Kept"})).json()["id"]
        assert emu.persistence is not None
        emu.persistence.files.close()
        emu.persistence = None
    journal = tmp_path / "state" / "journal.jsonl"
    with open(journal, "ab") as fh:
        fh.write(b'{"k":"ws","w":"9","i":"9","v":{"meta":')  # killed mid-write
    async with _session(tmp_path) as (http, _):
        names = [w["name"] for w in (await http.get("/workspaces")).json()["workspace"]]
        assert names == ["Kept"]
        assert (await http.get(f"/workspaces/{ws}")).status_code == 200


def test_a_corrupt_snapshot_is_a_clear_error(tmp_path: Path) -> None:
    create_app(data_dir=tmp_path).state.emulator.close()
    (tmp_path / "state" / "snapshot.jsonl").write_bytes(b"\x00\xffgarbage\n")
    with pytest.raises(DataDirError, match="corrupt"):
        create_app(data_dir=tmp_path)
    (tmp_path / "state" / "snapshot.jsonl").write_text(json.dumps({"k": "ws", "w": "1"}) + "\n")
    with pytest.raises(DataDirError, match="unreadable state record"):
        create_app(data_dir=tmp_path)


def test_one_emulator_per_data_dir(tmp_path: Path) -> None:
    first = create_app(data_dir=tmp_path)
    with pytest.raises(DataDirError, match="in use"):
        create_app(data_dir=tmp_path)
    first.state.emulator.close()
    create_app(data_dir=tmp_path).state.emulator.close()  # released on close


def test_missing_content_and_orphan_files_are_reconciled(tmp_path: Path) -> None:
    emu: Emulator = create_app(data_dir=tmp_path).state.emulator
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    lost = emu.seed_document(ws, folder, "lost.txt", b"1")
    kept = emu.seed_document(ws, folder, "kept.txt", b"2")
    lost_path = Path(emu.document_path(ws, lost))
    emu.close()
    lost_path.unlink()
    (tmp_path / "blobs" / "orphan").write_bytes(b"from a crash between write and journal")
    (tmp_path / "tmp" / "x.part").write_bytes(b"partial upload")
    emu = create_app(data_dir=tmp_path).state.emulator
    assert list(emu.room.workspaces[ws].documents) == [kept]
    assert not (tmp_path / "blobs" / "orphan").exists()
    assert list((tmp_path / "tmp").iterdir()) == []
    emu.close()


def test_close_keeps_a_given_dir_and_leaves_no_orphans(tmp_path: Path) -> None:
    emu: Emulator = create_app(data_dir=tmp_path).state.emulator
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    emu.seed_document(ws, folder, "a.bin", b"a")
    doc = emu.seed_document(ws, folder, "b.bin", b"b")
    emu.replace_document_content(ws, doc, b"bb")  # the old content file goes
    (tmp_path / "keep.txt").write_text("the user's own file")
    emu.close()
    blobs = list((tmp_path / "blobs").iterdir())
    assert len(blobs) == 2
    assert sorted(p.read_bytes() for p in blobs) == [b"a", b"bb"]
    assert (tmp_path / "keep.txt").read_text() == "the user's own file"


def test_long_journals_are_compacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import intralinks_async.testing._persist as persist

    monkeypatch.setattr(persist, "COMPACT_AFTER", 20)
    assert COMPACT_AFTER > 20
    emu: Emulator = create_app(data_dir=tmp_path).state.emulator
    ids = emu.seed_workspaces(1)
    for i in range(60):
        emu.seed_folder(ids[0], f"F{i}")
    assert emu.persistence is not None
    assert emu.persistence.files.journal_lines <= 20 + emu.persistence.files.snapshot_lines + 2
    emu.close()
    emu = create_app(data_dir=tmp_path).state.emulator
    assert len(emu.room.workspaces[ids[0]].folders) == 60
    emu.close()


def test_temporary_data_is_not_persisted() -> None:
    emu: Emulator = create_app().state.emulator
    assert emu.persistence is None and emu.room.dirty is None
    root = emu.store.root
    emu.seed_workspaces(1)
    emu.close()
    assert not root.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "intralinks_async.testing._cli", "--port", str(port),
           "--data-dir", str(data_dir), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/_emulator/stats")
            return proc, base
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(proc.communicate()[1].decode()) from None
            time.sleep(0.05)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_cli_with_data_dir_keeps_its_rooms(tmp_path: Path, stop: signal.Signals) -> None:
    proc, base = _start(tmp_path)
    try:
        token = httpx.post(base + "/oauth/token", data=CREDS).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        ws = httpx.post(base + "/workspaces", json={"name": "Long-lived"}, headers=h).json()["id"]
        folder = httpx.post(f"{base}/workspaces/{ws}/folders", json={"name": "F"}, headers=h)
        httpx.post(
            f"{base}/workspaces/{ws}/documents",
            files={"file": ("a.txt", b"kept")},
            data={"folderId": folder.json()["id"]},
            headers=h,
        )
    finally:
        os.kill(proc.pid, stop)
        proc.wait(timeout=30)
    proc, base = _start(tmp_path)
    try:
        token = httpx.post(base + "/oauth/token", data=CREDS).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        docs = httpx.get(f"{base}/workspaces/{ws}/documents", headers=h).json()["document"]
        assert [d["name"] for d in docs] == ["a.txt"]
        r = httpx.get(f"{base}/workspaces/{ws}/documents/{docs[0]['id']}/download", headers=h)
        assert r.content == b"kept"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
