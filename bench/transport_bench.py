"""getWorkspace throughput: the SDK vs raw httpx vs raw aiohttp, against nginx on loopback.

nginx (one worker, access_log off) serves a static Workspace JSON at
``/workspaces/<id>``. Each round runs every client at concurrency 1, 8 and 64 for a fixed
number of requests; rows are interleaved within a round so drift hits all alike. The table
shows the median req/s over the rounds and the ratio to raw aiohttp measured in the same
run. Target: the SDK at concurrency 64 >= 0.5x raw aiohttp.

Rows:
  aiohttp (raw)           aiohttp.ClientSession.get + read()
  httpx (raw)             httpx.AsyncClient.get (httpx's default pool)
  SDK (default)           ``await client.workspaces.get(id)``: IntralinksClient on its default
                          aiohttp-backed transport, static token, JSON parsed into the model
  SDK over httpx pool     the same with ``transport=httpx.AsyncHTTPTransport()``

Usage: ``python bench/transport_bench.py [--rounds 5] [--requests 3000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _nginx import Location, Nginx  # noqa: E402

from intralinks_async import IntralinksClient  # noqa: E402

WORKSPACE_ID = "ws-100001"
WORKSPACE = {
    "id": WORKSPACE_ID,
    "name": "Project Falcon",
    "type": "ATC",
    "phase": "OPEN",
    "status": "ACTIVE",
    "host": "Intralinks",
    "createdOn": "2026-01-15T09:30:00.000Z",
    "updatedOn": "2026-03-02T17:45:12.345Z",
    "statistics": {"documentCount": 1284, "folderCount": 96, "userCount": 57, "groupCount": 8},
}
CONCURRENCY = (1, 8, 64)

Call = Callable[[], Awaitable[object]]


async def drive(call: Call, concurrency: int, total: int) -> float:
    """Run ``total`` calls with ``concurrency`` workers; return requests per second."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    gc.collect()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


async def run(base_url: str, rounds: int, requests: int) -> dict[tuple[str, int], list[float]]:
    url = f"{base_url}/workspaces/{WORKSPACE_ID}"
    results: dict[tuple[str, int], list[float]] = {}
    limit = 100
    aio = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))
    raw_httpx = httpx.AsyncClient(limits=httpx.Limits(max_connections=limit))
    sdk = IntralinksClient(base_url, access_token="static-bench-token", max_connections=limit)
    sdk_httpx = IntralinksClient(
        base_url,
        access_token="static-bench-token",
        transport=httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=limit)),
    )

    async def aiohttp_call() -> object:
        async with aio.get(url) as response:
            return await response.read()

    async def httpx_call() -> object:
        response = await raw_httpx.get(url)
        return response.content

    async def sdk_call() -> object:
        return await sdk.workspaces.get(WORKSPACE_ID)

    async def sdk_httpx_call() -> object:
        return await sdk_httpx.workspaces.get(WORKSPACE_ID)

    rows: list[tuple[str, Call]] = [
        ("aiohttp (raw)", aiohttp_call),
        ("httpx (raw)", httpx_call),
        ("SDK (default transport)", sdk_call),
        ("SDK over httpx pool", sdk_httpx_call),
    ]
    # Sanity: every client gets the same workspace back.
    assert json.loads(await aiohttp_call())["id"] == WORKSPACE_ID  # type: ignore[arg-type]
    ws = await sdk_call()
    assert getattr(ws, "id", None) == WORKSPACE_ID, ws
    try:
        for name, call in rows:  # warm-up: open connections, JIT caches
            await drive(call, 64, 500)
        for round_no in range(rounds):
            for concurrency in CONCURRENCY:
                n = requests if concurrency > 1 else max(500, requests // 3)
                for name, call in rows:
                    rate = await drive(call, concurrency, n)
                    results.setdefault((name, concurrency), []).append(rate)
            print(f"round {round_no + 1}/{rounds} done", file=sys.stderr)
    finally:
        await aio.close()
        await raw_httpx.aclose()
        await sdk.aclose()
        await sdk_httpx.aclose()
    return results


def report(results: dict[tuple[str, int], list[float]]) -> None:
    names = list(dict.fromkeys(name for name, _ in results))
    header = f"{'client':<26}" + "".join(
        f"{'c=' + str(c) + ' req/s':>14}{'ratio':>8}" for c in CONCURRENCY
    )
    print(header)
    print("-" * len(header))
    base = {c: statistics.median(results[("aiohttp (raw)", c)]) for c in CONCURRENCY}
    for name in names:
        line = f"{name:<26}"
        for c in CONCURRENCY:
            median = statistics.median(results[(name, c)])
            line += f"{median:>14,.0f}{median / base[c]:>7.2f}x"
        print(line)
    sdk64 = statistics.median(results[("SDK (default transport)", 64)]) / base[64]
    verdict = "PASS" if sdk64 >= 0.5 else "FAIL"
    print(f"\nSDK at concurrency 64: {sdk64:.2f}x raw aiohttp (target >= 0.50x): {verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000, help="requests per measurement")
    parser.add_argument("--workers", default="1", help="nginx worker_processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as root:
        target = Path(root, "workspaces", WORKSPACE_ID)
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(WORKSPACE))
        locations = [Location("/workspaces/", default_type="application/json")]
        with Nginx(root, locations=locations, worker_processes=args.workers) as server:
            results = asyncio.run(run(server.base_url, args.rounds, args.requests))
    print(
        f"getWorkspace against nginx on loopback, median of {args.rounds} rounds "
        f"(ratio = vs raw aiohttp in the same run)\n"
    )
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
