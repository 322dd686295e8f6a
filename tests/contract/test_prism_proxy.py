"""Contract, server side: the emulator's answers validate through ``prism proxy`` of the spec.

Error statuses the spec does not document (404 for a missing id) are expected answers, not
violations; everything else Prism reports fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from intralinks_async import IntralinksClient
from intralinks_async.errors import NotFoundError

from .prism import SPEC, run_prism, spec_operation_ids, unexpected_violations, violations
from .scenario import STEPS, Ids

pytestmark = pytest.mark.slow


class Recorder:
    """Response hook: method, path, status and Prism's violations of every answer."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, list[dict[str, Any]]]] = []

    async def __call__(self, response: httpx.Response) -> None:
        request = response.request
        self.seen.append(
            (request.method, request.url.path, response.status_code, violations(response.headers))
        )

    def unexpected(self, spec: Path = SPEC) -> list[Any]:
        return [
            (method, path, status, bad)
            for method, path, status, found in self.seen
            if (bad := unexpected_violations(method, path, status, found, spec))
        ]


@pytest.fixture
def proxy_url(emulator_url: str) -> Iterator[str]:
    with run_prism("proxy", emulator_url, "--errors") as url:
        yield url


def _client(url: str, recorder: Recorder) -> IntralinksClient:
    return IntralinksClient(
        url,
        client_id="demo",
        client_secret="demo-secret",
        max_retries=0,
        event_hooks={"response": [recorder]},
    )


async def test_emulator_answers_validate(proxy_url: str) -> None:
    recorder = Recorder()
    async with _client(proxy_url, recorder) as client:
        ids = Ids(fixed=False)
        done = []
        for operation, step in STEPS:
            await step(client, ids)
            done.append(operation)
        workspaces = [w async for w in client.workspaces.list(page_size=2)]  # the paginator
        with pytest.raises(NotFoundError):  # undocumented 404: expected, not a violation
            await client.documents.get(ids["ws"], ids["doc"])
    assert sorted(done) == sorted(spec_operation_ids())
    assert all(w.id != ids["ws"] for w in workspaces)  # deleted by the scenario
    assert any(status == 404 for _, _, status, _ in recorder.seen)
    assert len(recorder.seen) > len(STEPS)
    assert recorder.unexpected() == []


@pytest.fixture
def stricter_spec(tmp_path: Path) -> Path:
    """A spec whose Workspace.phase is an integer: the emulator's answers now violate it."""
    document = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    document["components"]["schemas"]["Workspace"]["properties"]["phase"] = {"type": "integer"}
    path = tmp_path / "stricter.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


async def test_a_response_breaking_the_spec_is_reported(
    emulator_url: str, stricter_spec: Path
) -> None:
    """Negative control: the proxy check sees an emulator answer that breaks the spec."""
    recorder = Recorder()
    with run_prism("proxy", emulator_url, spec=stricter_spec) as url:
        async with _client(url, recorder) as client:
            await client.request(
                "POST",
                "/workspaces",
                operation="createWorkspace",
                json={"name": "Falcon", "type": "ATC"},
            )
    bad = recorder.unexpected(stricter_spec)
    assert [(method, path, status) for method, path, status, _ in bad] == [
        ("POST", "/workspaces", 201)
    ]
    assert "response" in bad[0][3][0]["location"]
