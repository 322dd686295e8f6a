"""Memory stays bounded by the window, not by the number of files or folders."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.transfers import _remote_index, walk

from .conftest import connect, new_workspace, remote_documents, remote_folders, served

# The package re-exports the function upload_tree under the module's name.
upload_tree_mod = importlib.import_module("intralinks_async.transfers.upload_tree")


async def test_walk_of_a_flat_directory_is_lazy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(300):
        (tmp_path / f"f{i:03}.txt").write_bytes(b"x")
    created = 0
    real = walk.LocalFile

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal created
        created += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(walk, "LocalFile", counting)
    tree = await walk.scan_tree(tmp_path)
    assert tree.file_count == 300
    files = walk.iter_files(tree)
    first = await anext(files)
    assert first.name.startswith("f")
    # Only one batch of the directory is materialised, not the whole directory.
    assert created <= walk.BATCH < 300
    rest = [item async for item in files]
    assert sorted(i.name for i in [first, *rest]) == [f"f{i:03}.txt" for i in range(300)]


async def test_remote_document_cache_is_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "room"
    for d in range(40):
        (src / f"d{d:02}").mkdir(parents=True)
        for f in range(2):
            (src / f"d{d:02}" / f"f{f}.txt").write_bytes(b"%d" % (d * 10 + f))
    peak = 0

    class Spy(_remote_index.DocumentIndex):
        async def same_name(self, folder_id: str, name: str) -> list[Any]:
            nonlocal peak
            result = await super().same_name(folder_id, name)
            peak = max(peak, self.cached_folders)
            return result

    monkeypatch.setattr(upload_tree_mod, "DocumentIndex", Spy)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws, concurrency=2)
            assert report.ok and report.succeeded == 80
            assert len(remote_documents(app, ws)) == 80
            again = await client.transfers.upload_tree(src, ws, concurrency=2)
            assert again.ok and again.skipped == 80
    assert 0 < peak <= upload_tree_mod.cached_folder_limit(2) < 40


async def test_lost_folder_creates_share_listings_and_never_duplicate(tmp_path: Path) -> None:
    src = tmp_path / "room"
    for d in range(24):
        (src / f"d{d:02}").mkdir(parents=True)
        (src / f"d{d:02}" / "f.txt").write_bytes(b"%d" % d)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            parent = emu.seed_folder(ws, "target")
            # Each create is processed, then its answer is lost: the folder may exist.
            emu.inject_fault("drop", 24, operation="createFolder")
            report = await client.transfers.upload_tree(
                src, ws, parent_folder_id=parent, concurrency=8
            )
            assert report.ok, report.failures
            assert report.succeeded == 24
            names = [(f.get("parentId"), f["name"]) for f in remote_folders(app, ws)]
            assert len(names) == len(set(names)) == 25
            # Failures in flight together share a workspace listing: fewer listings than
            # failures (the exact number of waves depends on scheduling, so no tighter bound).
            assert emu.requests["listFolders"] < 1 + 24


async def test_failures_do_not_keep_file_contents_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import types

    from intralinks_async import IntralinksClient, RetryPolicy

    src = tmp_path / "room"
    src.mkdir()
    for i in range(8):
        (src / f"f{i:02}.bin").write_bytes(os.urandom(256 * 1024))
    with served() as (app, url):
        async with IntralinksClient(
            url, client_id="demo", client_secret="demo-secret", retry=RetryPolicy(max_retries=0)
        ) as client:
            ws = await new_workspace(client)
            app.state.emulator.inject_fault("503", 100_000, operation="uploadDocument")
            report = await client.transfers.upload_tree(src, ws, concurrency=4)
    assert report.failed == 8
    assert "503" in report.failures[0].message or "Service" in report.failures[0].message
    gc.collect()
    # A failure that kept its traceback would keep the upload's frames, and with them
    # the file's bytes (each failed file's content, for a mass failure).
    alive = [
        o
        for o in gc.get_objects()
        if isinstance(o, types.FrameType) and o.f_code.co_name in ("upload", "_upload_one")
    ]
    assert alive == []
