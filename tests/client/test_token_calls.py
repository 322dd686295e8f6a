"""Token-endpoint calls: which failures are retried for which grant."""

from __future__ import annotations

import httpx
import pytest
from client_helpers import SleepRecorder
from pytest_httpx import HTTPXMock

from intralinks_async import IntralinksClient
from intralinks_async.errors import APIConnectionError, AuthenticationError

API = "https://api.intralinks.com/v2"
TOKEN_URL = f"{API}/oauth/token"
TOKEN = {"access_token": "at-1", "refresh_token": "rt-2", "expires_in": 3600}


def client(**kwargs: object) -> IntralinksClient:
    c = IntralinksClient(
        client_id="cid",
        client_secret="secret",
        transport=httpx.AsyncHTTPTransport(),
        **kwargs,  # type: ignore[arg-type]
    )
    c._sleep = SleepRecorder()
    return c


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("response lost"),
        httpx.ReadTimeout("slow"),
    ],
)
async def test_client_credentials_token_request_is_retried(httpx_mock: HTTPXMock, failure) -> None:
    httpx_mock.add_exception(failure, url=TOKEN_URL, method="POST")
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=TOKEN)
    httpx_mock.add_response(url=f"{API}/x", json={})
    async with client() as c:
        response = await c.request("GET", "/x", operation="x")
    assert response.status_code == 200
    assert len(httpx_mock.get_requests(url=TOKEN_URL)) == 2


@pytest.mark.parametrize("status", [429, 503, 500])
async def test_client_credentials_retries_statuses(httpx_mock: HTTPXMock, status: int) -> None:
    httpx_mock.add_response(url=TOKEN_URL, method="POST", status_code=status)
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=TOKEN)
    httpx_mock.add_response(url=f"{API}/x", json={})
    async with client() as c:
        await c.request("GET", "/x", operation="x")
    assert len(httpx_mock.get_requests(url=TOKEN_URL)) == 2


async def test_rotating_refresh_is_not_replayed_after_a_lost_response(
    httpx_mock: HTTPXMock,
) -> None:
    httpx_mock.add_exception(httpx.ReadError("response lost"), url=TOKEN_URL, method="POST")
    async with client(refresh_token="rt-0") as c:
        with pytest.raises(APIConnectionError) as info:
            await c.request("GET", "/x", operation="x")
    assert info.value.operation == "getOAuthToken"
    assert info.value.attempts == 1
    assert "rt-0" not in str(info.value)


@pytest.mark.parametrize("status", [429, 503])
async def test_rotating_refresh_is_retried_when_declined(
    httpx_mock: HTTPXMock, status: int
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=TOKEN_URL, method="POST")
    httpx_mock.add_response(url=TOKEN_URL, method="POST", status_code=status)
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=TOKEN)
    httpx_mock.add_response(url=f"{API}/x", json={})
    async with client(refresh_token="rt-0") as c:
        await c.request("GET", "/x", operation="x")
    forms = [r.content for r in httpx_mock.get_requests(url=TOKEN_URL)]
    assert len(forms) == 3 and all(b"grant_type=refresh_token" in f for f in forms)


async def test_rejected_refresh_is_an_authentication_error(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=TOKEN_URL,
        method="POST",
        status_code=400,
        json={"error": "invalid_grant", "error_description": "refresh token was used"},
    )
    async with client(refresh_token="rt-0") as c:
        with pytest.raises(AuthenticationError) as info:
            await c.request("GET", "/x", operation="x")
    assert info.value.status_code == 400
    assert info.value.code == "invalid_grant"
    assert "refresh token was used" in str(info.value)
