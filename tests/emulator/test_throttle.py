"""Rate limit (token bucket, 429 + Retry-After) and outage switch (503 / dropped connection)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from intralinks_async.testing import (
    EmulatedDisconnect,
    Emulator,
    Outage,
    RateLimit,
    create_app,
    serve_in_thread,
)
from intralinks_async.testing._throttle import OutageSwitch, RateLimiter

from .conftest import get_token


class FakeClock:
    """Monotonic time that only moves when a test says so."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _emu(app: Any) -> Emulator:
    emu: Emulator = app.state.emulator
    return emu


@contextlib.asynccontextmanager
async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as http:
        http.headers["Authorization"] = f"Bearer {await get_token(http)}"
        yield http


@pytest.fixture
async def clocked() -> AsyncIterator[tuple[Any, FakeClock, httpx.AsyncClient]]:
    """An app whose rate limiter and outage switch run on a fake clock."""
    app = create_app()
    clock = FakeClock()
    emu = _emu(app)
    emu.rate_limiter.clock = clock
    emu.outages.clock = clock
    async with _client(app) as http:
        yield app, clock, http
    emu.close()


# -- the bucket itself --------------------------------------------------------------------


def test_bucket_burst_then_refill_at_rate() -> None:
    clock = FakeClock()
    bucket = RateLimiter(RateLimit(rate=10, burst=3, retry_after=None), clock=clock)
    assert [bucket.acquire() for _ in range(4)] == [None, None, None, 1]
    clock.t += 0.1  # one token's worth
    assert bucket.acquire() is None
    assert bucket.acquire() == 1
    clock.t += 10  # refill caps at the burst
    assert [bucket.acquire() for _ in range(4)] == [None, None, None, 1]
    assert (bucket.admitted, bucket.throttled) == (7, 3)


def test_computed_retry_after_is_time_to_next_token() -> None:
    clock = FakeClock()
    bucket = RateLimiter(RateLimit(rate=0.25, burst=1, retry_after=None), clock=clock)
    assert bucket.acquire() is None
    assert bucket.acquire() == 4
    clock.t += 3
    assert bucket.acquire() == 1


def test_default_burst_is_one_seconds_worth() -> None:
    assert RateLimit(rate=100).capacity == 100
    assert RateLimit(rate=0.5).capacity == 1
    assert RateLimit.coerce(7) == RateLimit(rate=7.0)
    assert RateLimit.coerce(None) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"rate": 0}, {"rate": -1}, {"rate": float("nan")}, {"rate": 1, "burst": 0.5},
     {"rate": 1, "retry_after": -1}],
)  # fmt: skip
def test_bad_rate_limits_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RateLimit(**kwargs)


def test_rate_limit_type_is_checked() -> None:
    with pytest.raises(TypeError):
        create_app(rate_limit="fast")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        create_app(rate_limit=True)


@pytest.mark.parametrize(
    "kwargs",
    [{"duration": 0}, {"duration": 1, "kind": "500"}, {"duration": 1, "after": -1},
     {"duration": float("inf")}],
)  # fmt: skip
def test_bad_outages_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Outage(**kwargs)


def test_outage_window_bounds() -> None:
    clock = FakeClock()
    switch = OutageSwitch(clock=clock)
    switch.schedule(Outage(duration=2, after=1), now=True)
    assert switch.check("getWorkspace") is None
    clock.t += 1
    assert switch.check("getWorkspace") is not None
    clock.t += 1.999
    assert switch.check("getWorkspace") is not None
    clock.t += 0.001
    assert switch.check("getWorkspace") is None
    assert switch.served == {"503": 2}


# -- the rate limit through the app --------------------------------------------------------


async def test_requests_beyond_the_bucket_get_429_in_the_intralinks_shape(
    clocked: tuple[Any, FakeClock, httpx.AsyncClient],
) -> None:
    app, clock, http = clocked
    emu = _emu(app)
    emu.set_rate_limit(RateLimit(rate=2, burst=2, retry_after=3))
    statuses = [(await http.get("/workspaces")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    r = await http.post("/workspaces", json={"name": "refused"})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "3"
    assert r.json() == {
        "error": {"code": 429, "message": "Too many requests", "subcode": "RATE_LIMITED"}
    }
    assert emu.room.workspaces == {}  # a throttled request is not processed
    clock.t += 0.5
    assert (await http.post("/workspaces", json={"name": "ok"})).status_code == 201
    assert emu.rate_limiter.throttled == 2
    assert emu.rate_limiter.admitted == 3
    assert emu.total_requests == 5
    assert emu.requests == {"listWorkspaces": 3, "createWorkspace": 2}


async def test_oauth_is_never_throttled() -> None:
    app = create_app(rate_limit=RateLimit(rate=1e-6, burst=1))
    async with _client(app) as http:  # a token request of its own
        for _ in range(5):
            assert (await http.post("/oauth/token", data=_creds())).status_code == 200
        assert (await http.get("/workspaces")).status_code == 200
        assert (await http.get("/workspaces")).status_code == 429
    emu = _emu(app)
    assert emu.oauth.tokens_issued["client_credentials"] == 6
    assert emu.rate_limiter.throttled == 1
    emu.close()


def _creds() -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo-secret"}


async def test_a_float_rate_limit_is_requests_per_second(
    clocked: tuple[Any, FakeClock, httpx.AsyncClient],
) -> None:
    app, clock, http = clocked
    _emu(app).set_rate_limit(4.0)  # burst defaults to 4
    statuses = [(await http.get("/workspaces")).status_code for _ in range(6)]
    assert statuses == [200] * 4 + [429] * 2
    _emu(app).set_rate_limit(None)
    assert (await http.get("/workspaces")).status_code == 200


async def test_throttled_uploads_store_nothing(
    clocked: tuple[Any, FakeClock, httpx.AsyncClient],
) -> None:
    app, clock, http = clocked
    emu = _emu(app)
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    emu.set_rate_limit(RateLimit(rate=1, burst=1))
    codes = []
    for i in range(3):
        r = await http.post(
            f"/workspaces/{ws}/documents",
            files={"file": (f"{i}.txt", b"x" * 100_000)},
            data={"folderId": folder},
        )
        codes.append(r.status_code)
    assert codes == [201, 429, 429]
    assert emu.documents_created == {folder: 1}
    assert list(emu.store.tmp_dir.iterdir()) == []


# -- outages ---------------------------------------------------------------------------------


async def test_503_outage_window_then_recovery(
    clocked: tuple[Any, FakeClock, httpx.AsyncClient],
) -> None:
    app, clock, http = clocked
    emu = _emu(app)
    emu.outage(4.0, retry_after=2)
    r = await http.post("/workspaces", json={"name": "during"})
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["retry-after"] == "2"
    assert emu.room.workspaces == {}
    clock.t += 4.0
    assert (await http.post("/workspaces", json={"name": "after"})).status_code == 201
    assert emu.outages.served == {"503": 1}


async def test_outage_scoped_to_operations(
    clocked: tuple[Any, FakeClock, httpx.AsyncClient],
) -> None:
    app, clock, http = clocked
    emu = _emu(app)
    ws = emu.seed_workspaces(1)[0]
    folder = emu.seed_folder(ws, "F")
    emu.outage(60, "503", operations={"uploadDocument"})
    up = await http.post(
        f"/workspaces/{ws}/documents", files={"file": ("a.txt", b"a")}, data={"folderId": folder}
    )
    assert up.status_code == 503
    assert (await http.get(f"/workspaces/{ws}/documents")).status_code == 200
    emu.end_outage()
    up = await http.post(
        f"/workspaces/{ws}/documents", files={"file": ("a.txt", b"a")}, data={"folderId": folder}
    )
    assert up.status_code == 201


async def test_an_outage_takes_no_rate_limit_token(
    clocked: tuple[Any, FakeClock, httpx.AsyncClient],
) -> None:
    app, clock, http = clocked
    emu = _emu(app)
    emu.set_rate_limit(RateLimit(rate=1, burst=1))
    emu.outage(1.0)
    assert (await http.get("/workspaces")).status_code == 503
    clock.t += 1.0  # the outage is over; the bucket was full and still is
    assert (await http.get("/workspaces")).status_code == 200
    assert (await http.get("/workspaces")).status_code == 429


async def test_configured_outage_starts_after_the_first_api_request() -> None:
    app = create_app(outage=Outage(duration=2, kind="503", after=5))
    clock = FakeClock()
    emu = _emu(app)
    emu.outages.clock = clock
    clock.t += 100  # time before the first request does not count
    async with _client(app) as http:
        assert (await http.get("/workspaces")).status_code == 200
        clock.t += 5
        assert (await http.get("/workspaces")).status_code == 503
        clock.t += 2
        assert (await http.get("/workspaces")).status_code == 200
    emu.close()


async def test_drop_outage_in_process_raises_and_processes_nothing() -> None:
    app = create_app()
    emu = _emu(app)
    async with _client(app) as http:
        emu.outage(60, "drop")
        with pytest.raises(EmulatedDisconnect):
            await http.post("/workspaces", json={"name": "lost"})
    assert emu.room.workspaces == {}
    assert emu.outages.served == {"drop": 1}
    emu.close()


def test_drop_outage_over_a_socket_closes_without_an_answer() -> None:
    app = create_app()
    emu = _emu(app)
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        token = http.post("/oauth/token", data=_creds()).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        emu.outage(600, "drop", operations={"createWorkspace"})
        # closed (FIN) or, with request bytes still unread by the server, reset (RST)
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)) as caught:
            http.post("/workspaces", json={"name": "lost"})
        assert "without sending a response" in str(caught.value) or "reset" in str(caught.value)
        assert http.get("/workspaces").json() == {"workspace": []}
    assert emu.outages.served == {"drop": 1}
    emu.close()


# -- counters for duplicate detection -------------------------------------------------------


async def test_documents_created_and_duplicates() -> None:
    app = create_app()
    emu = _emu(app)
    ws = emu.seed_workspaces(1)[0]
    f1, f2 = emu.seed_folder(ws, "A"), emu.seed_folder(ws, "B")
    async with _client(app) as http:
        for folder in (f1, f1, f2):
            r = await http.post(
                f"/workspaces/{ws}/documents",
                files={"file": ("same.txt", b"1")},
                data={"folderId": folder},
            )
            assert r.status_code == 201
    assert emu.documents_created == {f1: 2, f2: 1}
    assert emu.duplicates() == {(ws, f1, "same.txt"): 2}
    assert emu.duplicates(ws) == emu.duplicates()
    assert emu.duplicates("999") == {}
    emu.close()


# -- control endpoints (an emulator in another process) -------------------------------------


async def test_control_endpoints(clocked: tuple[Any, FakeClock, httpx.AsyncClient]) -> None:
    app, clock, http = clocked
    emu = _emu(app)
    r = await http.put("/_emulator/rate-limit", json={"rate": 1, "burst": 1, "retry_after": 0})
    assert r.json() == {"rate": 1.0, "burst": 1.0, "retry_after": 0}
    assert [(await http.get("/workspaces")).status_code for _ in range(2)] == [200, 429]
    stats = (await http.get("/_emulator/stats")).json()
    assert stats["throttled"] == 1 and stats["total_requests"] == 2
    assert stats["requests"] == {"listWorkspaces": 2}
    assert (await http.put("/_emulator/rate-limit", content=b"null")).status_code == 200
    assert emu.rate_limiter.limit is None
    r = await http.post("/_emulator/outage", json={"duration": 10, "operations": ["getWorkspace"]})
    assert r.status_code == 201
    assert (await http.get("/workspaces/1")).status_code == 503
    assert (await http.get("/workspaces")).status_code == 200
    assert (await http.delete("/_emulator/outage")).status_code == 204
    assert (await http.get("/workspaces/1")).status_code == 404
    stats = (await http.get("/_emulator/stats")).json()
    assert stats["outage_failures"] == {"503": 1}
    assert stats["duplicates"] == [] and stats["documents_created"] == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [("/_emulator/rate-limit", {"rate": -1}), ("/_emulator/rate-limit", {"burst": 2}),
     ("/_emulator/rate-limit", [1]), ("/_emulator/outage", {"duration": 1, "kind": "x"}),
     ("/_emulator/outage", {"duration": 1, "operations": "getWorkspace"}),
     ("/_emulator/outage", {"kind": "503"}), ("/_emulator/rate-limit", {"rate": 1, "retry_after": "1"})],
)  # fmt: skip
async def test_bad_control_requests_are_400(
    clocked: tuple[Any, FakeClock, httpx.AsyncClient], path: str, body: Any
) -> None:
    _, _, http = clocked
    method = "PUT" if path.endswith("rate-limit") else "POST"
    r = await http.request(method, path, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["ErrorCode"] == "INVALID_FIELD"
    r = await http.request(method, path, content=b"{not json")
    assert r.status_code == 400 and r.json()["ErrorCode"] == "INVALID_JSON"
