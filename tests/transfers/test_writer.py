"""The temporary-file writer: positional writes, atomic rename, nothing left on failure."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from intralinks_async.transfers.names import is_temp_name
from intralinks_async.transfers.writer import AtomicFileWriter


async def test_out_of_order_writes_then_commit(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    async with AtomicFileWriter(dest) as w:
        assert is_temp_name(w.temp_path.name)
        await w.write_at(6, b"world")
        await w.write_at(0, b"hello ")
        assert not dest.exists()
        await w.commit()
    assert dest.read_bytes() == b"hello world"
    assert os.listdir(tmp_path) == ["out.bin"]
    assert (dest.stat().st_mode & 0o777) == 0o600


async def test_failure_removes_temp_and_keeps_existing_file(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"previous")
    with pytest.raises(RuntimeError):
        async with AtomicFileWriter(dest) as w:
            await w.write_at(0, b"partial")
            raise RuntimeError("network gone")
    assert dest.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["out.bin"]


async def test_cancellation_removes_temp(tmp_path: Path) -> None:
    dest = tmp_path / "out.bin"
    with anyio.move_on_after(0.05):
        async with AtomicFileWriter(dest) as w:
            await w.write_at(0, b"x" * 1000)
            await anyio.sleep(5)
    assert os.listdir(tmp_path) == []


async def test_no_commit_means_no_file(tmp_path: Path) -> None:
    async with AtomicFileWriter(tmp_path / "a") as w:
        await w.write_at(0, b"data")
    assert os.listdir(tmp_path) == []
