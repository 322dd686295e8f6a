"""OAuth token lifecycle against the emulator (in-process ASGI unless noted)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from client_helpers import BASE, CLIENT_SECRET, make_client

from intralinks_async import (
    FileTokenStore,
    IntralinksClient,
    MemoryTokenStore,
    OAuth2Auth,
    TokenSet,
)
from intralinks_async.errors import AuthenticationError, IntralinksError
from intralinks_async.testing import create_app, serve_in_thread


def expired_store() -> MemoryTokenStore:
    return MemoryTokenStore(
        TokenSet(access_token="expired-token", expires_at=time.time() - 10, lifetime=3600)
    )


async def test_1000_concurrent_calls_with_expired_token_make_one_token_request(app, emu) -> None:
    [ws_id] = emu.seed_workspaces(1)
    async with make_client(app, token_store=expired_store()) as client:
        results: list[str] = []

        async def call() -> None:
            results.append((await client.workspaces.get(ws_id)).id)

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(call)
    assert results == [ws_id] * 1000
    assert sum(emu.oauth.token_requests.values()) == 1
    assert client.auth.token_requests == 1


def test_single_flight_under_trio() -> None:
    async def main() -> None:
        app = create_app()
        emu = app.state.emulator
        [ws_id] = emu.seed_workspaces(1)
        async with make_client(app) as client, anyio.create_task_group() as tg:
            for _ in range(200):
                tg.start_soon(client.workspaces.get, ws_id)
        assert sum(emu.oauth.token_requests.values()) == 1

    anyio.run(main, backend="trio")


async def test_401_refreshes_once_and_replays(app, emu) -> None:
    [ws_id] = emu.seed_workspaces(1)
    async with make_client(app) as client:
        await client.workspaces.get(ws_id)
        emu.revoke_all_tokens()  # server-side invalidation: next call gets 401
        ws = await client.workspaces.get(ws_id)
    assert ws.id == ws_id
    assert sum(emu.oauth.token_requests.values()) == 2


async def test_static_token_401_is_not_replayed(app, emu) -> None:
    [ws_id] = emu.seed_workspaces(1)
    async with make_client(app, client_id=None, client_secret=None, access_token="made-up") as c:
        with pytest.raises(AuthenticationError) as info:
            await c.workspaces.get(ws_id)
    assert info.value.attempts == 1
    assert emu.requests["getWorkspace"] == 1


async def test_bad_secret_raises_authentication_error_without_secret(app) -> None:
    secret = "wrong-secret-value-123"
    async with make_client(app, client_secret=secret) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.workspaces.list().pages().__anext__()
    assert info.value.operation == "getOAuthToken"
    assert secret not in str(info.value) and secret not in repr(info.value)


def test_refresh_window_is_clamped_for_short_tokens() -> None:
    auth = OAuth2Auth.client_credentials("c", "s")
    now = time.time()
    auth._set_token(TokenSet("a", expires_at=now + 2, lifetime=2))
    assert auth.fresh_token() == "a"  # a 2 s token is not refreshed on every call
    assert now + 1.5 < auth._refresh_at < now + 2
    auth._set_token(TokenSet("b", expires_at=now + 3600, lifetime=3600))
    assert auth._refresh_at == pytest.approx(now + 3300)


async def test_failed_refresh_keeps_a_still_valid_token(app, emu) -> None:
    [ws_id] = emu.seed_workspaces(1)
    # A window as long as the lifetime: always due for refresh-ahead, yet valid for an hour.
    auth = OAuth2Auth.client_credentials(
        "demo", CLIENT_SECRET, refresh_window=3600, refresh_window_fraction=1.0
    )
    async with IntralinksClient(BASE, auth=auth, transport=httpx.ASGITransport(app=app)) as c:
        await c.workspaces.get(ws_id)
        first = auth.token
        emu.oauth.clients["demo"] = "rotated-secret"  # refreshes now fail with 401
        for _ in range(5):
            assert (await c.workspaces.get(ws_id)).id == ws_id
        assert auth.token is first
    # One initial token, one failed refresh; no refresh storm while backing off.
    assert sum(emu.oauth.token_requests.values()) == 2


async def test_refresh_token_grant_rotates_into_file_store(app, emu, tmp_path: Path) -> None:
    [ws_id] = emu.seed_workspaces(1)
    async with make_client(app) as bootstrap:
        await bootstrap.workspaces.get(ws_id)
        refresh = bootstrap.auth.token.refresh_token
    path = tmp_path / "tokens" / "intralinks.json"
    store = FileTokenStore(path)
    async with make_client(app, refresh_token=refresh, token_store=store) as client:
        await client.workspaces.get(ws_id)
        rotated = client.auth.token.refresh_token
    assert rotated and rotated != refresh
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    saved = await store.load()
    assert saved is not None and saved.refresh_token == rotated
    assert emu.oauth.token_requests["refresh_token"] == 1
    # A second client sharing the file adopts the still-valid token: no token request.
    async with make_client(app, refresh_token="stale-unused", token_store=store) as again:
        await again.workspaces.get(ws_id)
    assert emu.oauth.token_requests["refresh_token"] == 1
    assert not list(path.parent.glob("*.tmp"))


_WORKER = textwrap.dedent(
    """
    import sys, anyio
    from intralinks_async import FileTokenStore, IntralinksClient

    async def main(url, path, ws_id):
        store = FileTokenStore(path)
        async with IntralinksClient(url, client_id="demo", client_secret="demo-secret",
                                    refresh_token="only-used-if-store-empty", token_store=store) as c:
            await c.workspaces.get(ws_id)
            print("ok")

    anyio.run(main, *sys.argv[1:])
    """
)


def test_processes_sharing_a_file_store_spend_a_rotating_refresh_token_once(tmp_path: Path) -> None:
    app = create_app()
    emu = app.state.emulator
    [ws_id] = emu.seed_workspaces(1)
    path = tmp_path / "shared.json"
    with serve_in_thread(app) as url:

        async def seed() -> None:
            async with IntralinksClient(url, client_id="demo", client_secret=CLIENT_SECRET) as c:
                await c.workspaces.get(ws_id)
                token = c.auth.token
                # Store an expired access token with a live rotating refresh token.
                token.expires_at = time.time() - 1
                await FileTokenStore(path).save(token)

        anyio.run(seed)
        script = tmp_path / "worker.py"
        script.write_text(_WORKER)
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), url, str(path), ws_id],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    # Exactly one process refreshed; the others adopted its token from the file.
    assert emu.oauth.token_requests["refresh_token"] == 1
    assert emu.oauth.auth_failures.total() == 0


async def test_authorization_code_flow(app, emu) -> None:
    [ws_id] = emu.seed_workspaces(1)
    redirect = "https://app.example.com/callback"
    async with make_client(app, redirect_uri=redirect) as client:
        url, state = client.authorization_url(scope="read")
        query = parse_qs(urlsplit(url).query)
        assert url.startswith(f"{BASE}/oauth/authorize?")
        assert query["response_type"] == ["code"] and query["client_id"] == ["demo"]
        assert query["redirect_uri"] == [redirect] and query["state"] == [state]
        assert len(state) >= 20 and client.authorization_url()[1] != state
        _, state = client.authorization_url()
        with pytest.raises(IntralinksError, match="no access token yet"):
            await client.workspaces.get(ws_id)
        code = emu.issue_authorization_code("demo", redirect_uri=redirect)
        with pytest.raises(IntralinksError, match="state mismatch"):
            await client.exchange_code(code, state="forged")
        token = await client.exchange_code(code, state=state)
        assert "**" in repr(token) and token.access_token not in repr(token)
        assert (await client.workspaces.get(ws_id)).id == ws_id
        # Later refreshes use the refresh token obtained from the code.
        client.auth._refresh_at = 0
        await client.workspaces.get(ws_id)
    assert emu.oauth.token_requests["authorization_code"] == 1
    assert emu.oauth.token_requests["refresh_token"] == 1


async def test_revoke_on_close(app, emu) -> None:
    [ws_id] = emu.seed_workspaces(1)
    async with make_client(app, revoke_on_close=True) as client:
        await client.workspaces.get(ws_id)
    assert emu.oauth.revocations == 1
    assert client.auth.token is None


@pytest.mark.slow
async def test_two_second_tokens_for_thirty_seconds(emu, app) -> None:
    """Done-when: 2 s token lifetime, 30 s of continuous calls, no AuthenticationError."""
    app = create_app(token_ttl=2)
    emu = app.state.emulator
    [ws_id] = emu.seed_workspaces(1)
    calls = 0
    async with make_client(app) as client:
        start = time.monotonic()

        async def worker() -> None:
            nonlocal calls
            while time.monotonic() - start < 30:
                await client.workspaces.get(ws_id)  # raises on any AuthenticationError
                calls += 1
                await anyio.sleep(0.005)

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(worker)
        runtime = time.monotonic() - start
    tokens = sum(emu.oauth.token_requests.values())
    expected = runtime / 2
    print(f"calls={calls} token_requests={tokens} runtime/lifetime={expected:.1f}")
    assert calls > 1000
    assert emu.oauth.auth_failures.total() == 0
    assert expected * 0.8 <= tokens <= expected * 1.3 + 1, (tokens, expected)
