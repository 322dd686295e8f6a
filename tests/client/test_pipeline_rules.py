"""The pipeline's retry rules (one owner: the client), body factories and the attempt hook."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator

import httpx
import pytest
from client_helpers import SleepRecorder
from pytest_httpx import HTTPXMock

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async._pipeline import AttemptRecord
from intralinks_async._retry import fatal_connect_error
from intralinks_async.errors import APIConnectionError, RateLimitError

API = "https://api.intralinks.com/v2"


def client(sleeps: SleepRecorder, **kwargs: object) -> IntralinksClient:
    c = IntralinksClient(transport=httpx.AsyncHTTPTransport(), access_token="t", **kwargs)  # type: ignore[arg-type]
    c._sleep = sleeps
    return c


async def test_429_on_a_post_is_retried_and_does_not_use_up_max_retries(
    httpx_mock: HTTPXMock,
) -> None:
    sleeps = SleepRecorder()
    for _ in range(6):
        httpx_mock.add_response(
            url=f"{API}/p", method="POST", status_code=429, headers={"Retry-After": "1"}
        )
    httpx_mock.add_response(url=f"{API}/p", method="POST", status_code=201, json={"id": "d1"})
    async with client(sleeps, max_retries=1, adaptive_rate=False) as c:
        response = await c.request("POST", "/p", operation="uploadDocument", content=b"body")
    assert response.status_code == 201
    assert response.extensions["intralinks_attempts"] == 7
    assert len(sleeps.delays) == 6 and all(d >= 1.0 for d in sleeps.delays)
    assert [r.content for r in httpx_mock.get_requests()] == [b"body"] * 7


async def test_503_on_a_post_is_retried_within_max_retries(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/p", method="POST", status_code=503, is_reusable=True)
    async with client(sleeps, max_retries=2) as c:
        response = await c.request("POST", "/p", operation="p", json={"a": 1})
    assert response.status_code == 503 and response.extensions["intralinks_attempts"] == 3


async def test_max_retries_zero_retries_nothing_not_even_a_429(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(
        url=f"{API}/workspaces/g", status_code=429, headers={"Retry-After": "1"}
    )
    async with client(sleeps, max_retries=0) as c:
        with pytest.raises(RateLimitError):
            await c.workspaces.get("g")  # /workspaces/g
    assert sleeps.delays == []


async def test_a_body_factory_is_called_once_per_attempt(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/u", method="POST", status_code=429)
    httpx_mock.add_response(url=f"{API}/u", method="POST", status_code=503)
    httpx_mock.add_response(url=f"{API}/u", method="POST", status_code=201)
    calls: list[int] = []

    def factory() -> AsyncIterator[bytes]:
        calls.append(1)

        async def gen() -> AsyncIterator[bytes]:
            yield b"part-1;"
            yield b"part-2"

        return gen()

    async with client(sleeps) as c:
        response = await c.request("POST", "/u", operation="upload", content=factory)
    assert response.status_code == 201
    assert len(calls) == 3
    assert [r.read() for r in httpx_mock.get_requests()] == [b"part-1;part-2"] * 3


async def test_a_one_shot_stream_is_not_resent_after_a_429(httpx_mock: HTTPXMock) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(url=f"{API}/u", method="POST", status_code=429)

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    async with client(sleeps) as c:
        response = await c.request("POST", "/u", operation="upload", content=body())
    assert response.status_code == 429 and response.extensions["intralinks_attempts"] == 1


async def test_broken_connection_after_sending_a_post_is_outcome_unknown(
    httpx_mock: HTTPXMock,
) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_exception(httpx.RemoteProtocolError("closed mid-answer"), method="POST")
    async with client(sleeps) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.request("POST", "/u", operation="uploadDocument", content=b"x")
    assert info.value.outcome_unknown and info.value.attempts == 1
    assert "may or may not have taken effect" in str(info.value)
    assert sleeps.delays == []


async def test_connect_failure_is_not_outcome_unknown_and_is_retried(
    httpx_mock: HTTPXMock,
) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_exception(httpx.ConnectError("refused"), method="POST", is_reusable=True)
    async with client(sleeps, max_retries=2) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.request("POST", "/u", operation="uploadDocument", content=b"x")
    assert not info.value.outcome_unknown and info.value.attempts == 3


def _connect_error_from(cause: BaseException) -> httpx.ConnectError:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise httpx.ConnectError(str(exc)) from exc
    except httpx.ConnectError as error:
        return error


def test_dns_and_certificate_failures_are_recognised_in_the_cause_chain() -> None:
    assert fatal_connect_error(
        _connect_error_from(socket.gaierror(-2, "Name or service not known"))
    )
    assert fatal_connect_error(_connect_error_from(ssl.SSLCertVerificationError("self-signed")))
    assert not fatal_connect_error(_connect_error_from(ConnectionRefusedError(111, "refused")))
    assert not fatal_connect_error(httpx.ConnectError("refused"))


@pytest.mark.parametrize(
    "cause",
    [socket.gaierror(-2, "Name or service not known"), ssl.SSLCertVerificationError("expired")],
)
async def test_dns_and_tls_verification_failures_fail_at_once(
    httpx_mock: HTTPXMock, cause: BaseException
) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_exception(_connect_error_from(cause), is_reusable=True)
    async with client(sleeps) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.request("GET", "/w", operation="getWorkspace")
    assert info.value.attempts == 1 and sleeps.delays == []
    assert "not retried" in str(info.value)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_an_unresolvable_host_fails_at_once(transport: str) -> None:
    sleeps = SleepRecorder()
    kwargs: dict[str, object] = {}
    if transport == "httpx":
        kwargs["transport"] = httpx.AsyncHTTPTransport()
    c = IntralinksClient("https://no-such-host.invalid", access_token="t", **kwargs)  # type: ignore[arg-type]
    c._sleep = sleeps
    async with c:
        with pytest.raises(APIConnectionError) as info:
            await c.workspaces.get("w")
    assert info.value.attempts == 1 and sleeps.delays == []


async def test_on_attempt_hook_sees_every_attempt_and_operation_travels(
    httpx_mock: HTTPXMock,
) -> None:
    sleeps = SleepRecorder()
    httpx_mock.add_response(
        url=f"{API}/workspaces/w", status_code=429, headers={"Retry-After": "0"}
    )
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=f"{API}/workspaces/w")
    httpx_mock.add_response(url=f"{API}/workspaces/w", json={"id": "w", "name": "n"})
    records: list[AttemptRecord] = []
    async with client(sleeps, on_attempt=[records.append]) as c:
        await c.workspaces.get("w")
    assert [(r.attempt, r.status, r.throttled) for r in records] == [
        (1, 429, True),
        (2, None, False),
        (3, 200, False),
    ]
    assert all(r.operation == "getWorkspace" for r in records)
    assert isinstance(records[1].exception, httpx.ReadTimeout)
    assert records[0].retry_in is not None and records[2].retry_in is None
    assert all(r.elapsed >= 0 for r in records)
    for request in httpx_mock.get_requests():
        assert request.extensions["intralinks_operation"] == "getWorkspace"


async def test_a_failing_attempt_hook_does_not_break_the_call(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{API}/workspaces/w", json={"id": "w"})

    def broken(record: AttemptRecord) -> None:
        raise RuntimeError("metrics backend down")

    async with client(SleepRecorder(), on_attempt=[broken]) as c:
        assert (await c.workspaces.get("w")).id == "w"


async def test_with_options_views_share_rate_control_and_circuit(httpx_mock: HTTPXMock) -> None:
    async with client(SleepRecorder(), rate_limit=50.0) as c:
        view = c.with_options(max_retries=0, retry=RetryPolicy(total_timeout=5))
        assert view.rate_control is c.rate_control and view.circuit is c.circuit
        snap = c.rate_control.snapshot()
        assert snap.mode == "adaptive" and snap.rate == 50.0 and snap.rate_limit == 50.0
        assert snap.to_dict()["throttled"] == 0
