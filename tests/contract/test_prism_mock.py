"""Contract, SDK side: every request the SDK sends validates against ``prism mock`` of the spec,
and the SDK parses every mocked response (static examples and random, schema-driven bodies)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from intralinks_async import IntralinksClient
from intralinks_async.errors import APIStatusError

from .prism import run_prism, spec_operation_ids, violations
from .scenario import STEPS, Ids

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["static", "dynamic"])
def mock_url(request: pytest.FixtureRequest) -> Iterator[str]:
    extra = ["--dynamic", "--seed", "11"] if request.param == "dynamic" else []
    with run_prism("mock", "--errors", *extra) as url:
        yield url


class Recorder:
    """Response hook: the operation in flight, status and Prism's violations of each answer."""

    def __init__(self) -> None:
        self.operation = ""
        self.seen: list[tuple[str, str, int, list[dict[str, Any]]]] = []

    async def __call__(self, response: httpx.Response) -> None:
        path = response.request.url.path
        self.seen.append((self.operation, path, response.status_code, violations(response.headers)))


def _client(url: str, recorder: Recorder) -> IntralinksClient:
    return IntralinksClient(
        url, access_token="contract-token", max_retries=0, event_hooks={"response": [recorder]}
    )


def test_the_scenario_covers_every_operation() -> None:
    assert sorted(op for op, _ in STEPS) == sorted(spec_operation_ids())


async def test_every_operation_validates_and_parses(mock_url: str) -> None:
    recorder = Recorder()
    results: dict[str, Any] = {}
    async with _client(mock_url, recorder) as client:
        ids = Ids(fixed=True)
        for operation, step in STEPS:
            recorder.operation = operation
            results[operation] = await step(client, ids)  # raises on 4xx/5xx or bad bodies
    assert {op for op, *_ in recorder.seen} == set(results)
    bad = [(op, path, status, v) for op, path, status, v in recorder.seen if v or status >= 300]
    assert bad == []
    assert isinstance(results["downloadDocument"], bytes)
    assert isinstance(results["listFolders"], list)


async def test_prism_flags_an_invalid_request(mock_url: str) -> None:
    """Negative control: the check above would see a request that breaks the spec."""
    recorder = Recorder()
    async with _client(mock_url, recorder) as client:
        response = await client.request(
            "POST",
            "/workspaces",
            operation="createWorkspace",
            json={"name": 5, "statistics": "none"},
        )
    assert response.status_code == 422


async def test_prism_refuses_a_json_accept_for_the_download(mock_url: str) -> None:
    """What the SDK sent before content negotiation followed the spec: 406."""
    recorder = Recorder()
    async with _client(mock_url, recorder) as client:
        with pytest.raises(APIStatusError) as caught:
            async with client.documents.download(
                "ws-1", "doc-1", headers={"Accept": "application/json"}
            ) as chunks:
                async for _ in chunks:
                    pass
    assert caught.value.status_code == 406
