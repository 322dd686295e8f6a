"""Request shape (pytest-httpx): URL, headers, bodies, token calls, base URL rules."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

from intralinks_async import DEFAULT_BASE_URL, IntralinksClient
from intralinks_async._transport import AiohttpTransport
from intralinks_async.errors import NotFoundError

API = "https://api.intralinks.com/v2"
WS = {"id": "w1", "name": "Falcon", "type": "ATC"}
TOKEN = {
    "access_token": "at-123",
    "refresh_token": "rt-456",
    "token_type": "Bearer",
    "expires_in": 3600,
}


def client(**kwargs: object) -> IntralinksClient:
    options: dict[str, object] = {"client_id": "cid", "client_secret": "s3cret-value"}
    options.update(kwargs)
    return IntralinksClient(transport=httpx.AsyncHTTPTransport(), **options)  # type: ignore[arg-type]


async def test_get_workspace_shape_and_token_call(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/oauth/token", json=TOKEN)
    httpx_mock.add_response(method="GET", url=f"{API}/workspaces/w%2F1", json=WS)
    async with client() as c:
        ws = await c.workspaces.get("w/1")
    assert ws.id == "w1"
    token_req, get_req = httpx_mock.get_requests()
    assert token_req.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in token_req.headers
    assert parse_qs(token_req.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["cid"],
        "client_secret": ["s3cret-value"],
    }
    assert get_req.method == "GET"
    assert get_req.url.raw_path == b"/v2/workspaces/w%2F1"
    assert get_req.headers["authorization"] == "Bearer at-123"
    assert get_req.headers["accept"] == "application/json"
    assert get_req.headers["user-agent"].startswith("intralinks-async/")
    assert get_req.headers["host"] == "api.intralinks.com"


async def test_json_body_query_params_and_attempts(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(method="POST", url=f"{API}/x?flag=true&n=3&q=a+b%26c", json={"ok": 1})
    async with client(access_token="static-tok") as c:
        response = await c.request(
            "POST",
            "/x",
            operation="op",
            params={"flag": True, "n": 3, "q": "a b&c"},
            json={"name": "Ünïcode", "n": 1},
        )
    assert response.status_code == 200
    assert response.extensions["intralinks_attempts"] == 1
    assert response.json() == {"ok": 1}
    (req,) = httpx_mock.get_requests()
    assert req.url.query == b"flag=true&n=3&q=a%20b%26c"
    assert req.headers["content-type"] == "application/json"
    assert json.loads(req.content) == {"name": "Ünïcode", "n": 1}
    assert req.headers["content-length"] == str(len(req.content))
    assert req.headers["authorization"] == "Bearer static-tok"


async def test_form_and_streamed_bodies(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{API}/form", method="POST")
    httpx_mock.add_response(url=f"{API}/raw", method="PUT")

    async def chunks():
        yield b"abc"
        yield b"def"

    async with client(access_token="t") as c:
        await c.request("POST", "/form", operation="f", data={"a": "1", "b": "x y"})
        await c.request("PUT", "/raw", operation="r", content=chunks())
    form, raw = httpx_mock.get_requests()
    assert form.content == b"a=1&b=x+y"
    assert raw.content == b"abcdef"
    assert raw.headers.get("transfer-encoding") == "chunked"


async def test_unauthenticated_operation_and_headers_override(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{API}/open", json={})
    async with client(access_token="t", headers={"X-Team": "deals", "Accept": "text/plain"}) as c:
        await c.request(
            "GET", "/open", operation="o", authenticated=False, headers={"Range": "bytes=0-9"}
        )
    (req,) = httpx_mock.get_requests()
    assert "authorization" not in req.headers
    assert req.headers["x-team"] == "deals"
    assert req.headers["accept"] == "text/plain"
    assert req.headers["range"] == "bytes=0-9"


async def test_odd_path_is_percent_encoded_by_httpx(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{API}/a%20b/%C3%A9", json={})
    async with client(access_token="t") as c:
        await c.request("GET", "/a b/é", operation="o")
    (req,) = httpx_mock.get_requests()
    assert req.url.raw_path == b"/v2/a%20b/%C3%A9"


async def test_status_errors_are_returned_then_typed(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{API}/workspaces/nope",
        status_code=404,
        json={"error": {"code": "404", "message": "no such workspace"}},
        is_reusable=True,
    )
    async with client(access_token="t") as c:
        response = await c.request("GET", "/workspaces/nope", operation="getWorkspace")
        assert response.status_code == 404
        with pytest.raises(NotFoundError) as info:
            await c.workspaces.get("nope")
    assert info.value.operation == "getWorkspace"
    assert info.value.attempts == 1


async def test_event_hooks_see_every_attempt(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{API}/h", status_code=503)
    httpx_mock.add_response(url=f"{API}/h", json={})
    seen: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(f"req {request.method}")

    async def on_response(response: httpx.Response) -> None:
        seen.append(f"resp {response.status_code}")

    async with client(
        access_token="t", event_hooks={"request": [on_request], "response": [on_response]}
    ) as c:
        c._sleep = lambda delay: anyio.sleep(0)
        response = await c.request("GET", "/h", operation="h")
    assert response.extensions["intralinks_attempts"] == 2
    assert seen == ["req GET", "resp 503", "req GET", "resp 200"]


def test_base_url_rules() -> None:
    assert IntralinksClient(access_token="t").base_url == httpx.URL(DEFAULT_BASE_URL)
    with pytest.raises(ValueError, match="http://"):
        IntralinksClient("http://api.example.com/v2", access_token="t")
    IntralinksClient("http://api.example.com/v2", access_token="t", allow_insecure_http=True)
    for ok in ("http://127.0.0.1:8080", "http://localhost", "http://[::1]:9000/v2"):
        IntralinksClient(ok, access_token="t")
    with pytest.raises(ValueError):
        IntralinksClient("ftp://x", access_token="t")
    with pytest.raises(ValueError, match="credentials"):
        IntralinksClient("https://user:pw@api.example.com", access_token="t")
    with pytest.raises(ValueError):
        IntralinksClient(access_token="t", event_hooks={"sent": []})
    with pytest.raises(ValueError):
        IntralinksClient(client_id="only-id")


async def test_default_transport_is_aiohttp_under_asyncio() -> None:
    async with IntralinksClient(access_token="t") as c:
        assert isinstance(c._get_transport(), AiohttpTransport)


def test_default_transport_under_trio() -> None:
    async def main() -> None:
        async with IntralinksClient(access_token="t") as c:
            transport = c._get_transport()
            assert isinstance(transport, httpx.AsyncHTTPTransport)

    anyio.run(main, backend="trio")


def test_resources_and_transfers_are_exposed() -> None:
    c = IntralinksClient(access_token="t")
    for tag in (
        "workspaces",
        "folders",
        "documents",
        "groups",
        "permissions",
        "splash",
        "custom_fields",
        "authentication",
    ):
        assert getattr(c, tag)._sender is c
    transfers = c.transfers  # imported lazily, built once
    assert type(transfers).__name__ == "Transfers" and c.transfers is transfers


async def test_caller_content_headers_are_not_duplicated(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{API}/up", method="POST")
    httpx_mock.add_response(url=f"{API}/up2", method="POST")

    async def body():
        yield b"1234567"

    async with client(access_token="t") as c:
        await c.request(
            "POST",
            "/up",
            operation="u",
            content=b"1234567",
            headers={"Content-Type": "multipart/form-data; boundary=xyz", "Content-Length": "7"},
        )
        await c.request(
            "POST", "/up2", operation="u", content=body(), headers={"Content-Length": "7"}
        )
    first, second = httpx_mock.get_requests()
    assert first.headers.get_list("content-length") == ["7"]
    assert first.headers.get_list("content-type") == ["multipart/form-data; boundary=xyz"]
    assert second.headers.get_list("content-length") == ["7"]
    assert "transfer-encoding" not in second.headers
    assert second.content == b"1234567"
