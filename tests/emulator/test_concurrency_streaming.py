"""500 concurrent uploads, bounded memory while streaming, atomic visibility of documents."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import socket
import time
import tracemalloc
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from .conftest import Api


async def test_500_concurrent_uploads_into_one_folder(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    sem = asyncio.Semaphore(100 if api.mode == "loopback" else 500)

    async def one(i: int) -> dict[str, object]:
        async with sem:
            return await api.upload(ws, f, "same-name.txt", f"content {i}".encode())

    docs = await asyncio.gather(*(one(i) for i in range(500)))
    assert len({d["id"] for d in docs}) == 500
    listed = (await api.http.get(f"/workspaces/{ws}/documents", params={"folderId": f})).json()[
        "document"
    ]
    assert len(listed) == 500
    hashes = {
        base64.b64encode(hashlib.sha1(f"content {i}".encode()).digest()).decode()
        for i in range(500)
    }
    assert {d["fileHash"] for d in listed} == hashes
    assert (await api.http.get(f"/workspaces/{ws}")).json()["statistics"]["documentCount"] == 500
    assert os.listdir(api.emu.store.tmp_dir) == []


async def _chunks(n: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    block = b"\xab" * size
    for _ in range(n):
        yield block


async def test_streaming_upload_and_download_use_bounded_memory(api: Api) -> None:
    """48 MiB through the emulator with far less than 48 MiB of Python allocations."""
    if api.mode == "asgi":
        return  # ASGITransport buffers whole responses; measured over a socket only
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    n = 768  # x 64 KiB = 48 MiB
    boundary = "emulatortestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{f}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        async for chunk in _chunks(n):
            yield chunk
        yield tail

    tracemalloc.start()
    try:
        r = await api.http.post(
            f"/workspaces/{ws}/documents",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 201, r.text
        doc = r.json()
        assert doc["fileSize"] == n * 64 * 1024
        total = 0
        digest = hashlib.sha1()
        async with api.http.stream(
            "GET", f"/workspaces/{ws}/documents/{doc['id']}/download"
        ) as resp:
            async for chunk in resp.aiter_raw():
                total += len(chunk)
                digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == n * 64 * 1024
    assert base64.b64encode(digest.digest()).decode() == doc["fileHash"]
    assert peak < 16 * 1024 * 1024, f"peak traced allocations {peak / 2**20:.1f} MiB"


async def test_document_invisible_until_fully_written(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    boundary = "b0undary"
    gate = asyncio.Event()
    halfway = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{f}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n'
        ).encode()
        yield b"x" * 200_000
        halfway.set()
        await gate.wait()
        yield b"y" * 200_000
        yield f"\r\n--{boundary}--\r\n".encode()

    task = asyncio.ensure_future(
        api.http.post(
            f"/workspaces/{ws}/documents",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
    )
    await halfway.wait()
    for _ in range(200):  # let the server consume what was sent
        if os.listdir(api.emu.store.tmp_dir):
            break
        await asyncio.sleep(0.01)
    assert (await api.http.get(f"/workspaces/{ws}/documents")).json() == {"document": []}
    assert os.listdir(api.emu.store.blob_dir) == []
    gate.set()
    r = await task
    assert r.status_code == 201 and r.json()["fileSize"] == 400_000
    assert len((await api.http.get(f"/workspaces/{ws}/documents")).json()["document"]) == 1
    assert os.listdir(api.emu.store.tmp_dir) == []


async def test_client_abort_mid_upload_leaves_nothing(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    boundary = "abortboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{f}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n'
    ).encode()
    if api.mode == "asgi":

        async def body() -> AsyncIterator[bytes]:
            yield head
            yield b"x" * 100_000
            raise ConnectionResetError("client went away")

        with contextlib.suppress(ConnectionResetError):
            await api.http.post(
                f"/workspaces/{ws}/documents",
                content=body(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )
    else:
        url = urlsplit(str(api.http.base_url))
        token = api.http.headers["Authorization"]
        request = (
            f"POST /workspaces/{ws}/documents HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Authorization: {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: 10000000\r\n\r\n"
        ).encode()
        with socket.create_connection((url.hostname, url.port or 80)) as sock:
            sock.sendall(request + head + b"x" * 100_000)
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + 5
        while os.listdir(api.emu.store.tmp_dir) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    assert os.listdir(api.emu.store.tmp_dir) == []
    assert os.listdir(api.emu.store.blob_dir) == []
    assert (await api.http.get(f"/workspaces/{ws}/documents")).json() == {"document": []}


async def test_truncated_multipart_is_rejected(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    body = (
        f'--bb\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{f}\r\n'
        '--bb\r\nContent-Disposition: form-data; name="file"; filename="t"\r\n\r\nabc'
    ).encode()
    r = await api.http.post(
        f"/workspaces/{ws}/documents",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=bb"},
    )
    assert r.status_code == 400
    assert os.listdir(api.emu.store.tmp_dir) == [] and os.listdir(api.emu.store.blob_dir) == []
