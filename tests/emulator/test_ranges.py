"""Range / If-Range / ETag on downloadDocument, and ranges=False."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from intralinks_async.testing import create_app

from .conftest import Api, get_token

DATA = bytes(range(256)) * 4000  # 1,024,000 bytes: several 256 KiB chunks


async def _doc(api: Api) -> tuple[str, str]:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    doc = await api.upload(ws, f, "big.bin", DATA)
    return ws, f"/workspaces/{ws}/documents/{doc['id']}"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, len(DATA) - 1),
        ("bytes=-500", len(DATA) - 500, len(DATA) - 1),
        ("bytes=300000-700000", 300000, 700000),
        ("bytes=1023000-9999999", 1023000, len(DATA) - 1),  # end clamped
        ("bytes=-99999999", 0, len(DATA) - 1),  # suffix longer than the document
    ],
)
async def test_single_range(api: Api, header: str, start: int, end: int) -> None:
    _, path = await _doc(api)
    r = await api.http.get(path + "/download", headers={"Range": header})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert r.content == DATA[start : end + 1]
    assert r.headers["content-length"] == str(end - start + 1)
    assert r.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize("header", ["bytes=2000000-", "bytes=1024000-1024001", "bytes=-0"])
async def test_unsatisfiable_range_is_416(api: Api, header: str) -> None:
    _, path = await _doc(api)
    r = await api.http.get(path + "/download", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(DATA)}"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=x-y", "bytes"]
)
async def test_ignored_range_sends_whole_body(api: Api, header: str) -> None:
    _, path = await _doc(api)
    r = await api.http.get(path + "/download", headers={"Range": header})
    assert r.status_code == 200 and r.content == DATA


async def test_if_range_and_etag_change(api: Api) -> None:
    ws, path = await _doc(api)
    full = await api.http.get(path + "/download")
    etag = full.headers["etag"]
    r = await api.http.get(path + "/download", headers={"Range": "bytes=0-9", "If-Range": etag})
    assert r.status_code == 206 and r.content == DATA[:10]
    r = await api.http.get(
        path + "/download", headers={"Range": "bytes=0-9", "If-Range": '"other"'}
    )
    assert r.status_code == 200 and r.content == DATA

    doc_id = path.rsplit("/", 1)[1]
    before = (await api.http.get(path)).json()
    api.emu.replace_document_content(ws, doc_id, b"new content")
    after = (await api.http.get(path)).json()
    assert after["version"] == before["version"] + 1
    assert after["fileHash"] != before["fileHash"] and after["fileSize"] == 11
    r = await api.http.get(path + "/download", headers={"Range": "bytes=0-2", "If-Range": etag})
    assert r.status_code == 200 and r.content == b"new content"
    assert r.headers["etag"] != etag


async def test_empty_document_range_is_416(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    doc = await api.upload(ws, f, "e", b"")
    r = await api.http.get(
        f"/workspaces/{ws}/documents/{doc['id']}/download", headers={"Range": "bytes=0-"}
    )
    assert r.status_code == 416 and r.headers["content-range"] == "bytes */0"


async def test_open_download_survives_replace_and_delete(api: Api) -> None:
    if api.mode == "asgi":
        pytest.skip("ASGITransport buffers the whole response; the race needs a socket")
    ws, path = await _doc(api)
    doc_id = path.rsplit("/", 1)[1]
    chunks: list[bytes] = []
    async with api.http.stream("GET", path + "/download") as r:
        async for chunk in r.aiter_raw(65536):
            if not chunks:
                api.emu.replace_document_content(ws, doc_id, b"x")
                assert (await api.http.delete(path)).status_code == 204
            chunks.append(chunk)
    assert b"".join(chunks) == DATA


async def test_ranges_false_ignores_range(tmp_path: Any) -> None:
    app = create_app(ranges=False, data_dir=tmp_path)
    emu = app.state.emulator
    ws = emu.seed_workspaces(1)[0]
    f = emu.seed_folder(ws, "F")
    doc = emu.seed_document(ws, f, "x.bin", DATA)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://e"
    ) as http:
        http.headers["Authorization"] = f"Bearer {await get_token(http)}"
        r = await http.get(
            f"/workspaces/{ws}/documents/{doc}/download", headers={"Range": "bytes=0-9"}
        )
    assert r.status_code == 200 and r.content == DATA
    assert r.headers["accept-ranges"] == "none" and "content-range" not in r.headers
    assert os.listdir(tmp_path / "blobs")  # data_dir is used
