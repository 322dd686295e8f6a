"""Retry policy and the retry loop: statuses, transport errors, POST safety, deadlines."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from client_helpers import SleepRecorder
from pytest_httpx import HTTPXMock

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async._retry import never_sent, parse_retry_after
from intralinks_async.errors import APIConnectionError, APITimeoutError, InternalServerError

API = "https://api.intralinks.com/v2"


def client(sleeps: SleepRecorder, **kwargs: object) -> IntralinksClient:
    c = IntralinksClient(transport=httpx.AsyncHTTPTransport(), access_token="t", **kwargs)  # type: ignore[arg-type]
    c._sleep = sleeps
    return c


def test_backoff_grows_to_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=4.0, jitter=0.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    jittered = RetryPolicy(backoff_base=1.0, backoff_cap=8.0, jitter=0.5)
    for _ in range(200):
        assert 2.0 <= jittered.backoff(3) <= 4.0


def test_retry_after_parsing_and_cap() -> None:
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    policy = RetryPolicy(retry_after_cap=10.0, jitter=0.0)
    assert policy.delay(1, {"retry-after": "3"}) == 3.0
    assert policy.delay(1, {"retry-after": "3600"}) == 10.0
    assert policy.delay(2, {}) == 1.0


def test_method_and_error_classification() -> None:
    policy = RetryPolicy()
    req = httpx.Request("GET", "https://x")
    assert policy.retry_status("GET", 503) and policy.retry_status("PUT", 429)
    # 429/503: the server did not process the request, so POST is retried too.
    assert policy.retry_status("POST", 503) and policy.retry_status("POST", 429)
    assert not policy.retry_status("POST", 502) and not policy.retry_status("POST", 500)
    assert not policy.retry_status("GET", 404)
    assert not policy.retry_status("GET", 503, replayable=False)
    assert not RetryPolicy(non_idempotent_statuses=frozenset()).retry_status("POST", 429)
    assert never_sent(httpx.ConnectError("refused", request=req))
    assert policy.retry_error("POST", httpx.ConnectError("refused", request=req))
    assert policy.retry_error("POST", httpx.ConnectTimeout("slow", request=req))
    assert not policy.retry_error("POST", httpx.ReadError("reset", request=req))
    assert not policy.retry_error("POST", httpx.ReadTimeout("slow", request=req))
    assert policy.retry_error("GET", httpx.RemoteProtocolError("dropped", request=req))
    assert not policy.retry_error("GET", httpx.ReadError("x", request=req), replayable=False)
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(jitter=2)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_then_success(httpx_mock: HTTPXMock, status: int) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/r", status_code=status, headers={"Retry-After": "2"})
    httpx_mock.add_response(url=f"{API}/r", json={"ok": True})
    async with client(sleeps) as c:
        response = await c.request("GET", "/r", operation="op")
    assert response.status_code == 200
    assert response.extensions["intralinks_attempts"] == 2
    [delay] = sleeps.delays
    assert 2.0 <= delay <= 2.1  # Retry-After honoured, plus a little spread


async def test_persistent_503_returns_last_response_with_attempts(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/workspaces/w", status_code=503, is_reusable=True)
    async with client(sleeps, max_retries=2) as c:
        with pytest.raises(InternalServerError) as info:
            await c.workspaces.get("w")
    assert info.value.attempts == 3
    assert len(httpx_mock.get_requests()) == 3
    assert len(sleeps.delays) == 2


async def test_post_is_not_retried_on_status_or_after_sending(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/p", method="POST", status_code=502)
    httpx_mock.add_exception(httpx.ReadError("connection reset"), url=f"{API}/q", method="POST")
    async with client(sleeps) as c:
        response = await c.request("POST", "/p", operation="p", json={})
        assert response.status_code == 502
        assert response.extensions["intralinks_attempts"] == 1
        with pytest.raises(APIConnectionError) as info:
            await c.request("POST", "/q", operation="createThing", json={})
    assert info.value.attempts == 1
    assert info.value.operation == "createThing"
    assert info.value.outcome_unknown  # the body left: it may have been processed
    assert sleeps.delays == []


async def test_post_is_retried_when_never_sent(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=f"{API}/p", method="POST")
    httpx_mock.add_response(url=f"{API}/p", method="POST", status_code=201)
    async with client(sleeps) as c:
        response = await c.request("POST", "/p", operation="p", json={"a": 1})
    assert response.status_code == 201
    assert response.extensions["intralinks_attempts"] == 2


async def test_timeouts_exhaust_into_api_timeout_error(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=f"{API}/t", is_reusable=True)
    async with client(sleeps, max_retries=2) as c:
        with pytest.raises(APITimeoutError) as info:
            await c.request("GET", "/t", operation="slowOp")
    assert info.value.attempts == 3
    assert "slowOp" in str(info.value)


async def test_stream_body_is_not_replayed_once_sent(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    sent: list[bytes] = []

    def fail_after_reading(request: httpx.Request) -> httpx.Response:
        sent.append(request.read())
        raise httpx.ReadError("reset after upload")

    httpx_mock.add_callback(fail_after_reading, url=f"{API}/u", method="PUT")

    async def body():
        yield b"one-shot"

    async with client(sleeps) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.request("PUT", "/u", operation="upload", content=body())
    assert sent == [b"one-shot"]
    assert info.value.attempts == 1


async def test_bytes_body_is_replayed(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/u", method="PUT", status_code=502)
    httpx_mock.add_response(url=f"{API}/u", method="PUT")
    async with client(sleeps) as c:
        response = await c.request("PUT", "/u", operation="put", content=b"payload")
    assert response.extensions["intralinks_attempts"] == 2
    assert [r.content for r in httpx_mock.get_requests()] == [b"payload", b"payload"]


async def test_overall_deadline_stops_retries(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/d", status_code=429, headers={"Retry-After": "50"})
    policy = RetryPolicy(max_retries=5, total_timeout=10.0)
    async with client(sleeps, retry=policy) as c:
        response = await c.request("GET", "/d", operation="d")
    assert response.status_code == 429
    assert response.extensions["intralinks_attempts"] == 1
    assert sleeps.delays == []


async def test_with_options_view_shares_pool_and_token(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/v", status_code=503)
    httpx_mock.add_response(url=f"{API}/v", status_code=503)
    httpx_mock.add_response(url=f"{API}/v", json={})
    async with client(sleeps, max_retries=5) as c:
        strict = c.with_options(max_retries=0, timeout=3.0)
        response = await strict.request("GET", "/v", operation="v")
        assert response.status_code == 503 and response.extensions["intralinks_attempts"] == 1
        assert strict.timeout.read == 3.0 and c.timeout.read == 60.0
        assert strict._get_transport() is c._get_transport()
        assert strict.workspaces._sender is strict
        await strict.aclose()  # closes nothing shared
        response = await c.request("GET", "/v", operation="v")
        assert response.extensions["intralinks_attempts"] == 2
    assert c.retry.max_retries == 5 and strict.retry.max_retries == 0


def test_retry_after_is_honoured_never_early_but_spread() -> None:
    policy = RetryPolicy(jitter=0.5, retry_after_cap=60.0)
    delays = [policy.delay(1, {"retry-after": "10"}) for _ in range(100)]
    assert min(delays) >= 10.0 and max(delays) <= 10.5
    assert len(set(delays)) > 50  # 1,000 rate-limited callers do not return in lockstep
    assert policy.delay(1, {"retry-after": "0"}) == 0.0
    assert 60.0 <= policy.delay(1, {"retry-after": "86400"}) <= 63.0
