"""Small documents (up to 1 MiB) are read whole in one request, never trusted blindly."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.testing import create_app, serve_in_thread
from intralinks_async.transfers import IntegrityError

from .conftest import connect, new_workspace

ASGI = Callable[[Any, Any, Any], Awaitable[None]]


def _is_download(scope: Any) -> bool:
    return scope["type"] == "http" and str(scope["path"]).endswith("/download")


def _headers(scope: Any) -> dict[str, str]:
    return {k.decode().lower(): v.decode() for k, v in scope["headers"]}


async def _answer(send: Any, body: bytes, *, length: bool, pieces: int = 1) -> None:
    headers = [(b"content-type", b"application/octet-stream")]
    if length:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    step = max(1, -(-len(body) // pieces))
    for start in range(0, len(body), step):
        await send(
            {"type": "http.response.body", "body": body[start : start + step], "more_body": True}
        )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _seed(client: Any, app: Any, data: bytes) -> tuple[str, str]:
    ws = await new_workspace(client)
    emu = app.state.emulator
    folder = emu.seed_folder(ws, "docs")
    return ws, emu.seed_document(ws, folder, "small.bin", data)


async def test_small_document_is_one_whole_request_in_identity(tmp_path: Path) -> None:
    app = create_app()
    seen: list[dict[str, str]] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if _is_download(scope):
            seen.append(_headers(scope))
        await app(scope, receive, send)

    data = os.urandom(200_000)
    with serve_in_thread(recording) as url:
        async with connect(url) as client:
            ws, doc = await _seed(client, app, data)
            result = await client.transfers.download_file(ws, doc, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert result.size == len(data) and not result.ranged
    assert len(seen) == 1
    assert "range" not in seen[0]
    assert seen[0]["accept-encoding"] == "identity"
    app.state.emulator.close()


@pytest.mark.parametrize("extra", [1, 3 * 1024 * 1024], ids=["one-byte", "3-MiB"])
async def test_small_document_longer_than_its_size_leaves_nothing(
    tmp_path: Path, extra: int
) -> None:
    """A body without Content-Length that runs past fileSize (even past the 1 MiB bound
    of a small read) is an IntegrityError, and no file is written."""
    app = create_app()
    data = os.urandom(5000)

    async def longer(scope: Any, receive: Any, send: Any) -> None:
        if _is_download(scope):
            await _answer(send, data + b"x" * extra, length=False, pieces=8)
            return
        await app(scope, receive, send)

    with serve_in_thread(longer) as url:
        async with connect(url) as client:
            ws, doc = await _seed(client, app, data)
            with pytest.raises(IntegrityError, match="more bytes than its fileSize"):
                await client.transfers.download_file(ws, doc, tmp_path / "out.bin")
    assert os.listdir(tmp_path) == []
    app.state.emulator.close()


async def test_small_document_cut_short_is_asked_for_again(tmp_path: Path) -> None:
    """A body that ends early without an error (no Content-Length) is fetched again whole."""
    app = create_app()
    data = os.urandom(9000)
    answers = 0

    async def cut_once(scope: Any, receive: Any, send: Any) -> None:
        nonlocal answers
        if _is_download(scope):
            answers += 1
            if answers == 1:
                await _answer(send, data[:4000], length=False)
                return
        await app(scope, receive, send)

    with serve_in_thread(cut_once) as url:
        async with connect(url) as client:
            ws, doc = await _seed(client, app, data)
            await client.transfers.download_file(ws, doc, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert answers == 2
    app.state.emulator.close()


async def test_small_document_always_cut_short_fails_without_a_file(tmp_path: Path) -> None:
    app = create_app()
    data = os.urandom(9000)
    answers = 0

    async def always_cut(scope: Any, receive: Any, send: Any) -> None:
        nonlocal answers
        if _is_download(scope):
            answers += 1
            await _answer(send, data[:100], length=False)
            return
        await app(scope, receive, send)

    with serve_in_thread(always_cut) as url:
        async with connect(url) as client:
            ws, doc = await _seed(client, app, data)
            with pytest.raises(Exception, match="ended early"):
                await client.transfers.download_file(ws, doc, tmp_path / "out.bin")
    assert os.listdir(tmp_path) == []
    assert 2 <= answers <= 10  # asked again a bounded number of times
    app.state.emulator.close()
