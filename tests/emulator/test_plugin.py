"""The pytest plugin's fixtures, as SDK users get them."""

from __future__ import annotations

import httpx

from intralinks_async.testing import Emulator

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
