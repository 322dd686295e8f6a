"""Non-2xx responses become typed errors: every status class, every error-body shape."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from pytest_httpx import HTTPXMock

from intralinks_async._generated.api import Resources
from intralinks_async._generated.api.documents import download_document
from intralinks_async.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    IntralinksError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
    make_status_error,
    parse_retry_after,
    raise_for_status,
)
from intralinks_async.models import GetOAuthTokenBody, GrantType

from .conftest import TOKEN, HttpxSender

STATUS_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, InternalServerError),
    (502, InternalServerError),
    (503, InternalServerError),
    (405, APIStatusError),
    (408, APIStatusError),
    (418, APIStatusError),
    (302, APIStatusError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
async def test_status_maps_to_class(
    status: int, cls: type[APIStatusError], api: Resources, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=status, json={"error": {"code": "X", "message": "boom"}})
    with pytest.raises(APIStatusError) as info:
        await api.workspaces.get("ws1")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, IntralinksError)
    assert err.status_code == status
    assert err.method == "GET"
    assert err.url == "https://api.test/v2/workspaces/ws1"
    assert err.operation == "getWorkspace"
    assert err.message == "boom"
    assert err.code == "X"
    assert err.attempts == 1
    assert "boom" in str(err) and "getWorkspace" in str(err) and str(status) in str(err)


BODY_SHAPES = [
    pytest.param(
        {"json": {"ErrorCode": "E404", "Error": "Workspace not found", "Hint": "check the id"}},
        {"code": "E404", "message": "Workspace not found", "hint": "check the id"},
        id="ErrorCode-Error-Hint",
    ),
    pytest.param(
        {
            "json": {
                "error": {
                    "code": "NOT_FOUND",
                    "message": "No such workspace",
                    "subcode": "WS_MISSING",
                }
            }
        },
        {"code": "NOT_FOUND", "message": "No such workspace", "subcode": "WS_MISSING"},
        id="error-object",
    ),
    pytest.param(
        {
            "json": {
                "status": "Unauthorized",
                "error": {"code": 401, "message": "Token expired", "subcode": 7},
            }
        },
        {"code": "401", "message": "Token expired", "subcode": "7"},
        id="status-string-error-object",
    ),
    pytest.param(
        {
            "json": {
                "status": {"code": 403, "subcode": "ACL", "message": "Denied", "errorId": "err-9"},
                "errors": [{"message": "no access to folder f1"}],
            }
        },
        {
            "code": "403",
            "message": "Denied",
            "subcode": "ACL",
            "request_id": "err-9",
            "errors": [{"message": "no access to folder f1"}],
        },
        id="status-object-errors-list",
    ),
    pytest.param(
        {"json": {"error": "invalid_client", "error_description": "Client authentication failed"}},
        {"code": "invalid_client", "message": "Client authentication failed"},
        id="oauth",
    ),
    pytest.param(
        {
            "text": "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>",
            "headers": {"Content-Type": "text/html"},
        },
        {"message": "502 Bad Gateway", "code": None},
        id="html-title",
    ),
    pytest.param(
        {
            "text": "<html><body><h1>Service &amp; Gateway\n Unavailable</h1><p>x</p></body></html>",
            "headers": {"Content-Type": "text/html; charset=utf-8"},
        },
        {"message": "Service & Gateway Unavailable"},
        id="html-h1",
    ),
    pytest.param(
        {
            "text": "upstream connect error or disconnect/reset before headers\nmore",
            "headers": {"Content-Type": "text/plain"},
        },
        {"message": "upstream connect error or disconnect/reset before headers"},
        id="plain-text",
    ),
    pytest.param(
        {"text": '{"oops', "headers": {"Content-Type": "application/json"}},
        {"message": '{"oops'},
        id="broken-json",
    ),
    pytest.param({"content": b""}, {"message": "Not Found", "code": None}, id="empty"),
    pytest.param({"content": b"\xff\xfe\x00garbage"}, {"code": None}, id="binary"),
    pytest.param(
        {"json": ["first problem", "second"]}, {"message": "first problem"}, id="json-list"
    ),
]


@pytest.mark.parametrize(("response", "expected"), BODY_SHAPES)
async def test_error_body_shapes(
    response: dict, expected: dict, api: Resources, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=404, **response)
    with pytest.raises(NotFoundError) as info:
        await api.workspaces.get("ws1")
    err = info.value
    for key, value in expected.items():
        assert getattr(err, key) == value, key
    assert err.body is not None


@pytest.mark.parametrize("header", ["X-Request-Id", "X-Intralinks-Request-Id", "X-Correlation-Id"])
async def test_request_id_header(header: str, api: Resources, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=500, headers={header: "req-123"}, text="oops")
    with pytest.raises(InternalServerError) as info:
        await api.workspaces.get("ws1")
    assert info.value.request_id == "req-123"
    assert "req-123" in str(info.value)


async def test_body_is_truncated(api: Resources, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=500, text="x" * 100_000)
    with pytest.raises(InternalServerError) as info:
        await api.workspaces.get("ws1")
    body = info.value.body
    assert body is not None and len(body) < 2100
    assert "truncated" in body
    assert len(str(info.value)) < 1000


async def test_rate_limit_retry_after(api: Resources, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        status_code=429,
        headers={"Retry-After": "7"},
        json={"ErrorCode": "RATE", "Error": "slow down"},
    )
    with pytest.raises(RateLimitError) as info:
        await api.workspaces.get("ws1")
    assert info.value.retry_after == 7.0
    assert info.value.code == "RATE"


def test_parse_retry_after() -> None:
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("nan") is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


async def test_secrets_never_in_error(sender: HttpxSender, httpx_mock: HTTPXMock) -> None:
    api = Resources(sender)
    body = (
        '{"ErrorCode":"AUTH","Error":"bad creds for client_secret=hunter2",'
        '"access_token":"tok-AAA","refresh_token":"tok-BBB","client_secret":"hunter2",'
        '"token":"tok-CCC","echo":"Authorization: Bearer test-token"}'
    )
    httpx_mock.add_response(
        status_code=401, text=body, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(AuthenticationError) as info:
        await api.workspaces.get("ws1")
    err = info.value
    for text in (str(err), repr(err), err.body or "", err.message, str(err.__dict__)):
        for secret in (TOKEN, "tok-AAA", "tok-BBB", "tok-CCC", "hunter2"):
            assert secret not in text


async def test_oauth_401_is_typed_and_hides_secret(api: Resources, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=401, json={"error": "invalid_client"})
    with pytest.raises(AuthenticationError) as info:
        await api.authentication.get_o_auth_token(
            body=GetOAuthTokenBody(
                grant_type=GrantType.CLIENT_CREDENTIALS, client_id="id", client_secret="hunter2"
            )
        )
    assert info.value.operation == "getOAuthToken"
    assert info.value.method == "POST"
    assert "hunter2" not in str(info.value.__dict__)


def test_url_query_secrets_redacted_and_attempts_copied() -> None:
    request = httpx.Request(
        "GET", "https://user:pw@api.test/v2/x?access_token=abc&client_secret=s&page=2"
    )
    response = httpx.Response(
        503, request=request, extensions={"intralinks_attempts": 4}, text="down"
    )
    err = make_status_error(response, operation="op")
    assert isinstance(err, InternalServerError)
    assert err.attempts == 4
    assert err.url is not None
    assert "abc" not in err.url and "pw" not in err.url and "=s&" not in err.url
    assert "page=2" in err.url
    assert "attempts=4" in str(err)


def test_raise_for_status_passes_2xx_and_handles_missing_request() -> None:
    raise_for_status(httpx.Response(204))
    raise_for_status(httpx.Response(206, content=b"x"))
    with pytest.raises(ConflictError) as info:
        raise_for_status(
            httpx.Response(409, json={"error": {"message": "exists"}}), operation="createFolder"
        )
    assert info.value.method is None and info.value.url is None
    assert info.value.message == "exists"


async def test_download_error_raised_on_entry(sender: HttpxSender, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=404, html="<html><title>Document gone</title></html>")
    with pytest.raises(NotFoundError) as info:
        async with download_document.stream_detailed("ws1", "d1", client=sender):
            pytest.fail("entered the context despite a 404")
    assert info.value.message == "Document gone"
    assert info.value.operation == "downloadDocument"


def test_connection_errors() -> None:
    err = APIConnectionError(
        "connection reset",
        operation="getWorkspace",
        method="GET",
        url="https://api.test/v2/x?token=t0k",
        attempts=3,
    )
    assert isinstance(err, IntralinksError)
    assert err.attempts == 3 and err.operation == "getWorkspace" and err.method == "GET"
    assert "t0k" not in str(err)
    timeout = APITimeoutError(operation="listWorkspaces")
    assert isinstance(timeout, APIConnectionError)
    assert "timed out" in str(timeout)


async def test_long_message_is_clipped(api: Resources, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(status_code=400, json={"error": {"message": "m" * 10_000}})
    with pytest.raises(BadRequestError) as info:
        await api.workspaces.get("ws1")
    assert 500 <= len(info.value.message) <= 503
