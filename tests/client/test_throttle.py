"""Throttling, outages and download retries against the emulator, in virtual time.

Each scenario runs under trio with an autojumping ``MockClock``: the emulator's rate
limiter and outage switch read the same virtual clock as the client, so a 100 req/s limit
or a 60 s outage costs milliseconds of CPU, not seconds of waiting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
import trio
import trio.testing
from client_helpers import make_client

from intralinks_async import IntralinksClient
from intralinks_async.errors import InternalServerError, ServiceUnavailableError
from intralinks_async.models import File, Folder, UploadDocumentBody, Workspace
from intralinks_async.testing import RateLimit, create_app


def virtual(scenario: Callable[[], Awaitable[None]]) -> None:
    trio.run(scenario, clock=trio.testing.MockClock(autojump_threshold=0))


def emulator(rate: float | None = None) -> tuple[Any, Any]:
    """An in-process emulator on the virtual clock, behind ``rate`` req/s (burst 20)."""
    app = create_app()
    emu = app.state.emulator
    emu.rate_limiter.clock = trio.current_time
    emu.outages.clock = trio.current_time
    if rate is not None:
        emu.set_rate_limit(RateLimit(rate=rate, burst=20, retry_after=1))
    return app, emu


async def workspace_and_folder(client: IntralinksClient) -> tuple[str, str]:
    ws = await client.workspaces.create(body=Workspace(name="Falcon", type="ATC"))
    folder = await client.folders.create(ws.id, body=Folder(name="Bulk"))
    assert isinstance(ws.id, str) and isinstance(folder.id, str)
    return ws.id, folder.id


async def upload_all(
    client: IntralinksClient, ws_id: str, folder_id: str, count: int, concurrency: int
) -> tuple[int, list[BaseException]]:
    """Upload ``count`` small files (bytes bodies) ``concurrency`` at a time."""
    done = 0
    failures: list[BaseException] = []
    limiter = anyio.Semaphore(concurrency)

    async def one(i: int) -> None:
        nonlocal done
        async with limiter:
            body = UploadDocumentBody(
                file=File(payload=f"file {i}\n".encode(), file_name=f"f{i:04d}.txt"),
                folder_id=folder_id,
                name=f"f{i:04d}.txt",
            )
            try:
                await client.documents.upload(ws_id, body=body)
            except Exception as exc:
                failures.append(exc)
            else:
                done += 1

    async with anyio.create_task_group() as tg:
        for i in range(count):
            tg.start_soon(one, i)
    return done, failures


def test_1000_concurrent_gets_under_a_100_per_second_limit_all_succeed() -> None:
    async def scenario() -> None:
        app, emu = emulator(rate=100)
        [ws_id] = emu.seed_workspaces(1)
        results: list[str] = []
        async with make_client(app) as client:

            async def get() -> None:
                ws = await client.workspaces.get(ws_id)
                results.append(str(ws.id))

            async with anyio.create_task_group() as tg:
                for _ in range(1000):
                    tg.start_soon(get)
            snap = client.rate_control.snapshot()
        assert results == [ws_id] * 1000
        assert snap.throttled == emu.rate_limiter.throttled > 0
        assert snap.learned is not None and 70 <= snap.learned <= 140  # learned ~100/s

    virtual(scenario)


@pytest.mark.parametrize("concurrency", [8, 128])
def test_throttled_bulk_upload_has_no_failure_and_no_duplicate(concurrency: int) -> None:
    async def scenario() -> None:
        app, emu = emulator(rate=100)
        async with make_client(app) as client:
            ws_id, folder_id = await workspace_and_folder(client)
            start = trio.current_time()
            done, failures = await upload_all(client, ws_id, folder_id, 400, concurrency)
            elapsed = trio.current_time() - start
            emu.set_rate_limit(None)
            listed = await client.documents.list(ws_id)
        assert failures == [] and done == 400
        assert len(listed) == 400 and not emu.duplicates()
        uploads = emu.requests["uploadDocument"]
        # The first burst at full concurrency may be refused; afterwards the client paces.
        assert emu.rate_limiter.throttled <= concurrency + 0.05 * uploads
        # Virtual seconds: near the limit (ideal 4 s, plus learning it), not 5x slower.
        assert elapsed <= 1.6 * 400 / 100

    virtual(scenario)


def test_a_4s_upload_outage_is_ridden_out() -> None:
    async def scenario() -> None:
        app, emu = emulator()
        async with make_client(app) as client:
            ws_id, folder_id = await workspace_and_folder(client)
            emu.outage(4.0, "503", operations={"uploadDocument"})
            done, failures = await upload_all(client, ws_id, folder_id, 300, 8)
            listed = await client.documents.list(ws_id)
            circuit = client.circuit
        assert failures == [] and done == 300
        assert len(listed) == 300 and not emu.duplicates()
        assert circuit.opened >= 1 and not circuit.open
        # Requests waited on the circuit: a few failures, then one probe at a time.
        assert emu.outages.served["503"] <= 8 + circuit.threshold + circuit.probes

    virtual(scenario)


def test_a_60s_outage_outlasting_the_patience_raises_service_unavailable() -> None:
    async def scenario() -> None:
        app, emu = emulator()
        async with make_client(app, outage_patience=10.0) as client:
            ws_id, folder_id = await workspace_and_folder(client)
            emu.outage(60.0, "503", operations={"uploadDocument"})
            started = trio.current_time()
            done, failures = await upload_all(client, ws_id, folder_id, 50, 8)
            waited = trio.current_time() - started
        assert done == 0 and len(failures) == 50
        assert all(isinstance(f, ServiceUnavailableError) for f in failures)
        first = failures[0]
        assert isinstance(first, ServiceUnavailableError) and first.since is not None
        assert "unavailable since" in str(first) and first.operation == "uploadDocument"
        assert waited < 15  # virtual seconds: the patience, not 50 files x retries
        assert emu.outages.served["503"] <= 25  # few requests: failures, then probes

    virtual(scenario)


def test_a_download_from_an_always_503_server_is_sent_max_retries_plus_one_times() -> None:
    async def scenario() -> None:
        app, emu = emulator()
        async with make_client(app, max_retries=3) as client:
            ws_id, folder_id = await workspace_and_folder(client)
            body = UploadDocumentBody(
                file=File(payload=b"payload", file_name="a.txt"), folder_id=folder_id, name="a"
            )
            doc = await client.documents.upload(ws_id, body=body)
            emu.outage(1000.0, "503", operations={"downloadDocument"})
            with pytest.raises(InternalServerError) as info:
                async with client.documents.download(ws_id, str(doc.id)) as chunks:
                    async for _ in chunks:
                        pass
        assert emu.outages.served["503"] == 4 == info.value.attempts

    virtual(scenario)
