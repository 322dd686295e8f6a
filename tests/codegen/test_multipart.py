"""Multipart uploads: random boundary, byte-exact payloads, no field injection, streamed files."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import threading
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from intralinks_async._generated.api import Resources
from intralinks_async._generated.types import CHUNK_SIZE, encode_multipart
from intralinks_async.models import Document, File, UploadDocumentBody

from .conftest import HttpxSender
from .helpers import parse_multipart

NASTY = [
    b"\r\n",
    b"--",
    b"+++",
    b"\r\n--+++",
    b"\r\n--+++--\r\n",
    b'\r\nContent-Disposition: form-data; name="folderId"\r\n\r\nevil',
    b"\r\n\r\n",
    b"\x00",
    b"--boundary",
]


async def _upload_endpoint(request: Request) -> JSONResponse:
    form = await request.form(max_part_size=10 * 1024 * 1024)
    keys = [k for k, _ in form.multi_items()]
    upload = form["file"]
    assert isinstance(upload, UploadFile)
    data = await upload.read()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    meta = {
        "keys": keys,
        "fields": fields,
        "content_type": upload.content_type,
        "request_content_type": request.headers["content-type"],
        "content_length": request.headers.get("content-length"),
        "transfer_encoding": request.headers.get("transfer-encoding"),
    }
    return JSONResponse(
        {
            "id": hashlib.sha256(data).hexdigest(),
            "name": upload.filename,
            "fileSize": len(data),
            "note": json.dumps(meta),
        },
        status_code=201,
    )


APP = Starlette(routes=[Route("/v2/workspaces/{ws}/documents", _upload_endpoint, methods=["POST"])])


def _escaped(name: str) -> str:
    return name.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


async def _aiter(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await anyio.lowlevel.checkpoint()
        yield chunk


def _payload(kind: str, data: bytes, cuts: list[int]) -> bytes | io.BytesIO | AsyncIterator[bytes]:
    if kind == "bytes":
        return data
    if kind == "file":
        return io.BytesIO(data)
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return _aiter([data[a:b] for a, b in itertools.pairwise(points)])


async def _round_trip(
    kind: str, data: bytes, cuts: list[int], folder_id: str, name: str, note: str, file_name: str
) -> tuple[Document, dict]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=APP), base_url="https://api.test/v2"
    ) as client:
        api = Resources(HttpxSender(client))
        body = UploadDocumentBody(
            file=File(
                payload=_payload(kind, data, cuts),
                file_name=file_name,
                mime_type="application/x-test",
            ),
            folder_id=folder_id,
            name=name,
            note=note,
        )
        doc = await api.documents.upload("ws1", body=body)
    assert isinstance(doc.note, str)
    return doc, json.loads(doc.note)


payloads = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.one_of(st.sampled_from(NASTY), st.binary(max_size=40)), max_size=25).map(b"".join),
)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
file_names = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\\"), min_size=1, max_size=30
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["bytes", "file", "aiter"]),
    data=payloads,
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=6),
    folder_id=texts,
    name=texts,
    note=texts,
    file_name=file_names,
)
def test_arbitrary_payload_round_trips(
    kind: str, data: bytes, cuts: list[int], folder_id: str, name: str, note: str, file_name: str
) -> None:
    doc, meta = anyio.run(_round_trip, kind, data, cuts, folder_id, name, note, file_name)
    assert doc.id == hashlib.sha256(data).hexdigest()
    assert doc.file_size == len(data)
    assert meta["keys"] == ["file", "folderId", "name", "note"]
    assert meta["fields"] == {"folderId": folder_id, "name": name, "note": note}
    assert meta["content_type"] == "application/x-test"
    assert doc.name == _escaped(file_name)
    assert "+++" not in meta["request_content_type"]
    if kind == "aiter":
        assert meta["content_length"] is None and meta["transfer_encoding"] == "chunked"
    else:
        assert meta["content_length"] is not None


def test_filename_with_quotes_and_newlines_cannot_inject() -> None:
    evil = 'a.pdf"; name="folderId\r\nContent-Type: text/html\r\n\r\nX'
    doc, meta = anyio.run(_round_trip, "bytes", b"data", [], "f1", "n", "note", evil)
    assert meta["keys"] == ["file", "folderId", "name", "note"]
    assert meta["fields"]["folderId"] == "f1"
    assert doc.name == _escaped(evil)
    assert "\r" not in (doc.name or "") and '"' not in (doc.name or "")


def test_boundary_is_random_per_request() -> None:
    fields = [("a", (None, b"v", "text/plain"))]
    boundaries = {encode_multipart(fields).boundary for _ in range(20)}
    assert len(boundaries) == 20
    assert all(re.fullmatch(r"[0-9a-f]{32}", b) for b in boundaries)


def test_field_names_are_escaped_in_headers() -> None:
    body = encode_multipart(
        [
            ('x"\r\nX-Injected: 1', (None, b"v", "text/plain")),
            ("y", (None, "é\r\n--", "text/plain")),
        ]
    )
    assert isinstance(body.content, bytes)
    assert b"X-Injected: 1\r\n" not in body.content
    parts = parse_multipart(body.headers["Content-Type"], body.content)
    assert set(parts) == {"x%22%0D%0AX-Injected: 1", "y"}
    assert parts["y"][2] == "é\r\n--".encode()
    assert int(body.headers["Content-Length"]) == len(body.content)


def test_in_memory_value_containing_boundary_draws_a_new_one() -> None:
    with pytest.raises(ValueError, match="boundary"):
        encode_multipart([("a", (None, b"x\r\n--fixed\r\n", "text/plain"))], boundary="fixed")


def test_bad_mime_type_rejected() -> None:
    with pytest.raises(ValueError):
        encode_multipart([("file", File(payload=b"x", mime_type="text/plain\r\nX-Evil: 1"))])


class _TrackingFile(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[tuple[int, int]] = []

    def read(self, size: int | None = -1) -> bytes:
        self.reads.append((threading.get_ident(), -1 if size is None else size))
        return super().read(size)


async def _drain(content: bytes | AsyncIterator[bytes]) -> list[bytes]:
    assert not isinstance(content, bytes)
    return [chunk async for chunk in content]


def test_file_object_read_in_worker_thread_in_chunks() -> None:
    data = bytes(range(256)) * (3 * CHUNK_SIZE // 256 + 7)
    f = _TrackingFile(data)
    body = encode_multipart([("file", File(payload=f, file_name="big.bin"))])
    assert body.headers["Content-Length"]  # size known by seeking, nothing read yet
    assert f.reads == []
    chunks = anyio.run(_drain, body.content)
    loop_thread = threading.get_ident()
    assert len(f.reads) >= 4
    assert all(tid != loop_thread for tid, _ in f.reads)
    assert all(size == CHUNK_SIZE for _, size in f.reads)
    assert max(len(c) for c in chunks) <= CHUNK_SIZE
    total = b"".join(chunks)
    assert data in total
    assert len(total) == int(body.headers["Content-Length"])


def test_async_iterable_with_declared_size_sends_content_length() -> None:
    body = encode_multipart([("file", File(payload=_aiter([b"ab", b"cd"]), size=4))])
    total = b"".join(anyio.run(_drain, body.content))
    assert len(total) == int(body.headers["Content-Length"])


def test_declared_size_mismatch_raises() -> None:
    body = encode_multipart([("file", File(payload=_aiter([b"abc"]), size=4))])
    with pytest.raises(ValueError, match="size"):
        anyio.run(_drain, body.content)
    with pytest.raises(ValueError, match="size"):
        encode_multipart([("file", File(payload=b"abc", size=4))])


def test_text_mode_file_rejected() -> None:
    body = encode_multipart([("file", File(payload=io.StringIO("text")))])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        anyio.run(_drain, body.content)


@pytest.mark.parametrize("kind", ["bytes", "file", "aiter"])
def test_large_payload_spanning_chunks_round_trips(kind: str) -> None:
    data = b"".join(NASTY) * (int(1.5 * CHUNK_SIZE) // len(b"".join(NASTY)))
    doc, meta = anyio.run(
        _round_trip, kind, data, [7, CHUNK_SIZE - 3, CHUNK_SIZE + 11], "f1", "big", "n", "big.bin"
    )
    assert doc.id == hashlib.sha256(data).hexdigest()
    assert meta["fields"] == {"folderId": "f1", "name": "big", "note": "n"}


def test_boundary_redrawn_when_in_memory_data_contains_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from intralinks_async._core import multipart as gen_types

    drawn = iter(["a" * 32, "b" * 32])
    monkeypatch.setattr(gen_types.secrets, "token_hex", lambda n: next(drawn))
    data = (
        b"prefix\r\n--"
        + b"a" * 32
        + b'\r\nContent-Disposition: form-data; name="folderId"\r\n\r\nevil'
    )
    body = encode_multipart(
        [("file", File(payload=data, file_name="x.bin")), ("folderId", (None, b"f1", "text/plain"))]
    )
    assert body.boundary == "b" * 32
    assert isinstance(body.content, bytes)
    parts = parse_multipart(body.headers["Content-Type"], body.content)
    assert parts["file"][2] == data
    assert parts["folderId"][2] == b"f1"


def test_streamed_payload_containing_the_boundary_is_refused() -> None:
    data = b"x" * 100 + b"\r\n--fixedboundary" + b"y" * 100
    body = encode_multipart([("file", File(payload=io.BytesIO(data)))], boundary="fixedboundary")
    with pytest.raises(ValueError, match="boundary"):
        anyio.run(_drain, body.content)
    split = encode_multipart(
        [("file", File(payload=_aiter([data[:105], data[105:]])))], boundary="fixedboundary"
    )
    with pytest.raises(ValueError, match="boundary"):
        anyio.run(_drain, split.content)


def test_streamed_payload_starting_with_the_boundary_is_refused() -> None:
    body = encode_multipart(
        [("file", File(payload=_aiter([b"--fixedb", b"oundary--\r\n"])))], boundary="fixedboundary"
    )
    with pytest.raises(ValueError, match="boundary"):
        anyio.run(_drain, body.content)
