"""A server without ETag/Last-Modified: a document changing mid-download is never spliced."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.testing import create_app, serve_in_thread
from intralinks_async.transfers import DocumentChangedError, IntegrityError, ProgressEvent
from intralinks_async.transfers._api import RemoteAPI
from intralinks_async.transfers.download import FileDownload

from .conftest import connect, new_workspace

MiB = 1024 * 1024


def _strip_validators(app: Any) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def strip(message: Any) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"etag", b"last-modified")
                ]
            await send(message)

        await app(scope, receive, strip)

    return wrapped


@contextmanager
def _served_without_validators() -> Iterator[tuple[Any, str]]:
    app = create_app(retry_after=0)
    try:
        with serve_in_thread(_strip_validators(app)) as url:
            yield app, url
    finally:
        app.state.emulator.close()


async def test_ranged_download_without_validator_never_splices(tmp_path: Path) -> None:
    old, new = os.urandom(2 * MiB), os.urandom(2 * MiB)
    with _served_without_validators() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            doc = emu.seed_document(ws, emu.seed_folder(ws, "f"), "d.bin", old)
            replaced = False

            def progress(event: ProgressEvent) -> None:
                nonlocal replaced
                if event.kind == "advanced" and not replaced:
                    replaced = True
                    emu.replace_document_content(ws, doc, new)

            out = tmp_path / "d.bin"
            try:
                await client.transfers.download_file(
                    ws,
                    doc,
                    out,
                    chunk_size=128 * 1024,
                    concurrency=4,
                    verify=False,
                    progress=progress,
                )
            except DocumentChangedError:
                assert not out.exists()
            else:
                assert out.read_bytes() in (old, new)
            assert replaced
            assert [p.name for p in tmp_path.iterdir()] in ([], ["d.bin"])


async def test_stream_without_validator_refuses_to_resume_after_a_drop() -> None:
    old, new = os.urandom(3 * MiB), os.urandom(3 * MiB)
    with _served_without_validators() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            doc = emu.seed_document(ws, emu.seed_folder(ws, "f"), "d.bin", old)
            emu.inject_fault("drop", 1, operation="downloadDocument")
            got = bytearray()
            with pytest.raises(DocumentChangedError, match="ETag"):
                async with aclosing(client.transfers.iter_document_bytes(ws, doc)) as chunks:
                    async for chunk in chunks:
                        if not got:
                            emu.replace_document_content(ws, doc, new)
                        got += chunk
            assert bytes(got) == old[: len(got)]


async def test_without_validator_file_hash_keeps_ranges_and_catches_a_change(
    tmp_path: Path,
) -> None:
    old, new = os.urandom(MiB), os.urandom(MiB)
    with _served_without_validators() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            doc = emu.seed_document(ws, emu.seed_folder(ws, "f"), "d.bin", old)
            result = await client.transfers.download_file(
                ws, doc, tmp_path / "a.bin", chunk_size=128 * 1024
            )
            assert result.ranged and (tmp_path / "a.bin").read_bytes() == old
            stale = await client.documents.get(ws, doc)
            emu.replace_document_content(ws, doc, new)  # same size, other bytes
            with pytest.raises(IntegrityError):
                await FileDownload(
                    RemoteAPI(client), ws, doc, tmp_path / "b.bin", chunk_size=128 * 1024
                ).run(document=stale)
            assert not (tmp_path / "b.bin").exists()
