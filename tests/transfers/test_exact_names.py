"""Exact names up and back, renamings reported, the manifest, dry runs."""

from __future__ import annotations

import hashlib
import importlib
import os
from pathlib import Path

import pytest

from intralinks_async.errors import BadRequestError
from intralinks_async.models import Folder
from intralinks_async.transfers.manifest import read_manifest
from intralinks_async.transfers.names import REMOTE_FORBIDDEN

from .conftest import connect, new_workspace, remote_documents, remote_folders, served, tree_hashes

download_tree_module = importlib.import_module("intralinks_async.transfers.download_tree")

HARD_NAMES = [
    "Agreement: Final.pdf",
    'a"b.txt',
    "Q3?.xlsx",
    "CON.txt",
    "A.txt",
    "a.txt",
    "trailing space ",
    "pipe|star*<lt>gt.doc",
    "\uff46\uff55\uff4c\uff4c\uff1aalready.txt",  # lookalikes already in the name
]


def _hard_tree(root: Path) -> None:
    (root / "Q3: Board <draft>").mkdir(parents=True)
    for i, name in enumerate(HARD_NAMES):
        (root / name).write_bytes(f"{i} {name}".encode())
        (root / "Q3: Board <draft>" / name).write_bytes(f"inner {i}".encode())


async def test_names_round_trip_exactly_through_the_emulator(tmp_path: Path) -> None:
    src = tmp_path / "room"
    _hard_tree(src)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            # The emulator refuses what the service forbids, as the service does...
            with pytest.raises(BadRequestError):
                await client.folders.create(ws, body=Folder(name="Q3: Board"))
            # ...and the SDK maps it on the way up.
            up = await client.transfers.upload_tree(src, ws)
            assert up.ok, up.failures
            stored = [d["name"] for d in remote_documents(app, ws)]
            stored += [f["name"] for f in remote_folders(app, ws)]
            assert not [n for n in stored if set(n) & set(REMOTE_FORBIDDEN)]
            renamed = dict(up.renamed)
            assert "Agreement: Final.pdf" in renamed and "A.txt" not in renamed
            assert "Q3: Board <draft>/" in renamed
            assert renamed["Q3: Board <draft>/Q3?.xlsx"] != "Q3: Board <draft>/Q3?.xlsx"
            mirror = tmp_path / "mirror"
            down = await client.transfers.download_tree(ws, mirror)
            assert down.ok, down.failures
            assert down.renamed == []  # mapped back exactly: nothing to report
    assert tree_hashes(mirror / "room") == tree_hashes(src)
    assert sorted(os.listdir(mirror / "room")) == sorted(os.listdir(src))


async def test_case_twins_are_renamed_only_on_a_case_insensitive_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            emu.seed_document(ws, folder, "A.txt", b"upper")
            emu.seed_document(ws, folder, "a.txt", b"lower")
            exact = await client.transfers.download_tree(ws, tmp_path / "exact")
            assert exact.ok and exact.renamed == []
            assert sorted(os.listdir(tmp_path / "exact" / "f")) == ["A.txt", "a.txt"]
            monkeypatch.setattr(download_tree_module, "fs_is_case_insensitive", lambda d: True)
            folded = await client.transfers.download_tree(ws, tmp_path / "folded")
            assert folded.ok
            assert sorted(os.listdir(tmp_path / "folded" / "f")) == ["A.txt", "a (2).txt"]
            assert folded.renamed == [("f/a (2).txt", "f/a.txt")]


async def test_single_file_transfers_map_names_both_ways(tmp_path: Path) -> None:
    src = tmp_path / "Agreement: Final.pdf"
    src.write_bytes(b"%PDF final")
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            folder = app.state.emulator.seed_folder(ws, "f")
            doc = await client.transfers.upload_file(ws, folder, src)
            assert isinstance(doc.name, str) and ":" not in doc.name
            named = await client.transfers.upload_file(ws, folder, b"q", name="Q3?.xlsx")
            assert isinstance(named.name, str) and "?" not in named.name
            out = tmp_path / "out"
            out.mkdir()
            got = await client.transfers.download_file(ws, doc.id, out)
            assert got.path.name == "Agreement: Final.pdf"
            assert got.path.read_bytes() == b"%PDF final"


async def test_manifest_records_every_item_of_a_1000_file_migration(tmp_path: Path) -> None:
    src = tmp_path / "room"
    hashes: dict[str, str] = {}
    for i in range(1000):
        rel = f"d{i % 7}/file {i:04}.bin"
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = os.urandom(1 + i % 3000)
        path.write_bytes(data)
        hashes[rel] = hashlib.sha256(data).hexdigest()
    up_manifest = tmp_path / "up.jsonl"
    down_manifest = tmp_path / "down.jsonl"
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            up = await client.transfers.upload_tree(src, ws, concurrency=16, manifest=up_manifest)
            assert up.ok and up.succeeded == 1000
            down = await client.transfers.download_tree(
                ws, tmp_path / "mirror", concurrency=16, manifest=down_manifest
            )
            assert down.ok and down.succeeded == 1000
            server_ids = {d["id"] for d in remote_documents(app, ws)}
    ups = list(read_manifest(up_manifest, strict=True))
    assert len(ups) == 1000
    assert {r.local_path: r.sha256 for r in ups} == hashes
    assert {r.result for r in ups} == {"uploaded"}
    assert {r.remote_id for r in ups} == server_ids
    assert all(r.server_hash and r.started_at and r.ended_at and r.size for r in ups)
    downs = list(read_manifest(down_manifest, strict=True))
    assert len(downs) == 1000 and {r.result for r in downs} == {"downloaded"}
    assert {r.local_path.removeprefix("room/"): r.sha256 for r in downs} == hashes


async def test_dry_run_sends_nothing_that_changes_the_workspace(tmp_path: Path) -> None:
    src = tmp_path / "room"
    _hard_tree(src)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            plan = await client.transfers.upload_tree(src, ws, dry_run=True)
            assert plan.dry_run and plan.ok
            assert plan.succeeded == 2 * len(HARD_NAMES)
            assert any(line.startswith("create folder") for line in plan.planned)
            assert emu.requests["createFolder"] == emu.requests["uploadDocument"] == 0
            assert remote_documents(app, ws) == [] and remote_folders(app, ws) == []
            await client.transfers.upload_tree(src, ws)
            mirror = tmp_path / "mirror"
            down_plan = await client.transfers.download_tree(ws, mirror, dry_run=True)
            assert down_plan.dry_run and down_plan.succeeded == 2 * len(HARD_NAMES)
            assert emu.requests["downloadDocument"] == 0
            assert not mirror.exists() or not any(mirror.rglob("*"))
