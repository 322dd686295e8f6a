"""Shared fixtures: an authenticated httpx client against the emulator, in-process or loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from intralinks_async.testing import Emulator, serve_in_thread

CREDS = {"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo-secret"}


@dataclass
class Api:
    """An authenticated client plus shortcuts for setting up state through the API."""

    http: httpx.AsyncClient
    emu: Emulator
    mode: str

    async def workspace(self, name: str = "Project Falcon", **extra: Any) -> dict[str, Any]:
        r = await self.http.post("/workspaces", json={"name": name, **extra})
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def folder(
        self, ws: str, name: str = "Financials", parent: str | None = None
    ) -> dict[str, Any]:
        body = {"name": name} | ({"parentId": parent} if parent else {})
        r = await self.http.post(f"/workspaces/{ws}/folders", json=body)
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def upload(
        self,
        ws: str,
        folder: str,
        filename: str = "report.pdf",
        data: bytes = b"%PDF-1.7 hi",
        **fields: str,
    ) -> dict[str, Any]:
        r = await self.http.post(
            f"/workspaces/{ws}/documents",
            files={"file": (filename, data, "application/octet-stream")},
            data={"folderId": folder, **fields},
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out


async def get_token(http: httpx.AsyncClient) -> str:
    r = await http.post("/oauth/token", data=CREDS)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


class _Switch:
    """An ASGI app forwarding to whichever emulator app the current test uses."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@pytest.fixture(scope="session")
def loopback() -> Iterator[tuple[_Switch, str]]:
    """One uvicorn server for the session (starting one per test cost ~0.2 s each)."""
    switch = _Switch()
    with serve_in_thread(switch) as url:
        yield switch, url


@pytest.fixture(params=["asgi", "loopback"])
async def api(request: pytest.FixtureRequest, emulator_app: Any) -> AsyncIterator[Api]:
    """Authenticated client; each test runs in-process and over loopback HTTP."""
    emu = emulator_app.state.emulator
    if request.param == "asgi":
        transport = httpx.ASGITransport(app=emulator_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            http.headers["Authorization"] = f"Bearer {await get_token(http)}"
            yield Api(http, emu, "asgi")
    else:
        switch, url = request.getfixturevalue("loopback")
        switch.app = emulator_app
        async with httpx.AsyncClient(base_url=url) as http:
            http.headers["Authorization"] = f"Bearer {await get_token(http)}"
            yield Api(http, emu, "loopback")
