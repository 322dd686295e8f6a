"""Local files that change while they are being uploaded never become stored documents."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.testing import create_app, serve_in_thread
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


def _corrupting_upload_answers(app: Any) -> Any:
    """Pretend the server stored other bytes: the upload's answer carries another fileHash."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or not scope["path"].endswith("/documents")
        ):
            await app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            payload = json.loads(body)
            payload["fileHash"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
            data = json.dumps(payload).encode()
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(data)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": data})

        await app(scope, receive, capture)

    return wrapped


async def test_document_stored_with_other_content_is_removed_not_left_looking_complete(
    tmp_path: Path,
) -> None:
    app = create_app(retry_after=0)
    try:
        with serve_in_thread(_corrupting_upload_answers(app)) as url:
            async with connect(url) as client:
                ws = await new_workspace(client)
                folder = app.state.emulator.seed_folder(ws, "f")
                with pytest.raises(IntegrityError, match="removed"):
                    await client.transfers.upload_file(ws, folder, b"q" * 5000, name="q.txt")
                assert remote_documents(app, ws) == []
    finally:
        app.state.emulator.close()
