"""Cost of the generated layer on the getWorkspace hot path, with an in-memory sender.

No network and no client layer: a fake ``RequestSender`` hands back one prebuilt, already
read ``httpx.Response`` (200, the Workspace JSON of ``bench/transport_bench.py``). What is
left is what the generated code does per call: path-parameter validation and encoding,
request headers, status check, JSON decoding, model construction (date-times, the nested
statistics model) and the result wrapper.

Rows (calls/s, median of the rounds; ratio = median over rounds of row / baseline):
  json.loads + hand-built model   baseline: ``json.loads`` and a direct ``Workspace(...)``
                                  with ``datetime.fromisoformat``, the floor any parser pays
  Workspace.from_dict             the generated model parser alone (json.loads included)
  asyncio() (module function)     ``get_workspace.asyncio(id, client=sender)``
  asyncio_detailed()              the same, returning ``Response`` (status, headers, parsed)
  resource .get()                 ``WorkspacesResource(sender).get(id)``, what the SDK calls
  encode_path_param               one safe ASCII id (per call)

Usage: ``python bench/codegen_hotpath.py [--rounds 7] [--calls 20000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intralinks_async._generated.api.workspaces import WorkspacesResource, get_workspace
from intralinks_async._generated.client import encode_path_param
from intralinks_async._generated.models import Workspace, WorkspaceStatistics

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
BODY = json.dumps(WORKSPACE).encode()
BASELINE = "json.loads + hand-built model"


class PrebuiltSender:
    """A RequestSender answering every request with the same already-read response."""

    def __init__(self) -> None:
        request = httpx.Request("GET", f"http://bench.invalid/workspaces/{WORKSPACE_ID}")
        self.response = httpx.Response(
            200,
            headers={"content-type": "application/json", "x-request-id": "bench"},
            content=BODY,
            request=request,
        )
        self.calls = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        self.calls += 1
        return self.response

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def hand_built(content: bytes) -> Workspace:
    """The floor: decode and construct the model directly, no generic machinery."""
    raw = json.loads(content)
    stats = raw["statistics"]
    fromiso = datetime.datetime.fromisoformat
    return Workspace(
        id=raw["id"],
        name=raw["name"],
        type=raw["type"],
        phase=raw["phase"],
        status=raw["status"],
        host=raw["host"],
        created_on=fromiso(raw["createdOn"]),
        updated_on=fromiso(raw["updatedOn"]),
        statistics=WorkspaceStatistics(
            document_count=stats["documentCount"],
            folder_count=stats["folderCount"],
            user_count=stats["userCount"],
            group_count=stats["groupCount"],
        ),
    )


async def timed_async(call: Callable[[], Awaitable[object]], calls: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        await call()
    return calls / (time.perf_counter() - start)


def timed_sync(call: Callable[[], object], calls: int) -> float:
    gc.collect()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return calls / (time.perf_counter() - start)


async def run(rounds: int, calls: int) -> dict[str, list[float]]:
    sender = PrebuiltSender()
    resource = WorkspacesResource(sender)
    content = sender.response.content

    async def module_call() -> object:
        return await get_workspace.asyncio(WORKSPACE_ID, client=sender)

    async def detailed_call() -> object:
        return await get_workspace.asyncio_detailed(WORKSPACE_ID, client=sender)

    async def resource_call() -> object:
        return await resource.get(WORKSPACE_ID)

    sync_rows: list[tuple[str, Callable[[], object]]] = [
        (BASELINE, lambda: hand_built(content)),
        ("Workspace.from_dict", lambda: Workspace.from_dict(json.loads(content))),
        ("encode_path_param", lambda: encode_path_param(WORKSPACE_ID, "workspace_id")),
    ]
    async_rows: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("asyncio() (module function)", module_call),
        ("asyncio_detailed()", detailed_call),
        ("resource .get()", resource_call),
    ]
    # Sanity: every path gives the same model.
    expected = hand_built(content)
    assert Workspace.from_dict(json.loads(content)) == expected
    assert await module_call() == expected
    assert await resource_call() == expected
    assert (await get_workspace.asyncio_detailed(WORKSPACE_ID, client=sender)).parsed == expected

    results: dict[str, list[float]] = {}
    for _name, sync_call in sync_rows:  # warm-up
        timed_sync(sync_call, calls // 10)
    for _name, async_call in async_rows:
        await timed_async(async_call, calls // 10)
    for round_no in range(rounds):
        for name, sync_call in sync_rows:
            results.setdefault(name, []).append(timed_sync(sync_call, calls))
        for name, async_call in async_rows:
            results.setdefault(name, []).append(await timed_async(async_call, calls))
        print(f"round {round_no + 1}/{rounds} done", file=sys.stderr)
    return results


def report(results: dict[str, list[float]]) -> None:
    base = results[BASELINE]
    print(
        "generated-layer hot path (getWorkspace, in-memory sender): median calls/s; "
        f"ratio = median over rounds of (row / {BASELINE!r})\n"
    )
    print(f"{'row':<32}{'calls/s':>12}{'ratio':>9}{'us/call':>10}")
    print("-" * 63)
    for name, rates in results.items():
        ratio = statistics.median(rate / b for rate, b in zip(rates, base, strict=True))
        median = statistics.median(rates)
        print(f"{name:<32}{median:>12,.0f}{ratio:>8.2f}x{1e6 / median:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    report(asyncio.run(run(args.rounds, args.calls)))


if __name__ == "__main__":
    main()
