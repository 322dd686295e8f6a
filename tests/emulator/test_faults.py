"""Injected faults: 429 + Retry-After, 503, dropped connections; determinism; oauth exempt."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from intralinks_async.testing import EmulatedDisconnect, create_app, serve_in_thread

from .conftest import Api, get_token


async def _outcomes(app: Any, n: int) -> list[str]:
    out = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://e"
    ) as http:
        http.headers["Authorization"] = f"Bearer {await get_token(http)}"
        for _ in range(n):
            try:
                out.append(str((await http.get("/workspaces")).status_code))
            except EmulatedDisconnect:
                out.append("drop")
    return out


async def test_faults_are_deterministic_under_a_seed() -> None:
    apps = [create_app(fault_rate=0.5, fault_seed=seed) for seed in (7, 7, 8)]
    runs = [await _outcomes(app, 60) for app in apps]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {"200", "429", "503", "drop"} <= set(runs[0])
    injected = apps[0].state.emulator.faults.injected
    assert sum(injected.values()) == sum(1 for o in runs[0] if o != "200")
    assert injected["drop"] == runs[0].count("drop")
    for app in apps:
        app.state.emulator.close()


async def test_token_calls_are_never_faulted() -> None:
    app = create_app(fault_rate=1.0, fault_seed=1)
    outcomes = await _outcomes(app, 10)  # get_token inside succeeded despite rate 1.0
    assert "200" not in outcomes
    assert app.state.emulator.oauth.tokens_issued["client_credentials"] == 1
    app.state.emulator.close()


async def test_429_carries_configured_retry_after() -> None:
    app = create_app(retry_after=0)
    app.state.emulator.inject_fault("429")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://e"
    ) as http:
        http.headers["Authorization"] = f"Bearer {await get_token(http)}"
        r = await http.get("/workspaces")
        assert r.status_code == 429 and r.headers["retry-after"] == "0"
        assert r.json()["error"]["code"] == 429
        app.state.emulator.inject_fault("503")
        r = await http.get("/workspaces")
        assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
        assert (await http.get("/workspaces")).status_code == 200
    app.state.emulator.close()


async def test_injected_fault_can_target_an_operation(api: Api) -> None:
    api.emu.inject_fault("503", operation="createWorkspace")
    assert (await api.http.get("/workspaces")).status_code == 200
    r = await api.http.post("/workspaces", json={"name": "x"})
    assert r.status_code == 503
    assert (await api.http.get("/workspaces")).json() == {"workspace": []}
    with pytest.raises(ValueError):
        api.emu.inject_fault("timeout")


@pytest.mark.parametrize("kind", ["429", "503"])
async def test_rejected_upload_stores_nothing(api: Api, kind: str) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    api.emu.inject_fault(kind, operation="uploadDocument")
    r = await api.http.post(
        f"/workspaces/{ws}/documents", files={"file": ("a", b"x" * 100_000)}, data={"folderId": f}
    )
    assert r.status_code == int(kind)
    assert (await api.http.get(f"/workspaces/{ws}/documents")).json() == {"document": []}


async def test_dropped_upload_response_still_stored_the_document(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    api.emu.inject_fault("drop", operation="uploadDocument")
    with pytest.raises(httpx.RemoteProtocolError) as info:
        await api.http.post(
            f"/workspaces/{ws}/documents", files={"file": ("a.txt", b"abc")}, data={"folderId": f}
        )
    if api.mode == "asgi":
        assert isinstance(info.value, EmulatedDisconnect)
    docs = (await api.http.get(f"/workspaces/{ws}/documents")).json()["document"]
    assert [d["name"] for d in docs] == ["a.txt"]
    assert api.emu.faults.injected["drop"] == 1


async def test_dropped_delete_response_still_deleted(api: Api) -> None:
    ws = (await api.workspace())["id"]
    api.emu.inject_fault("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await api.http.delete(f"/workspaces/{ws}")
    assert (await api.http.get(f"/workspaces/{ws}")).status_code == 404


async def test_dropped_download_is_cut_mid_body(api: Api) -> None:
    ws = (await api.workspace())["id"]
    f = (await api.folder(ws))["id"]
    doc = await api.upload(ws, f, "big.bin", b"z" * 1_000_000)
    api.emu.inject_fault("drop")
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):
        async with api.http.stream("GET", f"/workspaces/{ws}/documents/{doc['id']}/download") as r:
            assert r.status_code == 200 and r.headers["content-length"] == "1000000"
            async for chunk in r.aiter_raw():
                received += chunk
    assert len(received) < 1_000_000


async def test_faults_over_loopback_match_in_process_sequence() -> None:
    """The same seed gives the same fault sequence over a socket as in-process."""
    reference = await _outcomes(create_app(fault_rate=0.5, fault_seed=3), 40)
    app = create_app(fault_rate=0.5, fault_seed=3, latency=0.001, retry_after=0)
    statuses = []
    with serve_in_thread(app) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            http.headers["Authorization"] = f"Bearer {await get_token(http)}"
            for _ in range(40):
                try:
                    statuses.append(str((await http.get("/workspaces")).status_code))
                except httpx.RemoteProtocolError:
                    statuses.append("drop")
    assert statuses == reference
    assert {"200", "429", "503", "drop"} <= set(statuses)
    app.state.emulator.close()


def test_invalid_fault_rate() -> None:
    with pytest.raises(ValueError):
        create_app(fault_rate=1.5)
