"""verify_tree against the in-process emulator: marks, counts, report shapes."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from intralinks_async import IntralinksClient
from intralinks_async._generated.models import Document, Folder, UploadDocumentBody
from intralinks_async._generated.types import File
from intralinks_async.models import Workspace
from intralinks_async.testing import create_app
from intralinks_async.transfers import verify as verify_module
from intralinks_async.transfers.names import local_to_remote
from intralinks_async.transfers.progress import ProgressEvent
from intralinks_async.transfers.verify import verify_tree

TREE = {
    "a.txt": b"alpha",
    "Agreement: Final.pdf": b"%PDF signed",
    "sub/b.txt": b"bravo" * 100,
    "sub/deeper/c.bin": bytes(range(256)),
    "Q3?.xlsx": b"",
}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[Any, IntralinksClient, str]]:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    try:
        async with IntralinksClient(
            "http://127.0.0.1", client_id="demo", client_secret="demo-secret", transport=transport
        ) as client:
            ws = await client.workspaces.create(body=Workspace(name="Falcon", type="ATC"))
            assert isinstance(ws.id, str)
            yield app, client, ws.id
    finally:
        app.state.emulator.close()


def _write_tree(root: Path) -> None:
    for rel, data in TREE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


async def _mirror(client: IntralinksClient, ws: str, root: Path) -> dict[str, str]:
    """Put ``root`` in the workspace as upload_tree does; returns {relative path: doc id}."""
    folder_ids: dict[Path, str] = {}

    async def folder(rel: Path) -> str:
        if rel not in folder_ids:
            parent = None if rel == Path(".") else await folder(rel.parent)
            name = local_to_remote(root.name if rel == Path(".") else rel.name)
            body = Folder(name=name) if parent is None else Folder(name=name, parent_id=parent)
            created = await client.folders.create(ws, body=body)
            assert isinstance(created.id, str)
            folder_ids[rel] = created.id
        return folder_ids[rel]

    ids: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        data = path.read_bytes()
        body = UploadDocumentBody(
            file=File(payload=data, file_name="x", size=len(data)),
            folder_id=await folder(rel.parent),
            name=local_to_remote(path.name),
        )
        doc = await client.documents.upload(ws, body=body)
        assert isinstance(doc.id, str)
        ids[rel.as_posix()] = doc.id
    return ids


async def test_identical_tree_is_ok(env: tuple[Any, IntralinksClient, str], tmp_path: Path) -> None:
    _app, client, ws = env
    root = tmp_path / "dataroom"
    _write_tree(root)
    await _mirror(client, ws, root)
    events: list[ProgressEvent] = []
    report = await verify_tree(client, root, ws, progress=events.append)
    assert report.ok, report.lines()
    assert report.lines() == [f"= {p}" for p in sorted(TREE)]
    assert report.counts == {
        "same": 5,
        "missing_remotely": 0,
        "only_remote": 0,
        "differs": 0,
        "errors": 0,
    }
    assert report.folder_id is not None  # the folder named after the local directory
    assert events[0].kind == "totals" and events[0].items_total == 5
    assert sum(e.kind == "finished" for e in events) == 5
    assert events[-1].bytes_done == sum(len(d) for d in TREE.values())
    events.clear()
    (root / "a.txt").write_bytes(b"changed size")  # cut short: no bytes hashed
    await verify_tree(client, root, ws, progress=events.append, download=True)
    assert (
        events[-1].bytes_done
        == events[-1].bytes_total
        == 2 * sum((root / p).stat().st_size for p in TREE)
    )
    (root / "a.txt").write_bytes(TREE["a.txt"])
    downloaded = await verify_tree(client, root, ws, download=True)
    assert downloaded.ok and all(e.detail == "downloaded and hashed" for e in downloaded.entries)


async def test_missing_extra_changed_and_renamed_documents(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path
) -> None:
    app, client, ws = env
    root = tmp_path / "dataroom"
    _write_tree(root)
    ids = await _mirror(client, ws, root)
    (root / "new local.txt").write_bytes(b"not uploaded")  # missing remotely
    (root / "sub" / "b.txt").write_bytes(b"BRAVO" * 100)  # changed, same size
    (root / "a.txt").write_bytes(b"alpha, longer")  # changed size
    renamed = Document(name=local_to_remote("Agreement: Final v2.pdf"))
    await client.documents.update(ws, ids["Agreement: Final.pdf"], body=renamed)
    extra_folder = app.state.emulator  # an extra document uploaded by someone else
    sub_id = next(
        f["id"] for f in extra_folder.room.workspace(ws).folders.values() if f["name"] == "sub"
    )
    await client.documents.upload(
        ws,
        body=UploadDocumentBody(
            file=File(payload=b"extra", file_name="x", size=5), folder_id=sub_id, name="extra.doc"
        ),
    )

    report = await verify_tree(client, root, ws)
    marks = {e.path: e.mark for e in report.entries}
    assert marks == {
        "Agreement: Final v2.pdf": "+",  # renamed remotely: the new name only remote...
        "Agreement: Final.pdf": "-",  # ...and the old one missing remotely
        "Q3?.xlsx": "=",
        "a.txt": "*",
        "new local.txt": "-",
        "sub/b.txt": "*",
        "sub/deeper/c.bin": "=",
        "sub/extra.doc": "+",
    }
    assert not report.ok
    details = {e.path: e.detail for e in report.entries}
    assert details["a.txt"] == "size 13 locally, 5 remotely"
    assert "server fileHash" in details["sub/b.txt"]
    assert report.counts == {
        "same": 2,
        "missing_remotely": 2,
        "only_remote": 2,
        "differs": 2,
        "errors": 0,
    }
    assert "- new local.txt" in report.lines() and "+ sub/extra.doc" in report.lines()
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and len(data["entries"]) == 8
    assert data["entries"][0] == {
        "mark": "+",
        "result": "only_remote",
        "path": "Agreement: Final v2.pdf",
        "detail": "",
        "size": len(TREE["Agreement: Final.pdf"]),
        "remote_id": ids["Agreement: Final.pdf"],
    }
    assert "differences found" in report.summary()


async def test_download_finds_bytes_that_no_longer_match_the_server_hash(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path
) -> None:
    app, client, ws = env
    root = tmp_path / "dataroom"
    _write_tree(root)
    ids = await _mirror(client, ws, root)
    stored = Path(app.state.emulator.document_path(ws, ids["sub/b.txt"]))
    stored.write_bytes(b"x" * stored.stat().st_size)  # silent corruption at rest
    assert (await verify_tree(client, root, ws)).ok  # metadata alone cannot see it
    report = await verify_tree(client, root, ws, download=True, concurrency=2)
    bad = [e for e in report.entries if e.mark != "="]
    assert [(e.mark, e.path) for e in bad] == [("*", "sub/b.txt")]
    assert "downloaded bytes" in bad[0].detail


async def test_local_problems_are_error_entries_and_the_rest_is_compared(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, client, ws = env
    root = tmp_path / "dataroom"
    _write_tree(root)
    await _mirror(client, ws, root)
    (root / "link").symlink_to(root / "a.txt")
    os.mkfifo(root / "pipe")
    unreadable = root / "sub" / "b.txt"
    unreadable.chmod(0)
    if os.access(unreadable, os.R_OK):  # privileged: file modes do not stop reads
        real = verify_module._sha1_file

        def refuse(path: str, size: int) -> str:
            if path == str(unreadable):
                raise PermissionError(13, "Permission denied", path)
            return real(path, size)

        monkeypatch.setattr(verify_module, "_sha1_file", refuse)
    try:
        report = await verify_tree(client, root, ws)
    finally:
        unreadable.chmod(0o644)
    marks = {e.path: (e.mark, e.detail) for e in report.entries}
    assert marks["link"] == ("!", "symbolic link (not compared)")
    assert marks["pipe"] == ("!", "special file (not compared)")
    assert marks["sub/b.txt"][0] == "!" and "PermissionError" in marks["sub/b.txt"][1]
    assert marks["a.txt"] == ("=", "")
    assert report.counts["errors"] == 3 and not report.ok


async def test_folder_id_and_workspace_root(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path
) -> None:
    _app, client, ws = env
    root = tmp_path / "dataroom"
    _write_tree(root)
    await _mirror(client, ws, root)
    folders = {f.name: f.id for f in await client.folders.list(ws)}
    sub = await verify_tree(client, root / "sub", ws, folder_id=folders["sub"])
    assert sub.ok and sub.lines() == ["= b.txt", "= deeper/c.bin"]
    mirror = tmp_path / "mirror"  # a download_tree mirror: dest/<uploaded dir>/...
    _write_tree(mirror / "dataroom")
    whole = await verify_tree(client, mirror, ws)
    assert whole.ok and whole.folder_id is None
    assert whole.lines()[0] == "= dataroom/Agreement: Final.pdf"
    with pytest.raises(ValueError, match="not a folder"):
        await verify_tree(client, root, ws, folder_id="no-such-folder")
    with pytest.raises(FileNotFoundError):
        await verify_tree(client, tmp_path / "absent", ws)


async def test_html_report_of_a_verification(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path
) -> None:
    _app, client, ws = env
    root = tmp_path / "dataroom"
    _write_tree(root)
    await _mirror(client, ws, root)
    (root / "<b>extra<i>.txt").write_bytes(b"x")
    report = await verify_tree(client, root, ws)
    out = tmp_path / "verify.html"
    report.write_html(out)
    page = out.read_text(encoding="utf-8")
    assert "&lt;b&gt;extra&lt;i&gt;.txt" in page and "<b>extra" not in page
    assert "missing_remotely" in page and "differences found" in page


class _FailingListing:
    """A client whose documents.list fails for one folder (the rest is the real client)."""

    def __init__(self, client: IntralinksClient, bad_folder: str) -> None:
        self.folders = client.folders
        self._docs = client.documents
        self._bad = bad_folder
        self.documents = self

    async def list(self, workspace_id: str, *, folder_id: str) -> list[Document]:
        if folder_id == self._bad:
            raise httpx.ReadError("connection reset")
        return await self._docs.list(workspace_id, folder_id=folder_id)


async def test_unlistable_remote_folder_and_unreadable_local_directory(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, client, ws = env
    root = tmp_path / "dataroom"
    _write_tree(root)
    await _mirror(client, ws, root)
    folders = {f.name: f.id for f in await client.folders.list(ws)}
    assert isinstance(folders["sub"], str)
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path).endswith(os.path.join("sub", "deeper")):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(verify_module.os, "scandir", scandir)
    report = await verify_tree(_FailingListing(client, folders["sub"]), root, ws)
    marks = {e.path: (e.mark, e.detail) for e in report.entries}
    assert marks["sub"][0] == "!" and "cannot list remote folder" in marks["sub"][1]
    assert marks["sub/deeper"][0] == "!" and "cannot list directory" in marks["sub/deeper"][1]
    assert "sub/b.txt" not in marks  # not reported missing: its folder could not be listed
    assert "sub/deeper/c.bin" not in marks  # nor only remote: its directory could not be read
    assert marks["a.txt"] == ("=", "")
    assert not report.ok and report.counts["errors"] == 2
