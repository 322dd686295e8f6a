"""Single-file transfers: ranged downloads, fallbacks, changes mid-download, upload sources."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.transfers import (
    DocumentChangedError,
    IntegrityError,
    ProgressEvent,
    SourceNotReplayableError,
)
from intralinks_async.transfers.names import is_temp_name

from .conftest import connect, new_workspace, remote_documents, served

MiB = 1024 * 1024


def _listing(path: Path) -> list[str]:
    return sorted(os.listdir(path))


async def _seeded(app: object, client: object, size: int, seed: int = 0) -> tuple[str, str, bytes]:
    ws = await new_workspace(client)  # type: ignore[arg-type]
    emu = app.state.emulator  # type: ignore[attr-defined]
    folder = emu.seed_folder(ws, "docs")
    data = os.urandom(size) if seed == 0 else bytes(range(256)) * (size // 256)
    doc = emu.seed_document(ws, folder, "big.bin", data)
    return ws, doc, data


async def test_ranged_download_with_drops_resumes_missing_bytes(tmp_path: Path) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws, doc, data = await _seeded(app, client, 3 * MiB + 123)
            emu = app.state.emulator
            emu.inject_fault("drop", 3, operation="downloadDocument")
            events: list[ProgressEvent] = []
            result = await client.transfers.download_file(
                ws,
                doc,
                tmp_path / "out.bin",
                chunk_size=256 * 1024,
                concurrency=4,
                progress=events.append,
            )
            assert result.ranged
            assert (tmp_path / "out.bin").read_bytes() == data
            assert result.size == len(data)
            assert _listing(tmp_path) == ["out.bin"]
            assert events[-1].kind == "finished" and events[-1].bytes_done == len(data)
            assert emu.faults.injected["drop"] == 3


async def test_download_into_directory_uses_sanitised_name(tmp_path: Path) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            doc = emu.seed_document(ws, folder, "../../evil.txt", b"payload")
            result = await client.transfers.download_file(ws, doc, tmp_path)
            assert result.path.parent == tmp_path
            assert result.path.read_bytes() == b"payload"


async def test_server_ignoring_range_falls_back_to_one_stream(tmp_path: Path) -> None:
    with served(ranges=False) as (app, url):
        async with connect(url) as client:
            ws, doc, data = await _seeded(app, client, 2 * MiB + 5)
            app.state.emulator.inject_fault("drop", 1, operation="downloadDocument")
            result = await client.transfers.download_file(
                ws, doc, tmp_path / "out.bin", chunk_size=128 * 1024, concurrency=4
            )
            assert not result.ranged
            assert (tmp_path / "out.bin").read_bytes() == data
            assert _listing(tmp_path) == ["out.bin"]


async def test_empty_document(tmp_path: Path) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            doc = emu.seed_document(ws, emu.seed_folder(ws, "f"), "empty", b"")
            result = await client.transfers.download_file(ws, doc, tmp_path / "e")
            assert result.size == 0 and (tmp_path / "e").read_bytes() == b""


async def test_document_replaced_mid_download_is_detected(tmp_path: Path) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws, doc, data = await _seeded(app, client, 4 * MiB)
            emu = app.state.emulator
            replaced = False

            def progress(event: ProgressEvent) -> None:
                nonlocal replaced
                if event.kind == "advanced" and not replaced:
                    replaced = True
                    emu.replace_document_content(ws, doc, os.urandom(4 * MiB))

            with pytest.raises(DocumentChangedError):
                await client.transfers.download_file(
                    ws,
                    doc,
                    tmp_path / "out.bin",
                    chunk_size=256 * 1024,
                    concurrency=2,
                    progress=progress,
                )
            assert replaced
            assert _listing(tmp_path) == []


async def test_hash_mismatch_leaves_no_file(tmp_path: Path) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws, doc, data = await _seeded(app, client, MiB)
            emu = app.state.emulator
            # Corrupt the stored bytes behind the server's back: same size, other content.
            path = emu.document_path(ws, doc)
            with open(path, "r+b") as fh:
                fh.seek(1000)
                fh.write(b"X" * 10)
            with pytest.raises(IntegrityError):
                await client.transfers.download_file(
                    ws, doc, tmp_path / "out.bin", chunk_size=256 * 1024
                )
            assert _listing(tmp_path) == []


async def test_iter_document_bytes_resumes_after_drop() -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws, doc, data = await _seeded(app, client, MiB + 17)
            app.state.emulator.inject_fault("drop", 1, operation="downloadDocument")
            sha = hashlib.sha256()
            async with aclosing(client.transfers.iter_document_bytes(ws, doc)) as chunks:
                async for chunk in chunks:
                    sha.update(chunk)
            assert sha.digest() == hashlib.sha256(data).digest()


async def _agen(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 100_000):
        yield data[i : i + 100_000]


@pytest.mark.parametrize("kind", ["path", "bytes", "fileobj", "aiter"])
async def test_upload_sources(tmp_path: Path, kind: str) -> None:
    data = os.urandom(700_000)
    src = tmp_path / "doc.pdf"
    src.write_bytes(data)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            folder = app.state.emulator.seed_folder(ws, "f")
            if kind == "path":
                doc = await client.transfers.upload_file(ws, folder, src, note="Q3")
            elif kind == "bytes":
                doc = await client.transfers.upload_file(ws, folder, data, name="doc.pdf")
            elif kind == "fileobj":
                with open(src, "rb") as fh:
                    doc = await client.transfers.upload_file(ws, folder, fh)
            else:
                doc = await client.transfers.upload_file(ws, folder, _agen(data), name="doc.pdf")
            assert doc.name == "doc.pdf" and doc.file_size == len(data)
            out = tmp_path / "back.pdf"
            await client.transfers.download_file(ws, doc.id, out)
            assert out.read_bytes() == data


async def test_lost_upload_response_is_adopted_not_duplicated() -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            emu.inject_fault("drop", 1, operation="uploadDocument")
            doc = await client.transfers.upload_file(ws, folder, b"x" * 50_000, name="a.txt")
            docs = remote_documents(app, ws)
            assert len(docs) == 1 and docs[0]["id"] == doc.id
            assert emu.faults.injected["drop"] == 1


async def test_rejected_upload_is_resent_once() -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            emu.inject_fault("503", 2, operation="uploadDocument")
            buf = io.BytesIO(b"y" * 10_000)
            doc = await client.transfers.upload_file(ws, folder, buf, name="b.txt")
            assert [d["id"] for d in remote_documents(app, ws)] == [doc.id]


async def test_one_shot_source_cannot_be_resent() -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            emu.inject_fault("503", 1, operation="uploadDocument")
            with pytest.raises(SourceNotReplayableError):
                await client.transfers.upload_file(ws, folder, _agen(b"z" * 300_000), name="c.txt")
            assert remote_documents(app, ws) == []


async def test_hostile_remote_names_stay_inside_dest(tmp_path: Path) -> None:
    hostile = [
        "../../escape.txt",
        "..",
        ".",
        "/etc/passwd",
        "a\\..\\..\\b",
        "nul\x00.txt",
        "CON",
        "con.txt",
        "dup",
        "DUP",
        "x" * 400,
        ".name.part-0123abcd",
        "ok.txt",
    ]
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            top = emu.seed_folder(ws, "../..")
            sub = emu.seed_folder(ws, "a/../../b", top)
            for i, name in enumerate(hostile):
                emu.seed_document(ws, top if i % 2 else sub, name, name.encode())
            dest = tmp_path / "a" / "dest"
            report = await client.transfers.download_tree(ws, dest)
            assert report.ok, report.failures
            written = [p for p in dest.rglob("*") if p.is_file()]
            assert len(written) == len(hostile)
            assert sorted(p.read_bytes() for p in written) == sorted(n.encode() for n in hostile)
            outside = [p for p in tmp_path.rglob("*") if p.is_file() and dest not in p.parents]
            assert outside == []
            assert not any(is_temp_name(p.name) for p in written)


async def test_stale_metadata_size_is_a_change(tmp_path: Path) -> None:
    from intralinks_async.transfers._api import RemoteAPI
    from intralinks_async.transfers.download import FileDownload

    with served() as (app, url):
        async with connect(url) as client:
            ws, doc, data = await _seeded(app, client, MiB)
            stale = await client.documents.get(ws, doc)
            app.state.emulator.replace_document_content(ws, doc, b"shorter now")
            with pytest.raises(DocumentChangedError):
                await FileDownload(RemoteAPI(client), ws, doc, tmp_path / "x").run(document=stale)
            assert _listing(tmp_path) == []


def test_round_trip_under_trio(tmp_path: Path) -> None:
    data = os.urandom(MiB + 321)

    async def main() -> None:
        with served(fault_rate=0.2, fault_seed=5) as (app, url):
            async with connect(url) as client:
                ws = await new_workspace(client)
                folder = app.state.emulator.seed_folder(ws, "f")
                doc = await client.transfers.upload_file(ws, folder, data, name="t.bin")
                out = tmp_path / "t.bin"
                await client.transfers.download_file(ws, doc.id, out, chunk_size=64 * 1024)
                assert out.read_bytes() == data
                assert len(remote_documents(app, ws)) == 1

    import anyio

    anyio.run(main, backend="trio")


async def test_ranged_downloads_ask_for_identity_encoding(tmp_path: Path) -> None:
    """Byte ranges, sizes and hashes refer to the stored bytes: no content coding allowed."""
    import httpx

    from intralinks_async import IntralinksClient
    from intralinks_async.testing import create_app

    app = create_app()
    seen: list[str | None] = []

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/download"):
            values = [v.decode() for k, v in scope["headers"] if k == b"accept-encoding"]
            seen.append(", ".join(values) or None)
        await app(scope, receive, send)

    data = os.urandom(300_000)
    async with IntralinksClient(
        "http://emulator",
        client_id="demo",
        client_secret="demo-secret",
        transport=httpx.ASGITransport(app=recording),
        allow_insecure_http=True,
    ) as client:
        ws = await new_workspace(client)
        folder = app.state.emulator.seed_folder(ws, "f")
        doc = await client.transfers.upload_file(ws, folder, data, name="a.bin")
        await client.transfers.download_file(
            ws, doc.id, tmp_path / "a.bin", chunk_size=64 * 1024, concurrency=4
        )
    assert (tmp_path / "a.bin").read_bytes() == data
    assert seen and all(value == "identity" for value in seen), seen
