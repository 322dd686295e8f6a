"""Hostile non-2xx answers still end in the typed status error (never a raw builtin)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intralinks_async.errors import APIStatusError, BadRequestError, make_status_error

REQUEST = httpx.Request("GET", "https://api.test/v2/workspaces/ws1")


def _error(body: bytes, content_type: str, status: int = 400) -> APIStatusError:
    response = httpx.Response(
        status, content=body, headers={"Content-Type": content_type}, request=REQUEST
    )
    return make_status_error(response, operation="getWorkspace")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"[" * 100_000, "application/json"),  # nested too deeply for json
        (b'{"error": ' * 50_000, "application/json"),
        (b"\xff\xfe not idna", "text/plain; charset=idna"),  # a codec without errors=replace
        (b"abc", "text/plain; charset=rot13"),  # not a text encoding
        (b"abc", "text/plain; charset=no-such-codec"),
        (b"+\xff-", "text/plain; charset=utf-7"),
    ],
)
def test_hostile_error_bodies_still_build_the_status_error(body: bytes, content_type: str) -> None:
    error = _error(body, content_type)
    assert isinstance(error, BadRequestError)
    assert error.operation == "getWorkspace" and error.status_code == 400


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    content_type=st.sampled_from(
        ["application/json", "text/html", "text/plain; charset=latin-1", "application/xml", ""]
    ),
    status=st.sampled_from([400, 401, 403, 404, 409, 422, 429, 500, 503, 418]),
)
def test_any_error_body_builds_a_status_error(body: bytes, content_type: str, status: int) -> None:
    error = _error(body, content_type, status)
    assert isinstance(error, APIStatusError) and error.status_code == status
    assert isinstance(str(error), str)


# -- the token endpoint ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        b"[" * 100_000,
        b'"token"',
        b'{"access_token": 5}',
        b'{"access_token": ["a"]}',
    ],
)
async def test_malformed_token_answers_end_typed(body: bytes) -> None:
    from intralinks_async import IntralinksClient, RetryPolicy
    from intralinks_async.errors import IntralinksError

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    async with IntralinksClient(
        "http://127.0.0.1:9",
        client_id="cid",
        client_secret="client-secret-value",
        retry=RetryPolicy(max_retries=0),
        transport=httpx.MockTransport(answer),
    ) as client:
        with pytest.raises(IntralinksError) as info:
            await client.workspaces.get("ws1")
    assert "getOAuthToken" in str(info.value)


@pytest.mark.parametrize("expires_in", ["NaN", "Infinity", "1" + "0" * 400, '"nan"'])
async def test_non_finite_token_lifetimes_do_not_refresh_on_every_call(expires_in: str) -> None:
    from intralinks_async import IntralinksClient

    token_calls = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal token_calls
        if request.url.path.endswith("/oauth/token"):
            token_calls += 1
            body = '{"access_token": "access-token-value", "expires_in": ' + expires_in + "}"
            return httpx.Response(200, content=body.encode())
        return httpx.Response(200, json={"id": "ws1"})

    async with IntralinksClient(
        "http://127.0.0.1:9",
        client_id="cid",
        client_secret="client-secret-value",
        transport=httpx.MockTransport(answer),
    ) as client:
        for _ in range(3):
            assert (await client.workspaces.get("ws1")).id == "ws1"
    assert token_calls == 1
