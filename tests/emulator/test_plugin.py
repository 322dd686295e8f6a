"""The pytest plugin's fixtures, as SDK users get them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from intralinks_async.testing import Emulator, RateLimit
from intralinks_async.testing.pytest_plugin import THROTTLED_DEFAULTS, RunningEmulator

from .conftest import CREDS


async def test_in_process_client_fixture(
    emulator_client: httpx.AsyncClient, emulator: Emulator
) -> None:
    r = await emulator_client.post("/oauth/token", data=CREDS)
    assert r.status_code == 200
    assert emulator.oauth.tokens_issued["client_credentials"] == 1


async def test_loopback_url_fixture(emulator_url: str, emulator: Emulator) -> None:
    assert emulator_url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(base_url=emulator_url) as http:
        token = (await http.post("/oauth/token", data=CREDS)).json()["access_token"]
        r = await http.get("/workspaces", headers={"Authorization": f"Bearer {token}"})
    assert r.json() == {"workspace": []}
    assert emulator.requests["listWorkspaces"] == 1


@pytest.mark.intralinks_emulator(max_page_size=2, rate_limit=1000.0)
async def test_marker_passes_create_app_options(emulator: Emulator) -> None:
    assert emulator.max_page_size == 2
    assert emulator.rate_limiter.limit == RateLimit(rate=1000.0)


def test_factory_builds_independent_emulators(emulator_factory: Any) -> None:
    slow = emulator_factory(rate_limit=RateLimit(rate=0.001, burst=1))
    free = emulator_factory()
    assert slow.state is not free.state
    h = {
        "Authorization": "Bearer "
        + httpx.post(slow.url + "/oauth/token", data=CREDS).json()["access_token"]
    }
    assert [httpx.get(slow.url + "/workspaces", headers=h).status_code for _ in range(2)] == [
        200,
        429,
    ]
    assert slow.state.rate_limiter.throttled == 1
    assert free.state.rate_limiter.limit is None and free.state.total_requests == 0


def test_throttled_emulator_defaults(throttled_emulator: RunningEmulator) -> None:
    assert throttled_emulator.state.rate_limiter.limit == RateLimit(**THROTTLED_DEFAULTS)
    assert throttled_emulator.url.startswith("http://127.0.0.1:")


@pytest.mark.intralinks_emulator(rate_limit=RateLimit(rate=0.001, burst=1, retry_after=0))
async def test_throttled_emulator_takes_the_marker(throttled_emulator: RunningEmulator) -> None:
    transport = httpx.ASGITransport(app=throttled_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
        token = (await http.post("/oauth/token", data=CREDS)).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        assert (await http.get("/workspaces")).status_code == 200
        r = await http.get("/workspaces")
    assert r.status_code == 429 and r.headers["retry-after"] == "0"
