"""Long local work in worker threads (hashing a big file, scanning a big tree) stops on cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import pytest

from intralinks_async.transfers import upload as upload_mod
from intralinks_async.transfers import walk as walk_mod


class _Cancelling:
    """Counts calls and cancels ``scope`` (from the worker thread) on the second one."""

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.calls = 0

    def tick(self) -> None:
        self.calls += 1
        if self.calls == 2:
            anyio.from_thread.run_sync(self.scope.cancel)


async def test_hashing_a_big_file_stops_when_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.bin"
    path.write_bytes(b"x" * 1000)
    probe = _Cancelling()

    class SlowFile:
        def __init__(self, *_: Any) -> None:
            pass

        def __enter__(self) -> SlowFile:
            return self

        def __exit__(self, *_: object) -> None:
            return None

        def read(self, n: int = -1) -> bytes:
            probe.tick()
            return b"y" * 10 if probe.calls < 10_000 else b""

    monkeypatch.setattr(upload_mod, "open", SlowFile, raising=False)
    with probe.scope:
        await upload_mod.hash_file(path)
    assert probe.scope.cancelled_caught
    assert probe.calls < 10


async def test_scanning_a_big_tree_stops_when_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = tmp_path
    for i in range(30):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)
    probe = _Cancelling()
    real = walk_mod._kind

    def kind(entry: Any) -> Any:
        probe.tick()
        return real(entry)

    monkeypatch.setattr(walk_mod, "_kind", kind)
    with probe.scope:
        await walk_mod.scan_tree(tmp_path)
    assert probe.scope.cancelled_caught
    assert probe.calls < 10


async def test_preparing_many_mirror_directories_stops_when_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    dt = importlib.import_module("intralinks_async.transfers.download_tree")
    probe = _Cancelling()
    real = dt.safe_join

    def join(*args: Any) -> Any:
        probe.tick()
        return real(*args)

    monkeypatch.setattr(dt, "safe_join", join)
    dirs = [(f"d{i}",) for i in range(50)]
    with probe.scope:
        await anyio.to_thread.run_sync(dt._prepare_dirs, tmp_path, dirs)
    assert probe.scope.cancelled_caught
    assert probe.calls < 10
