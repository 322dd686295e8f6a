"""Per-request overhead of the emulator: small JSON GETs and small uploads per second.

Serves the emulator (``intralinks-async emulator``) and, as the baseline in the same run,
a bare Starlette app answering the same routes with a constant body (no auth, no state,
``request.form()`` for uploads), each in its own uvicorn subprocess with the same
settings; an aiohttp client drives ``--concurrency`` requests at a time. Medians of
``--repeat`` runs and the emulator/baseline ratio are printed.

    .venv/bin/python bench/emulator_throughput.py [--requests 4000] [--concurrency 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time

import aiohttp
import httpx

BASELINE_APP = r"""
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

WS = {"id": "100001", "name": "bench", "type": "ATC", "phase": "PREPARATION", "status": "ACTIVE",
      "host": "Intralinks Emulator", "createdOn": "2026-01-01T00:00:00.000Z",
      "updatedOn": "2026-01-01T00:00:00.000Z",
      "statistics": {"documentCount": 0, "folderCount": 1, "userCount": 0, "groupCount": 0}}

async def get_ws(request):
    return JSONResponse(WS)

async def upload(request):
    form = await request.form()
    data = await form["file"].read()
    await form.close()
    return JSONResponse({"id": "1", "fileSize": len(data)}, status_code=201)

app = Starlette(routes=[Route("/workspaces/{ws}", get_ws), Route("/workspaces/{ws}/documents", upload, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
            lifespan="off", timeout_keep_alive=30, backlog=4096)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(kind: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    if kind == "emulator":
        cmd = [
            sys.executable,
            "-m",
            "intralinks_async.cli",
            "emulator",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
    else:
        cmd = [sys.executable, "-c", BASELINE_APP, str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/", timeout=1)
            return proc, base
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{kind} server did not start") from None
            time.sleep(0.05)


def setup(kind: str, base: str) -> tuple[dict[str, str], str, str]:
    """Returns (headers, workspace id, folder id)."""
    if kind != "emulator":
        return {}, "100001", "1"
    with httpx.Client(base_url=base) as http:
        tok = http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo",
                "client_secret": "demo-secret",
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {tok}"}
        ws = http.post("/workspaces", json={"name": "bench"}, headers=headers).json()["id"]
        folder = http.post(f"/workspaces/{ws}/folders", json={"name": "F"}, headers=headers).json()[
            "id"
        ]
    return headers, ws, folder


async def drive(
    base: str, headers: dict[str, str], ws: str, folder: str, what: str, n: int, conc: int
) -> float:
    payload = b"x" * 4096
    sem = asyncio.Semaphore(conc)
    connector = aiohttp.TCPConnector(limit=conc)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as session:

        async def one() -> None:
            async with sem:
                if what == "get":
                    async with session.get(f"/workspaces/{ws}") as r:
                        assert r.status == 200
                        await r.read()
                else:
                    form = aiohttp.FormData()
                    form.add_field("folderId", folder)
                    form.add_field("file", payload, filename="small.bin")
                    async with session.post(f"/workspaces/{ws}/documents", data=form) as r:
                        assert r.status == 201, await r.text()
                        await r.read()

        await asyncio.gather(*(one() for _ in range(min(n, conc * 2))))  # warm-up
        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results: dict[tuple[str, str], list[float]] = {}
    for i in range(args.repeat):
        for kind in ("emulator", "baseline"):
            proc, base = start(kind)
            try:
                headers, ws, folder = setup(kind, base)
                for what in ("get", "upload"):
                    n = args.requests if what == "get" else args.requests // 2
                    rate = asyncio.run(drive(base, headers, ws, folder, what, n, args.concurrency))
                    results.setdefault((kind, what), []).append(rate)
                    print(f"run {i + 1} {kind:8s} {what:6s} {rate:8.0f} req/s", file=sys.stderr)
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    print(f"\nconcurrency {args.concurrency}, medians of {args.repeat} runs "
          "(baseline: bare Starlette, constant body, no auth/state)\n")  # fmt: skip
    print(f"{'workload':34s} {'emulator':>10s} {'baseline':>10s} {'ratio':>7s}")
    for what, label in (
        ("get", "GET workspace (req/s)"),
        ("upload", "upload 4 KiB document (req/s)"),
    ):
        e = statistics.median(results[("emulator", what)])
        b = statistics.median(results[("baseline", what)])
        print(f"{label:34s} {e:10.0f} {b:10.0f} {e / b:6.2f}x")


if __name__ == "__main__":
    main()
