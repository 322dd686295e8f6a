"""``upload_tree`` reads small files ahead, a walk batch per worker-thread hop."""

from __future__ import annotations

import base64
import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from intralinks_async.transfers import SourceChangedError
from intralinks_async.transfers.upload import read_ahead

from .conftest import build_tree, connect, new_workspace, remote_documents, served, tree_hashes

T = TypeVar("T")
# (the package's ``upload_tree`` is the function: the modules are taken by name)
upload = importlib.import_module("intralinks_async.transfers.upload")
upload_tree = importlib.import_module("intralinks_async.transfers.upload_tree")


def _count_hops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the per-file thread hops ``Uploader`` makes to read a small file."""
    hops: list[int] = []
    real = upload.run_short

    async def counting(func: Callable[[], T]) -> T:
        hops.append(1)
        return await real(func)

    monkeypatch.setattr(upload, "run_short", counting)
    return hops


async def _round_trip(tmp_path: Path, src: Path) -> tuple[Any, Any, dict[str, str]]:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws, concurrency=8, journal=None)
            back = tmp_path / "back"
            down = await client.transfers.download_tree(ws, back)
        assert down.ok, down.failures
        docs = remote_documents(app, ws)
    return report, docs, tree_hashes(back / src.name)


async def test_small_files_take_no_thread_hop_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "room"
    expected = build_tree(src, 60, big=0)
    hops = _count_hops(monkeypatch)
    report, docs, back = await _round_trip(tmp_path, src)
    assert report.ok and report.succeeded == 60
    assert hops == []  # every file came from the batch's read-ahead
    assert back == expected
    assert len(docs) == 60


async def test_files_past_the_budget_are_read_one_by_one_and_arrive_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "room"
    expected = build_tree(src, 60, big=0)
    monkeypatch.setattr(upload_tree, "READ_AHEAD_BYTES", 20_000)
    hops = _count_hops(monkeypatch)
    report, _docs, back = await _round_trip(tmp_path, src)
    assert report.ok and report.succeeded == 60
    assert 0 < len(hops) < 60  # some read ahead, the rest in a hop each
    assert back == expected


async def test_a_file_that_changed_after_the_walk_is_a_reported_failure_not_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "room"
    (src / "d").mkdir(parents=True)
    (src / "d" / "grows.txt").write_bytes(b"x" * 100)
    (src / "d" / "stays.txt").write_bytes(b"y" * 100)
    real = upload_tree.read_ahead

    def growing(paths: list[Any], **kwargs: Any) -> Any:
        with open(src / "d" / "grows.txt", "ab") as fh:
            fh.write(b"more")  # after the walk measured it, before it is read
        return real(paths, **kwargs)

    monkeypatch.setattr(upload_tree, "read_ahead", growing)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws)
        names = sorted(d["name"] for d in remote_documents(app, ws))
    assert names == ["stays.txt"]
    assert [f.path for f in report.failures] == ["d/grows.txt"]
    assert isinstance(report.failures[0].error, SourceChangedError)


def test_read_ahead_hashes_and_stops_at_the_budget(tmp_path: Path) -> None:
    files = []
    for i in range(5):
        path = tmp_path / f"f{i}"
        path.write_bytes(bytes([i]) * 1000)
        files.append(path)
    missing = tmp_path / "missing"
    listed = [(files[0], 1000), (missing, 5), (tmp_path, 0), *((f, 1000) for f in files[1:])]
    got = read_ahead(listed, sha256=True, budget=2500)
    assert got[1] is None and got[2] is None  # unreadable: left to the per-file path
    loaded = [g for g in got if g is not None]
    assert [g.data for g in loaded] == [bytes([i]) * 1000 for i in range(3)]
    assert got[5] is None and got[6] is None  # past the budget
    first = loaded[0]
    assert first.hashes.sha1_b64() == base64.b64encode(hashlib.sha1(first.data).digest()).decode(
        "ascii"
    )
    assert first.hashes.sha256 is not None
    assert first.hashes.sha256.hexdigest() == hashlib.sha256(first.data).hexdigest()
    plain = read_ahead([(files[0], 1000)], sha256=False, budget=10_000)[0]
    assert plain is not None and plain.hashes.sha256 is None
    # A file no longer of its walked size is read up to one byte more (then refused).
    (grown,) = read_ahead([(files[1], 10)], sha256=False, budget=10_000)
    assert grown is not None and grown.data == bytes([1]) * 11


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_put_in_place_of_a_walked_file_does_not_block_the_read(tmp_path: Path) -> None:
    fifo = tmp_path / "was-a-file"
    os.mkfifo(fifo)
    (got,) = read_ahead([(fifo, 10)], sha256=False, budget=10_000)
    assert got is not None and got.data == b""  # a size change: the upload refuses it
