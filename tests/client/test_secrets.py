"""No secret or token in DEBUG logs, reprs or exception strings."""

from __future__ import annotations

import logging

import pytest
from client_helpers import CLIENT_SECRET, SleepRecorder, make_client

from intralinks_async import FileTokenStore, OAuth2Auth, TokenSet
from intralinks_async._logging import SecretStr, redact_headers
from intralinks_async.errors import APIStatusError, AuthenticationError, IntralinksError
from intralinks_async.testing import create_app

SECRET = "Sup3r-Secret-Value-XYZ"


def test_secret_str_and_token_set_hide_values() -> None:
    secret = SecretStr(SECRET)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}"):
        assert SECRET not in text
    assert secret.get_secret_value() == SECRET
    assert secret == SecretStr(SECRET) and secret != SecretStr("other")
    token = TokenSet("access-XYZ", expires_at=1.0, refresh_token="refresh-XYZ")
    assert "XYZ" not in repr(token) and "XYZ" not in str(token)
    auth = OAuth2Auth.client_credentials("cid", SECRET)
    assert SECRET not in repr(auth) and SECRET not in str(auth)
    assert "cid" in repr(auth)
    assert redact_headers([("Authorization", "Bearer x"), ("X-Ok", "1")]) == {
        "Authorization": "[REDACTED]",
        "X-Ok": "1",
    }
    assert "XYZ" not in repr(FileTokenStore("/tmp/x-XYZ-free.json")).replace("x-XYZ", "")


async def test_no_secret_in_debug_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(clients={"demo": CLIENT_SECRET, "other": SECRET})
    emu = app.state.emulator
    [ws_id] = emu.seed_workspaces(1)
    caplog.set_level(logging.DEBUG, logger="intralinks_async")
    texts: list[str] = []
    secrets: set[str] = {SECRET, CLIENT_SECRET}
    sleeps = SleepRecorder()

    async with make_client(app, client_id="other", client_secret=SECRET, sleep=sleeps) as client:
        texts.append(repr(client))
        texts.append(str(client))
        await client.workspaces.get(ws_id)
        first = client.auth.token
        secrets |= {first.access_token, first.refresh_token}
        emu.revoke_all_tokens()  # 401 -> refresh -> replay (logged)
        await client.workspaces.get(ws_id)
        second = client.auth.token
        secrets |= {second.access_token, second.refresh_token}
        emu.inject_fault("503", count=10, operation="getWorkspace")
        for exc_type, call in (
            (APIStatusError, client.workspaces.get(ws_id)),  # retried 503s, then raised
            (APIStatusError, client.workspaces.get("missing")),
        ):
            with pytest.raises(exc_type) as info:
                await call
            texts += [str(info.value), repr(info.value), str(info.value.body)]
        texts.append(repr(client.auth.token))
        texts.append(repr(client))

    async with make_client(app, client_id="other", client_secret="wrong-" + SECRET) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.workspaces.get(ws_id)
        texts += [str(info.value), repr(info.value), str(info.value.body), repr(bad)]
    secrets.add("wrong-" + SECRET)

    async with make_client(app, redirect_uri="https://app/cb") as code_client:
        _, state = code_client.authorization_url()
        with pytest.raises(IntralinksError) as info:
            await code_client.exchange_code("bogus-code-XYZ", state=state)
        texts += [str(info.value), repr(info.value)]

    logs = caplog.text
    assert "request GET" in logs and "response 401" in logs and "retrying GET" in logs
    assert "requesting token" in logs
    joined = "\n".join(texts) + "\n" + logs
    for secret in secrets:
        assert secret and secret not in joined, "a secret leaked"
    assert "bogus-code-XYZ" not in joined


async def test_traceback_of_a_transport_error_carries_no_secret(httpx_mock) -> None:
    import traceback

    import httpx

    from intralinks_async import IntralinksClient
    from intralinks_async.errors import APIConnectionError

    leaky = f"connect failed for https://proxy.example/x?access_token={SECRET}&a=1"
    httpx_mock.add_exception(httpx.ConnectError(leaky))
    async with IntralinksClient(
        access_token="t", max_retries=0, transport=httpx.AsyncHTTPTransport()
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.request("GET", "/x", operation="x")
    rendered = "".join(traceback.format_exception(info.value))
    assert "ConnectError" in rendered
    assert SECRET not in rendered


async def test_token_error_echoing_the_secret_value_is_scrubbed(httpx_mock) -> None:
    import httpx

    from intralinks_async import IntralinksClient

    refresh = "Refresh-Token-Value-QQQ"
    httpx_mock.add_response(
        url="https://api.intralinks.com/v2/oauth/token",
        method="POST",
        status_code=400,
        json={
            "error": "invalid_grant",
            "error_description": f"refresh {refresh} rejected for client secret {SECRET}",
        },
    )
    async with IntralinksClient(
        client_id="cid",
        client_secret=SECRET,
        refresh_token=refresh,
        transport=httpx.AsyncHTTPTransport(),
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.request("GET", "/x", operation="x")
    err = info.value
    for text in (str(err), repr(err), str(err.body), str(err.hint), str(err.errors)):
        assert SECRET not in text and refresh not in text


async def test_tracebacks_with_locals_carry_no_secret(httpx_mock) -> None:
    """Error reporters (Sentry, rich's show_locals, pytest -l) print frame locals."""
    import traceback

    import httpx

    from intralinks_async import IntralinksClient
    from intralinks_async.errors import APIConnectionError

    api = "https://api.intralinks.com/v2"
    access = "Access-Token-Value-LLL"
    httpx_mock.add_response(
        url=f"{api}/oauth/token", method="POST", json={"access_token": access, "expires_in": 60}
    )
    httpx_mock.add_exception(httpx.ReadError("reset"), url=f"{api}/x")
    httpx_mock.add_response(url=f"{api}/oauth/token", method="POST", status_code=401, json={})
    async with IntralinksClient(
        client_id="cid", client_secret=SECRET, max_retries=0, transport=httpx.AsyncHTTPTransport()
    ) as client:
        with pytest.raises(APIConnectionError) as conn:
            await client.request("GET", "/x", operation="x")
    async with IntralinksClient(
        client_id="cid", client_secret=SECRET, max_retries=0, transport=httpx.AsyncHTTPTransport()
    ) as refused:
        with pytest.raises(AuthenticationError) as auth:
            await refused.request("GET", "/x", operation="x")
    for err in (conn.value, auth.value):
        assert err.__traceback__ is not None
        err.with_traceback(err.__traceback__.tb_next)  # drop this test's own frame
        rendered = "".join(
            traceback.TracebackException.from_exception(err, capture_locals=True).format()
        )
        assert SECRET not in rendered and access not in rendered


async def test_transport_error_tracebacks_with_locals_carry_no_secret() -> None:
    """Third-party frames (aiohttp, httpcore) hold request bodies and headers in locals."""
    import socket
    import traceback

    from intralinks_async import IntralinksClient
    from intralinks_async.errors import APIConnectionError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: connections refused
    url = f"http://127.0.0.1:{port}"
    bearer = "Bearer-Token-Value-MMM"
    rendered: list[str] = []
    for options in (
        {"client_id": "cid", "client_secret": SECRET},  # the token request fails
        {"access_token": bearer},  # the API call fails
    ):
        async with IntralinksClient(url, max_retries=0, **options) as client:  # type: ignore[arg-type]
            with pytest.raises(APIConnectionError) as info:
                await client.request("GET", "/x", operation="x")
        err = info.value
        assert err.__traceback__ is not None
        err.with_traceback(err.__traceback__.tb_next)  # drop this test's own frame
        text = "".join(
            traceback.TracebackException.from_exception(err, capture_locals=True).format()
        )
        assert "ConnectError" in text  # the cause is still named
        rendered.append(text)
    assert SECRET not in rendered[0] and bearer not in rendered[1]
