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
  previous generated code         a replica of the generated getWorkspace path before the
                                  hot-path work (httpx.Headers per call, quote() for every
                                  path parameter, asyncio() via asyncio_detailed() and a
                                  Response, from_dict copying the dict and importing the
                                  nested model per call): the "before" in the same run
  encode_path_param               one safe ASCII id (per call)
  SDK client .workspaces.get()    the whole SDK (IntralinksClient, static token, retries,
                                  logging checks) over an in-memory httpx transport that
                                  answers with a fresh Response of the same bytes
  SDK client .request()           the same client, raw ``request()``: no generated layer

Usage: ``python bench/codegen_hotpath.py [--rounds 15] [--calls 5000]`` (calls per row per round).
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
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intralinks_async import IntralinksClient
from intralinks_async._generated.api.workspaces import WorkspacesResource, get_workspace
from intralinks_async._generated.client import encode_path_param
from intralinks_async._generated.errors import raise_for_status
from intralinks_async._generated.models import Workspace, WorkspaceStatistics
from intralinks_async._generated.types import UNSET, Response, Unset

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


class InMemoryTransport(httpx.AsyncBaseTransport):
    """Answers every request with the Workspace JSON (no network)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "application/json"}, content=BODY, request=request
        )


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


# --- replica of the generated code before the hot-path work (the in-run "before") ------


def previous_encode_path_param(value: object, name: str) -> str:
    text = value if isinstance(value, str) else str(value)
    if isinstance(value, bool) or value is None:
        raise ValueError(f"path parameter {name!r} must be a string or number")
    if text == "":
        raise ValueError(f"path parameter {name!r} must not be empty")
    if text in (".", ".."):
        raise ValueError(f"path parameter {name!r} must not be {text!r}")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text):
        raise ValueError(f"path parameter {name!r} must not contain control characters")
    return urllib.parse.quote(text, safe="", encoding="utf-8", errors="strict")


def previous_statistics_from_dict(src_dict: Mapping[str, Any]) -> WorkspaceStatistics:
    d = dict(src_dict)
    stats = WorkspaceStatistics(
        document_count=d.pop("documentCount", UNSET),
        folder_count=d.pop("folderCount", UNSET),
        user_count=d.pop("userCount", UNSET),
        group_count=d.pop("groupCount", UNSET),
    )
    stats.additional_properties = d
    return stats


def previous_from_dict(src_dict: Mapping[str, Any]) -> Workspace:
    # The per-call lazy import the old template rendered (relative in the generated module).
    from intralinks_async._generated.models.workspace_statistics import (
        WorkspaceStatistics as _WorkspaceStatistics,
    )

    d = dict(src_dict)
    id_, name, type_ = d.pop("id", UNSET), d.pop("name", UNSET), d.pop("type", UNSET)
    phase, status, host = d.pop("phase", UNSET), d.pop("status", UNSET), d.pop("host", UNSET)
    _created_on = d.pop("createdOn", UNSET)
    created_on: datetime.datetime | Unset
    if isinstance(_created_on, Unset):
        created_on = UNSET
    else:
        created_on = datetime.datetime.fromisoformat(_created_on)
    _updated_on = d.pop("updatedOn", UNSET)
    updated_on: datetime.datetime | Unset
    if isinstance(_updated_on, Unset):
        updated_on = UNSET
    else:
        updated_on = datetime.datetime.fromisoformat(_updated_on)
    _statistics = d.pop("statistics", UNSET)
    statistics: _WorkspaceStatistics | Unset
    if isinstance(_statistics, Unset):
        statistics = UNSET
    else:
        statistics = previous_statistics_from_dict(_statistics)
    instance = Workspace(
        id=id_,
        name=name,
        type=type_,
        phase=phase,
        status=status,
        host=host,
        created_on=created_on,
        updated_on=updated_on,
        statistics=statistics,
    )
    instance.additional_properties = d
    return instance


def previous_parse(response: httpx.Response) -> Workspace:
    raise_for_status(response, operation="getWorkspace")
    return previous_from_dict(response.json())


async def previous_asyncio_detailed(
    workspace_id: str, *, client: PrebuiltSender, headers: Mapping[str, str] | None = None
) -> Response[Workspace]:
    path = "/workspaces/{workspace_id}".format(
        workspace_id=previous_encode_path_param(workspace_id, "workspace_id")
    )
    request_headers = httpx.Headers(headers)
    response = await client.request(
        "GET",
        path,
        operation="getWorkspace",
        params=None,
        headers=request_headers or None,
        authenticated=True,
    )
    return Response(
        status_code=response.status_code,
        content=response.content,
        headers=response.headers,
        parsed=previous_parse(response),
    )


async def previous_asyncio(
    workspace_id: str, *, client: PrebuiltSender, headers: Mapping[str, str] | None = None
) -> Workspace:
    return (
        await previous_asyncio_detailed(workspace_id=workspace_id, client=client, headers=headers)
    ).parsed


async def previous_resource_get(sender: PrebuiltSender, workspace_id: str) -> Workspace:
    return await previous_asyncio(workspace_id, client=sender, headers=None)


# --- timing -------------------------------------------------------------------------------


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
    sdk = IntralinksClient(
        "http://127.0.0.1", access_token="bench-token", transport=InMemoryTransport()
    )
    content = sender.response.content

    async def module_call() -> object:
        return await get_workspace.asyncio(WORKSPACE_ID, client=sender)

    async def detailed_call() -> object:
        return await get_workspace.asyncio_detailed(WORKSPACE_ID, client=sender)

    async def resource_call() -> object:
        return await resource.get(WORKSPACE_ID)

    async def sdk_get_call() -> object:
        return await sdk.workspaces.get(WORKSPACE_ID)

    async def sdk_request_call() -> object:
        return await sdk.request("GET", f"/workspaces/{WORKSPACE_ID}", operation="getWorkspace")

    async def previous_call() -> object:
        return await previous_resource_get(sender, WORKSPACE_ID)

    sync_rows: list[tuple[str, Callable[[], object]]] = [
        (BASELINE, lambda: hand_built(content)),
        ("Workspace.from_dict", lambda: Workspace.from_dict(json.loads(content))),
        ("previous from_dict (replica)", lambda: previous_from_dict(json.loads(content))),
        ("encode_path_param", lambda: encode_path_param(WORKSPACE_ID, "workspace_id")),
        (
            "previous encode_path_param",
            lambda: previous_encode_path_param(WORKSPACE_ID, "workspace_id"),
        ),
    ]
    async_rows: list[tuple[str, Callable[[], Awaitable[object]]]] = [
        ("asyncio() (module function)", module_call),
        ("asyncio_detailed()", detailed_call),
        ("resource .get()", resource_call),
        ("previous generated code .get()", previous_call),
        ("SDK client .workspaces.get()", sdk_get_call),
        ("SDK client .request()", sdk_request_call),
    ]
    # Sanity: every path gives the same model.
    expected = hand_built(content)
    assert Workspace.from_dict(json.loads(content)) == expected
    assert await module_call() == expected
    assert await resource_call() == expected
    assert await previous_call() == expected
    assert previous_from_dict(json.loads(content)) == expected
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
    await sdk.aclose()
    return results


PAIRS = [
    ("resource .get()", "previous generated code .get()"),
    ("Workspace.from_dict", "previous from_dict (replica)"),
    ("encode_path_param", "previous encode_path_param"),
]


def _median_ratio(rows: list[float], base: list[float]) -> float:
    return statistics.median(row / b for row, b in zip(rows, base, strict=True))


def report(results: dict[str, list[float]]) -> None:
    base = results[BASELINE]
    print(
        "generated-layer hot path (getWorkspace, in-memory sender): median calls/s; "
        f"ratio = median over rounds of (row / {BASELINE!r})\n"
    )
    print(f"{'row':<32}{'calls/s':>12}{'ratio':>9}{'us/call':>10}")
    print("-" * 63)
    for name, rates in results.items():
        median = statistics.median(rates)
        ratio = _median_ratio(rates, base)
        print(f"{name:<32}{median:>12,.0f}{ratio:>8.2f}x{1e6 / median:>10.2f}")
    print("\nnow vs the previous generated code (median over rounds of now / previous):")
    for now, previous in PAIRS:
        print(f"  {now:<30}{_median_ratio(results[now], results[previous]):>6.2f}x")
    share = 1 - _median_ratio(
        results["SDK client .workspaces.get()"], results["SDK client .request()"]
    )
    print(f"\ngenerated layer's share of an in-memory SDK call: {share:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    report(asyncio.run(run(args.rounds, args.calls)))


if __name__ == "__main__":
    main()
