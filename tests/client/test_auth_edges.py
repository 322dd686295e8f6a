"""Adversarial single-flight cases: failed and cancelled refreshes, rotating tokens."""

from __future__ import annotations

import anyio
import httpx
import pytest

from intralinks_async import OAuth2Auth
from intralinks_async.errors import AuthenticationError

TOKEN_URL = "https://api.example/oauth/token"


def _response(status: int, payload: dict[str, object]) -> httpx.Response:
    return httpx.Response(status, json=payload, request=httpx.Request("POST", TOKEN_URL))


async def test_a_failed_refresh_is_shared_by_every_waiter_not_repeated() -> None:
    """50 callers, token endpoint rejecting the client: one token request, 50 errors."""
    auth = OAuth2Auth.client_credentials("cid", "wrong-secret")
    calls = 0

    async def sender(path: str, form: dict[str, str]) -> httpx.Response:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.01)  # let every caller queue on the lock
        return _response(401, {"error": "invalid_client"})

    auth.bind(sender)
    errors: list[BaseException] = []

    async def call() -> None:
        try:
            await auth.get_token()
        except AuthenticationError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
    assert len(errors) == 50
    assert calls == 1  # not 50 sequential attempts (an account lock-out in the making)
    # invalid_client is latched: a later call fails at once, asking nobody.
    with pytest.raises(AuthenticationError):
        await auth.get_token()
    assert calls == 1 and auth.refused is not None


async def test_a_transient_token_failure_is_not_latched() -> None:
    auth = OAuth2Auth.client_credentials("cid", "secret")
    answers = [
        _response(400, {"error": "temporarily_unavailable"}),
        _response(200, {"access_token": "a", "expires_in": 3600}),
    ]
    calls = 0

    async def sender(path: str, form: dict[str, str]) -> httpx.Response:
        nonlocal calls
        calls += 1
        return answers.pop(0)

    auth.bind(sender)
    with pytest.raises(AuthenticationError):
        await auth.get_token()
    assert auth.refused is None
    assert await auth.get_token() == "a" and calls == 2


class RotatingServer:
    """A token endpoint whose refresh tokens are single use (reuse is rejected)."""

    def __init__(self) -> None:
        self.valid_refresh = "rt-1"
        self.generation = 1
        self.entered = anyio.Event()
        self.gate = anyio.Event()
        self.calls = 0

    async def __call__(self, path: str, form: dict[str, str]) -> httpx.Response:
        self.calls += 1
        if form.get("refresh_token") != self.valid_refresh:
            return _response(400, {"error": "invalid_grant"})
        self.generation += 1
        self.valid_refresh = f"rt-{self.generation}"  # rotated server-side now
        self.entered.set()
        await self.gate.wait()  # the response is still on its way
        return _response(
            200,
            {
                "access_token": f"at-{self.generation}",
                "refresh_token": self.valid_refresh,
                "expires_in": 3600,
            },
        )


async def test_cancelling_the_refreshing_task_does_not_lose_the_rotated_refresh_token() -> None:
    server = RotatingServer()
    auth = OAuth2Auth.from_refresh_token("cid", "secret", "rt-1")
    auth.bind(server)
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def impatient_caller() -> None:
            with scope:
                await auth.get_token()

        tg.start_soon(impatient_caller)
        await server.entered.wait()
        scope.cancel()  # e.g. a fail_after() around one API call
        await anyio.sleep(0.01)
        server.gate.set()
    # The rotation the server performed was kept: the next caller needs no new request.
    assert await auth.get_token() == "at-2"
    assert server.calls == 1


async def test_cancelled_waiter_does_not_break_the_flight() -> None:
    """A waiter cancelled while queued on the lock leaves the others unaffected."""
    server = RotatingServer()
    auth = OAuth2Auth.from_refresh_token("cid", "secret", "rt-1")
    auth.bind(server)
    results: list[str] = []
    async with anyio.create_task_group() as tg:

        async def caller() -> None:
            results.append(await auth.get_token())

        tg.start_soon(caller)
        await server.entered.wait()
        with anyio.move_on_after(0.01):
            await auth.get_token()  # queued behind the refresh, then cancelled
        for _ in range(5):
            tg.start_soon(caller)
        await anyio.sleep(0.01)
        server.gate.set()
    assert results == ["at-2"] * 6
    assert server.calls == 1


async def test_persistent_401_is_replayed_exactly_once(httpx_mock) -> None:
    from intralinks_async import IntralinksClient

    api = "https://api.intralinks.com/v2"
    httpx_mock.add_response(
        url=f"{api}/oauth/token",
        method="POST",
        json={"access_token": "at", "expires_in": 3600},
        is_reusable=True,
    )
    httpx_mock.add_response(url=f"{api}/x", status_code=401, json={}, is_reusable=True)
    async with IntralinksClient(
        client_id="cid", client_secret="s", transport=httpx.AsyncHTTPTransport()
    ) as client:
        response = await client.request("GET", "/x", operation="x")
    assert response.status_code == 401
    assert len(httpx_mock.get_requests(url=f"{api}/x")) == 2
    assert len(httpx_mock.get_requests(url=f"{api}/oauth/token")) == 2


async def test_a_401_from_the_token_endpoint_is_not_replayed(httpx_mock) -> None:
    from intralinks_async import IntralinksClient

    api = "https://api.intralinks.com/v2"
    httpx_mock.add_response(url=f"{api}/oauth/token", method="POST", status_code=401, json={})
    async with IntralinksClient(
        client_id="cid", client_secret="s", transport=httpx.AsyncHTTPTransport()
    ) as client:
        with pytest.raises(AuthenticationError):
            await client.request("GET", "/x", operation="x")
    assert len(httpx_mock.get_requests()) == 1


def test_file_store_creates_private_files_and_directories(tmp_path) -> None:
    import os
    import stat

    from intralinks_async import FileTokenStore, TokenSet

    old = os.umask(0)  # the most permissive umask: modes must not depend on it
    try:
        store = FileTokenStore(tmp_path / "new-dir" / "tokens.json")
        anyio.run(store.save, TokenSet("at", refresh_token="rt"))

        async def lock() -> None:
            async with store.lock():
                pass

        anyio.run(lock)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new-dir").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "new-dir" / "tokens.json").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "new-dir" / "tokens.json.lock").st_mode) == 0o600


async def test_waiting_for_the_file_store_lock_is_cancellable(tmp_path) -> None:
    """A process stuck while holding the token-file lock must not wedge this one."""
    import fcntl
    import os
    import threading

    from intralinks_async import FileTokenStore

    store = FileTokenStore(tmp_path / "tokens.json")
    fd = os.open(tmp_path / "tokens.json.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)  # "another process" holds the lock
    released = threading.Event()

    def release_later() -> None:
        threading.Event().wait(1.5)
        released.set()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    threading.Thread(target=release_later, daemon=True).start()
    with anyio.move_on_after(0.2) as scope:
        async with store.lock():
            pytest.fail("acquired a lock that another holder still has")
    assert scope.cancelled_caught
    assert not released.is_set()  # gave up while the other holder still had it
    with anyio.fail_after(10):
        async with store.lock():  # and works once it is released
            assert released.is_set()


async def test_401_on_a_streamed_upload_refreshes_for_the_next_call(httpx_mock) -> None:
    from intralinks_async import IntralinksClient

    api = "https://api.intralinks.com/v2"
    for n in (1, 2):
        httpx_mock.add_response(
            url=f"{api}/oauth/token",
            method="POST",
            json={"access_token": f"at-{n}", "expires_in": 3600},
        )
    httpx_mock.add_response(url=f"{api}/u", method="POST", status_code=401, json={})
    httpx_mock.add_response(url=f"{api}/u", method="POST", json={})

    async def body():
        yield b"document bytes"

    async with IntralinksClient(
        client_id="cid", client_secret="s", transport=httpx.AsyncHTTPTransport()
    ) as client:
        first = await client.request("POST", "/u", operation="up", content=body())
        second = await client.request("POST", "/u", operation="up", content=body())
    assert first.status_code == 401  # a one-shot body is never replayed...
    assert second.status_code == 200  # ...but the dead token was replaced for the next one
    uploads = httpx_mock.get_requests(url=f"{api}/u")
    assert [r.headers["Authorization"] for r in uploads] == ["Bearer at-1", "Bearer at-2"]


@pytest.mark.parametrize("expires_in", [0, -5])
async def test_a_token_born_due_is_still_fetched_once_for_all_waiters(expires_in: int) -> None:
    auth = OAuth2Auth.client_credentials("cid", "secret")
    calls = 0

    async def sender(path: str, form: dict[str, str]) -> httpx.Response:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.01)
        return _response(200, {"access_token": f"at-{calls}", "expires_in": expires_in})

    auth.bind(sender)
    tokens: list[str] = []

    async def call() -> None:
        tokens.append(await auth.get_token())

    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(call)
    assert calls == 1 and tokens == ["at-1"] * 50


async def test_refresh_ahead_in_flight_does_not_stall_callers_with_a_valid_token() -> None:
    import time

    from intralinks_async import TokenSet

    gate = anyio.Event()
    entered = anyio.Event()

    async def slow_sender(path: str, form: dict[str, str]) -> httpx.Response:
        entered.set()
        await gate.wait()  # a slow (or hung) token endpoint
        return _response(200, {"access_token": "new", "expires_in": 3600})

    auth = OAuth2Auth.client_credentials("cid", "secret", refresh_window=300)
    auth.bind(slow_sender)
    # Valid for 100 s more, but inside the 300 s refresh-ahead window.
    auth._set_token(TokenSet("old", expires_at=time.time() + 100, lifetime=3600))
    async with anyio.create_task_group() as tg:
        tg.start_soon(auth.get_token)  # starts the refresh ahead
        await entered.wait()
        try:
            with anyio.fail_after(5):
                others = [await auth.get_token() for _ in range(10)]
        finally:
            gate.set()
        assert others == ["old"] * 10  # served at once while the refresh was pending
    assert await auth.get_token() == "new"


async def test_revoke_clears_a_shared_file_store(app, emu, tmp_path) -> None:
    """A revoked token left in a shared store would be adopted by the next process."""
    from client_helpers import make_client

    from intralinks_async import FileTokenStore

    [ws_id] = emu.seed_workspaces(1)
    store = FileTokenStore(tmp_path / "tokens.json")
    async with make_client(app, token_store=store, revoke_on_close=True) as client:
        await client.workspaces.get(ws_id)
        assert (tmp_path / "tokens.json").exists()
    assert emu.oauth.revocations == 1
    assert await store.load() is None
    async with make_client(app, token_store=store) as again:
        await again.workspaces.get(ws_id)  # a fresh token, not the revoked one
    assert sum(emu.oauth.token_requests.values()) == 2


async def test_one_auth_cannot_silently_move_to_a_second_client(app) -> None:
    """Rebinding would route client 1's token calls through client 2 (closed or not)."""
    from client_helpers import BASE

    from intralinks_async import IntralinksClient

    auth = OAuth2Auth.client_credentials("demo", "demo-secret")
    first = IntralinksClient(BASE, auth=auth, transport=httpx.ASGITransport(app=app))
    with pytest.raises(ValueError, match="another IntralinksClient"):
        IntralinksClient(BASE, auth=auth, transport=httpx.ASGITransport(app=app))
    view = first.with_options(max_retries=0)  # views share the auth legitimately
    async with first:
        assert (await view.request("GET", "/workspaces", operation="x")).status_code == 200
    # Once the first client is closed, the auth (and its token) may move on.
    async with IntralinksClient(BASE, auth=auth, transport=httpx.ASGITransport(app=app)) as c:
        assert (await c.request("GET", "/workspaces", operation="x")).status_code == 200


async def test_cancelled_code_exchange_keeps_the_tokens_the_code_bought() -> None:
    """An authorization code is single use: abandoning its exchange loses the login."""
    entered = anyio.Event()
    gate = anyio.Event()

    async def sender(path: str, form: dict[str, str]) -> httpx.Response:
        entered.set()
        await gate.wait()
        return _response(200, {"access_token": "at", "refresh_token": "rt", "expires_in": 60})

    auth = OAuth2Auth.authorization_code("cid", "secret", "https://app/cb")
    auth.bind(sender)
    _, state = auth.authorization_url("https://idp/authorize")
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def exchange() -> None:
            with scope:
                await auth.exchange_code("one-time-code", state=state)

        tg.start_soon(exchange)
        await entered.wait()
        scope.cancel()
        await anyio.sleep(0.01)
        gate.set()
    assert auth.token is not None and auth.token.refresh_token == "rt"
