"""Downloads read whole (``read_detailed``), bounded by a ``with_options`` size limit."""

from __future__ import annotations

import httpx
import pytest
from pytest_httpx import HTTPXMock

from intralinks_async import IntralinksClient
from intralinks_async._generated.api.documents import download_document
from intralinks_async.errors import NotFoundError, ResponseTooLargeError

API = "https://api.intralinks.com/v2"
URL = f"{API}/workspaces/w1/documents/d1/download"


def _client() -> IntralinksClient:
    return IntralinksClient(transport=httpx.AsyncHTTPTransport(), access_token="t")


async def test_read_detailed_returns_the_whole_body(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, content=b"0123456789", headers={"ETag": '"v1"'})
    async with _client() as client:
        answer = await download_document.read_detailed("w1", "d1", client=client)
    assert answer.status_code == 200
    assert answer.content == answer.parse() == b"0123456789"
    assert answer.headers["etag"] == '"v1"'
    request = httpx_mock.get_requests()[0]
    assert request.headers["accept"] == "application/octet-stream"
    assert request.headers["authorization"] == "Bearer t"


async def test_read_detailed_raises_the_typed_status_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, status_code=404, json={"error": "no such document"})
    async with _client() as client:
        with pytest.raises(NotFoundError):
            await download_document.read_detailed("w1", "d1", client=client)


async def test_with_options_limit_bounds_a_whole_read(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=URL, content=b"x" * 11)
    httpx_mock.add_response(url=URL, content=b"x" * 10)
    async with _client() as client:
        small = client.with_options(max_response_bytes=10)
        assert small.max_response_bytes == 10 and client.max_response_bytes > 10
        with pytest.raises(ResponseTooLargeError):
            await download_document.read_detailed("w1", "d1", client=small)
        answer = await download_document.read_detailed("w1", "d1", client=small)
        assert answer.content == b"x" * 10


@pytest.mark.parametrize("bad", [0, -1, True, 2.5, "10"])
def test_with_options_refuses_a_bad_limit(bad: object) -> None:
    client = _client()
    with pytest.raises(ValueError, match="max_response_bytes"):
        client.with_options(max_response_bytes=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_response_bytes"):
        IntralinksClient(access_token="t", max_response_bytes=bad)  # type: ignore[arg-type]
