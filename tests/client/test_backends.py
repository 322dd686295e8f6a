"""The core client scenarios under both anyio backends (asyncio and trio)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest
from client_helpers import SleepRecorder, make_client
from pytest_httpx import HTTPXMock

from intralinks_async import IntralinksClient
from intralinks_async.errors import InternalServerError, NotFoundError
from intralinks_async.models import Workspace
from intralinks_async.testing import create_app

BACKENDS = ["asyncio", "trio"]


def run(backend: str, scenario: Callable[[], Awaitable[None]]) -> None:
    anyio.run(scenario, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_crud_paging_and_errors(backend: str) -> None:
    async def scenario() -> None:
        app = create_app()
        emu = app.state.emulator
        emu.seed_workspaces(25)
        async with make_client(app) as client:
            created = await client.workspaces.create(body=Workspace(name="Falcon", type="ATC"))
            assert (await client.workspaces.get(created.id)).name == "Falcon"
            async with client.workspaces.list(page_size=10).with_prefetch() as paginator:
                ids = [w.id async for w in paginator]
            assert len(ids) == 26 == len(set(ids))
            with pytest.raises(NotFoundError):
                await client.workspaces.get("missing")

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_flight_401_replay_and_retries(backend: str) -> None:
    async def scenario() -> None:
        app = create_app()
        emu = app.state.emulator
        [ws_id] = emu.seed_workspaces(1)
        sleeps = SleepRecorder()
        async with make_client(app, sleep=sleeps, max_retries=2) as client:
            async with anyio.create_task_group() as tg:
                for _ in range(100):
                    tg.start_soon(client.workspaces.get, ws_id)
            assert sum(emu.oauth.token_requests.values()) == 1
            emu.revoke_all_tokens()
            emu.inject_fault("429", operation="getWorkspace")
            assert (await client.workspaces.get(ws_id)).id == ws_id
            assert sum(emu.oauth.token_requests.values()) == 2
            assert len(sleeps.delays) == 1 and 1.0 <= sleeps.delays[0] <= 1.05
            emu.inject_fault("503", count=5, operation="getWorkspace")
            with pytest.raises(InternalServerError) as info:
                await client.workspaces.get(ws_id)
            assert info.value.attempts == 3

    run(backend, scenario)


@pytest.mark.parametrize("backend", BACKENDS)
def test_request_shape_with_pytest_httpx(backend: str, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        method="POST",
        url="https://api.intralinks.com/v2/oauth/token",
        json={"access_token": "at", "expires_in": 60},
    )
    httpx_mock.add_response(url="https://api.intralinks.com/v2/workspaces/a%20b", json={"id": "x"})

    async def scenario() -> None:
        async with IntralinksClient(
            client_id="c", client_secret="s", transport=httpx.AsyncHTTPTransport()
        ) as client:
            assert (await client.workspaces.get("a b")).id == "x"

    run(backend, scenario)
    assert httpx_mock.get_requests()[-1].headers["authorization"] == "Bearer at"


@pytest.mark.parametrize("backend", BACKENDS)
def test_http_escape_hatch_shares_transport_and_auth(backend: str) -> None:
    async def scenario() -> None:
        app = create_app()
        emu = app.state.emulator
        [ws_id] = emu.seed_workspaces(1)
        async with make_client(app) as client:
            await client.workspaces.get(ws_id)
            response = await client.http.get(f"/workspaces/{ws_id}")
            assert response.status_code == 200 and response.json()["id"] == ws_id
        assert sum(emu.oauth.token_requests.values()) == 1

    run(backend, scenario)
