"""getWorkspace throughput: the SDK vs raw httpx vs raw aiohttp, against nginx on loopback.

nginx (one worker, access_log off) serves a static Workspace JSON at
``/workspaces/<id>``. Each round runs every client at concurrency 1, 8 and 64 for a fixed
time; rows are interleaved within a round so drift hits all alike. The table shows the
median req/s over the rounds and the median of the per-round ratios to raw aiohttp.
Target: the SDK at concurrency 64 >= 0.5x raw aiohttp.

Rows:
  aiohttp (raw)           aiohttp.ClientSession.get + read()
  httpx (raw)             httpx.AsyncClient.get (httpx's default pool)
  SDK (default)           ``await client.workspaces.get(id)``: IntralinksClient on its default
                          aiohttp-backed transport, static token, JSON parsed into the model
  SDK request(), no parse ``client.request("GET", ...)``: the client layer alone, without the
                          generated layer's JSON/model parsing
  SDK over httpx pool     the same as "SDK" with ``transport=httpx.AsyncHTTPTransport()``

Usage: ``python bench/transport_bench.py [--rounds 9] [--seconds 1.0]``; exits 1 below target.
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

from _nginx import Location, Nginx

from intralinks_async import IntralinksClient

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
BASELINE = "aiohttp (raw)"

Call = Callable[[], Awaitable[object]]


async def drive(call: Call, concurrency: int, seconds: float) -> float:
    """Run ``call`` from ``concurrency`` workers for ``seconds``; return requests per second."""
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call()
            done += 1

    gc.collect()
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - start)


async def run(base_url: str, rounds: int, seconds: float) -> dict[tuple[str, int], list[float]]:
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

    path = f"/workspaces/{WORKSPACE_ID}"

    async def sdk_request_call() -> object:
        return await sdk.request("GET", path, operation="getWorkspace")

    async def sdk_httpx_call() -> object:
        return await sdk_httpx.workspaces.get(WORKSPACE_ID)

    # The SDK row runs right after its baseline so that each round's ratio compares
    # neighbours in time (other load on the machine drifts).
    rows: list[tuple[str, Call]] = [
        ("aiohttp (raw)", aiohttp_call),
        ("SDK (default transport)", sdk_call),
        ("SDK request(), no parse", sdk_request_call),
        ("httpx (raw)", httpx_call),
        ("SDK over httpx pool", sdk_httpx_call),
    ]
    # Sanity: every client gets the same workspace back.
    assert json.loads(await aiohttp_call())["id"] == WORKSPACE_ID  # type: ignore[arg-type]
    ws = await sdk_call()
    assert getattr(ws, "id", None) == WORKSPACE_ID, ws
    try:
        for _name, call in rows:  # warm-up: open connections, fill caches
            await drive(call, 64, 0.3)
        for round_no in range(rounds):
            # Alternate which of the pair goes first, so drift does not favour either.
            order = rows if round_no % 2 == 0 else [rows[1], rows[0], *rows[2:]]
            for concurrency in CONCURRENCY:
                for name, call in order:
                    rate = await drive(call, concurrency, seconds)
                    results.setdefault((name, concurrency), []).append(rate)
            print(f"round {round_no + 1}/{rounds} done", file=sys.stderr)
    finally:
        await aio.close()
        await raw_httpx.aclose()
        await sdk.aclose()
        await sdk_httpx.aclose()
    return results


def report(results: dict[tuple[str, int], list[float]]) -> float:
    """Print the table; return the SDK's ratio at concurrency 64."""
    names = list(dict.fromkeys(name for name, _ in results))
    header = f"{'client':<26}" + "".join(
        f"{'c=' + str(c) + ' req/s':>14}{'ratio':>8}" for c in CONCURRENCY
    )
    print(header)
    print("-" * len(header))
    ratios: dict[tuple[str, int], float] = {}
    for name in names:
        line = f"{name:<26}"
        for c in CONCURRENCY:
            rates = results[(name, c)]
            paired = [r / b for r, b in zip(rates, results[(BASELINE, c)], strict=True)]
            ratios[(name, c)] = statistics.median(paired)
            line += f"{statistics.median(rates):>14,.0f}{ratios[(name, c)]:>7.2f}x"
        print(line)
    return ratios[("SDK (default transport)", 64)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one measurement")
    parser.add_argument("--workers", default="1", help="nginx worker_processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as root:
        target = Path(root, "workspaces", WORKSPACE_ID)
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(WORKSPACE))
        locations = [Location("/workspaces/", default_type="application/json")]
        with Nginx(root, locations=locations, worker_processes=args.workers) as server:
            results = asyncio.run(run(server.base_url, args.rounds, args.seconds))
    print(
        f"getWorkspace against nginx on loopback: median req/s of {args.rounds} rounds of "
        f"{args.seconds:g} s; ratio = median over rounds of (row / raw aiohttp in that round)\n"
    )
    sdk64 = report(results)
    verdict = "PASS" if sdk64 >= 0.5 else "FAIL"
    print(f"\nSDK at concurrency 64: {sdk64:.2f}x raw aiohttp (target >= 0.50x): {verdict}")
    return 0 if sdk64 >= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
