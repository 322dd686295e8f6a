"""The whole-body multipart splitter (``parse_whole``) against python-multipart's push parser.

``parse_whole`` may only ever decline (``None``: the push parser then decides) or agree
with the push parser: same fields, same file name, same bytes. Bodies are generated
around the edges where multipart parsers differ (bare CR/LF, boundary look-alikes,
padding after a delimiter, header syntax, repeated or unnamed parts, epilogues), then
mutated byte by byte; the push parser is fed the same bytes in random chunks.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from intralinks_async.testing import _errors, _upload
from intralinks_async.testing._storage import BlobStore

BOUNDARY = "b0undary"


@pytest.fixture(scope="module")
def store() -> Iterator[BlobStore]:
    with tempfile.TemporaryDirectory() as d:
        yield BlobStore(d)


def _request(body: bytes, cuts: list[int], boundary: str = BOUNDARY) -> Request:
    edges = sorted({0, len(body), *(c % (len(body) + 1) for c in cuts)})
    messages = [
        {"type": "http.request", "body": body[a:b], "more_body": True}
        for a, b in itertools.pairwise(edges)
    ]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}".encode())],
    }
    return Request(scope, receive)


def push_parse(
    store: BlobStore, body: bytes, cuts: list[int], monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str], str | None, bytes | None] | str:
    """What the push parser alone makes of ``body`` (an error code if it refuses it)."""
    with monkeypatch.context() as m:
        m.setattr(_upload, "parse_whole", lambda body, boundary: None)
        try:
            parsed = asyncio.run(_upload.parse_upload(_request(body, cuts), store))
        except _errors.HTTPError as exc:
            return f"HTTP {exc.response.status_code}"
    content = None
    if parsed.blob is not None:
        content = parsed.blob.path.read_bytes()
        store.delete(parsed.blob)
    return parsed.fields, parsed.filename, content


def whole_parse(body: bytes) -> tuple[dict[str, str], str | None, bytes | None] | None:
    whole = _upload.parse_whole(body, BOUNDARY.encode())
    if whole is None:
        return None
    content = None if whole.content is None else bytes(whole.content)
    return whole.fields, whole.filename, content


_PLAIN = [
    'form-data; name="file"; filename="a.txt"',
    'form-data; name="folderId"',
    'form-data; name="name"',
    'form-data; name="other"',
]
# Each list: plain forms (repeated, so that most bodies are taken whole) then odd ones.
_DISPOSITIONS = _PLAIN * 6 + [
    'form-data; name="file"; filename="a.txt"',
    "form-data; name=\"file\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
    'form-data; name="file"',
    'form-data; name="folderId"',
    'form-data; name="name"',
    'form-data; name="note"',
    'form-data; name="other"',
    "form-data; name=folderId",
    'form-data;name="name"',
    'attachment; name="name"',
    "form-data",
    "",
    'form-data; name="na\\"me"',
    'FORM-DATA; NAME="file"',
]
_HEADER_NAMES = ["Content-Disposition"] * 12 + [
    "Content-Disposition",
    "content-disposition",
    "CONTENT-DISPOSITION",
    "Content-Type",
    "X-Extra",
    "Content Disposition",
    "Content-Disposition ",
    "",
]
_VALUE_PADS = [" "] * 6 + ["", "  ", "\t"]
_SEPARATORS = ["\r\n"] * 12 + ["--", " \r\n", "\t\r\n", "x", "-x", "\r", "\n", "-"]
_DATA_BITS = [b"data"] * 6 + [
    b"",
    b"hello",
    b"\r\n",
    b"\r",
    b"\n",
    b"-",
    b"--",
    b"--" + BOUNDARY.encode(),
    b"\r\n--" + BOUNDARY.encode(),
    b"\r\n--" + BOUNDARY.encode() + b"x",
    b"\r\n--" + BOUNDARY.encode()[:4],
    b"\xff\xfe",
    "é".encode(),
    b"\r\n\r\n",
]

headers_st = st.lists(
    st.tuples(
        st.sampled_from(_HEADER_NAMES), st.sampled_from(_VALUE_PADS), st.sampled_from(_DISPOSITIONS)
    ),
    min_size=1,
    max_size=2,
)
data_st = st.lists(st.sampled_from(_DATA_BITS), max_size=4).map(b"".join)
part_st = st.tuples(headers_st, data_st, st.sampled_from(_SEPARATORS))
body_st = st.tuples(
    st.sampled_from([""] * 8 + ["\r\n", "x"]),
    st.lists(part_st, min_size=0, max_size=4),
    st.sampled_from(["", "", "\r\n", "epilogue", "\r\n--" + BOUNDARY + "\r\n"]),
)


def _render(preamble: str, parts: list[Any], epilogue: str) -> bytes:
    out = [preamble.encode(), b"--", BOUNDARY.encode(), b"\r\n"]
    for i, (headers, data, sep) in enumerate(parts):
        for name, pad, value in headers:
            out.append(f"{name}:{pad}{value}\r\n".encode())
        out += [b"\r\n", data, b"\r\n--", BOUNDARY.encode()]
        out.append(b"--" if i == len(parts) - 1 else sep.encode())
    out.append(epilogue.encode())
    return b"".join(out)


@settings(
    max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=body_st,
    mutations=st.lists(st.tuples(st.integers(0, 10_000), st.binary(max_size=2)), max_size=2),
    cuts=st.lists(st.integers(0, 10_000), max_size=3),
)
def test_whole_body_split_agrees_with_the_push_parser_or_declines(
    store: BlobStore,
    monkeypatch: pytest.MonkeyPatch,
    body: tuple[str, list[Any], str],
    mutations: list[tuple[int, bytes]],
    cuts: list[int],
) -> None:
    data = _render(*body)
    for at, replacement in mutations:
        at %= len(data) + 1
        data = data[:at] + replacement + data[at + len(replacement) :]
    whole = whole_parse(data)
    if whole is not None:
        assert push_parse(store, data, cuts, monkeypatch) == whole


def test_plain_bodies_are_split_whole(store: BlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forms generated above that clients send are taken (so the shortcut is used)."""
    headers = [("Content-Disposition", " ", 'form-data; name="file"; filename="a.txt"')]
    headers.append(("Content-Type", " ", "application/octet-stream"))
    body = _render(
        "",
        [
            ([("Content-Disposition", " ", 'form-data; name="folderId"')], b"123", "\r\n"),
            ([("Content-Disposition", " ", 'form-data; name="other"')], b"\xff", "\r\n"),
            (headers, b"x\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n-\r", "\r\n"),
        ],
        "\r\n",
    )
    whole = whole_parse(body)
    assert whole == ({"folderId": "123"}, "a.txt", b"x\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n-\r")
    assert push_parse(store, body, [7, 50], monkeypatch) == whole


async def _captured_body(send: Any) -> tuple[bytes, str]:
    """The body and boundary an HTTP client library actually sends."""
    seen: dict[str, Any] = {}

    def app_handler(request: httpx.Request) -> httpx.Response:
        seen["body"] = request.read()
        seen["type"] = request.headers["content-type"]
        return httpx.Response(201)

    await send(httpx.MockTransport(app_handler))
    return seen["body"], seen["type"].split("boundary=")[1]


async def test_what_httpx_and_aiohttp_send_is_split_whole(tmp_path: Path) -> None:
    content = b"\x00\r\n--abc\r\n" * 50

    async def with_httpx(transport: httpx.MockTransport) -> None:
        async with httpx.AsyncClient(transport=transport) as http:
            files = {"file": ("doc 1.bin", content, "application/octet-stream")}
            await http.post("http://x/", files=files, data={"folderId": "7", "name": "n é"})

    body, boundary = await _captured_body(with_httpx)
    whole = _upload.parse_whole(body, boundary.encode())
    assert whole is not None and bytes(whole.content or b"") == content
    assert (whole.fields, whole.filename) == ({"folderId": "7", "name": "n é"}, "doc 1.bin")

    form = aiohttp.FormData()
    form.add_field("folderId", "7")
    form.add_field("name", "n é")
    form.add_field("file", content, filename="doc1.bin")  # aiohttp %-encodes a space
    payload = form()
    chunks: list[bytes] = []

    class Sink:
        async def write(self, data: bytes) -> None:
            chunks.append(bytes(data))

    await payload.write(Sink())  # type: ignore[arg-type]
    aio_boundary = payload.content_type.split("boundary=")[1].strip('"')
    whole = _upload.parse_whole(b"".join(chunks), aio_boundary.encode())
    assert whole is not None and bytes(whole.content or b"") == content
    assert (whole.fields, whole.filename) == ({"folderId": "7", "name": "n é"}, "doc1.bin")


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_a_body_over_the_buffer_limit_streams(store: BlobStore) -> None:
    """Past BUFFERED_BODY_BYTES nothing more is held: the rest goes to the push parser."""
    big = b"x" * (_upload.BUFFERED_BODY_BYTES // 2)
    held, complete = await _upload._buffer(
        _chunks(big, b"", big, b"y", b"never read"), len(big) * 2
    )
    assert (held, complete) == ([big, big, b"y"], False)
    held, complete = await _upload._buffer(_chunks(b"a", b"", b"b"), 10)
    assert (held, complete) == ([b"a", b"b"], True)
