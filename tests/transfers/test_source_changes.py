"""Local files that change while they are being uploaded never become stored documents."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from intralinks_async.transfers import IntegrityError, ProgressEvent, SourceChangedError

from .conftest import connect, new_workspace, remote_documents, served

MiB = 1024 * 1024


@pytest.mark.parametrize("change", ["shrink", "grow", "rewrite"])
async def test_file_changing_during_streamed_upload_is_not_stored(
    tmp_path: Path, change: str
) -> None:
    src = tmp_path / "room"
    src.mkdir()
    big = src / "big.bin"
    big.write_bytes(os.urandom(3 * MiB))
    touched = False

    def progress(event: ProgressEvent) -> None:
        nonlocal touched
        if event.kind == "advanced" and event.item == "big.bin" and not touched:
            touched = True
            if change == "shrink":
                os.truncate(big, MiB + MiB // 2)
            elif change == "grow":
                with open(big, "ab") as fh:
                    fh.write(b"more" * 1000)
            else:
                with open(big, "r+b") as fh:
                    fh.seek(2 * MiB + 5)
                    fh.write(b"edited")
                st = big.stat()
                os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))

    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws, progress=progress)
            assert touched
            assert [f.path for f in report.failures] == ["big.bin"]
            error = report.failures[0].error
            assert isinstance(error, SourceChangedError) and isinstance(error, IntegrityError)
            assert "big.bin" in str(error) and "nothing was stored" in str(error)
            assert remote_documents(app, ws) == []


async def _agen(data: bytes, step: int = 200_000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i : i + step]


@pytest.mark.parametrize("declared", [MiB, 3 * MiB])
async def test_async_source_not_matching_declared_size_is_not_stored(declared: int) -> None:
    data = os.urandom(2 * MiB)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            folder = app.state.emulator.seed_folder(ws, "f")
            with pytest.raises(SourceChangedError, match="declared size"):
                await client.transfers.upload_file(
                    ws, folder, _agen(data), name="x.bin", size=declared
                )
            assert remote_documents(app, ws) == []
