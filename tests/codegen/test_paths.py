"""Path parameters: percent-encoded, and unsafe values rejected before any request is built."""

from __future__ import annotations

import pytest
from pytest_httpx import HTTPXMock

from intralinks_async._generated.api import Resources
from intralinks_async._generated.api.documents import download_document
from intralinks_async._generated.client import encode_path_param

from .conftest import HttpxSender

ENCODED = [
    ("a/b", "a%2Fb"),
    ("../etc", "..%2Fetc"),
    ("q?x=1", "q%3Fx%3D1"),
    ("frag#1", "frag%231"),
    ("100%", "100%25"),
    ("%2F", "%252F"),
    ("sp ace", "sp%20ace"),
    ("é€😀", "%C3%A9%E2%82%AC%F0%9F%98%80"),
    ("...", "..."),
    ("a.b-c_d~e", "a.b-c_d~e"),
    ("+&=;:@", "%2B%26%3D%3B%3A%40"),
    (42, "42"),
]

REJECTED = ["", ".", "..", "a\x00b", "line\nbreak", "cr\r", "tab\t", "del\x7f", "c1\x85"]


@pytest.mark.parametrize(("value", "encoded"), ENCODED)
def test_encode_path_param(value: object, encoded: str) -> None:
    assert encode_path_param(value, "p") == encoded


@pytest.mark.parametrize("value", [*REJECTED, None, True])
def test_encode_path_param_rejects(value: object) -> None:
    with pytest.raises(ValueError, match="path parameter"):
        encode_path_param(value, "p")


@pytest.mark.parametrize(("value", "encoded"), ENCODED[:-1])
async def test_request_uses_encoded_path(
    value: str, encoded: str, api: Resources, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"id": "x"})
    await api.folders.get("ws1", value)
    (request,) = httpx_mock.get_requests()
    assert request.url.raw_path == f"/v2/workspaces/ws1/folders/{encoded}".encode()
    assert request.url.query == b""


@pytest.mark.parametrize("value", REJECTED)
async def test_rejected_before_any_request(
    value: str, api: Resources, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    with pytest.raises(ValueError):
        await api.documents.get("ws1", value)
    with pytest.raises(ValueError):
        await api.workspaces.delete(value)
    with pytest.raises(ValueError):
        download_document.stream_detailed(value, "d1", client=sender)  # raised at call time
    assert sender.calls == []
    assert httpx_mock.get_requests() == []
