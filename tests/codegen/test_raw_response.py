"""with_raw_response on every resource: status, headers, content and parse(); per-call options."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import httpx
import pytest

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async._generated.api import Resources
from intralinks_async.errors import APIStatusError, NotFoundError
from intralinks_async.models import (
    DownloadStream,
    File,
    Folder,
    Response,
    UploadDocumentBody,
    Workspace,
)
from intralinks_async.pagination import AsyncPaginator
from intralinks_async.testing import create_app

PAGED = {"page_size", "start_offset"}


def _resources() -> list[tuple[str, object]]:
    return [(name, value) for name, value in vars(Resources(None)).items()]  # type: ignore[arg-type]


def _methods(obj: object) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(getattr(obj, name))
        for name in dir(type(obj))
        if not name.startswith("_") and name != "with_raw_response"
    }


@pytest.mark.parametrize("tag,resource", _resources(), ids=[n for n, _ in _resources()])
def test_every_method_has_a_raw_twin(tag: str, resource: object) -> None:
    raw = resource.with_raw_response  # type: ignore[attr-defined]
    assert raw is resource.with_raw_response  # type: ignore[attr-defined]  (built once)
    plain, twins = _methods(resource), _methods(raw)
    assert set(plain) == set(twins) and plain
    for name, signature in plain.items():
        params = set(signature.parameters)
        twin = set(twins[name].parameters)
        if params >= PAGED:  # a paged method's twin fetches one page
            assert twin == (params - PAGED) | {"offset", "limit"}, name
        else:
            assert twin == params, name
        assert "Response[" in str(twins[name].return_annotation) or "DownloadStream" in str(
            twins[name].return_annotation
        ), name


@pytest.fixture
async def client() -> AsyncIterator[IntralinksClient]:
    app = create_app()
    async with IntralinksClient(
        "http://127.0.0.1:1",
        client_id="demo",
        client_secret="demo-secret",
        transport=httpx.ASGITransport(app=app),
    ) as sdk:
        yield sdk
    app.state.emulator.close()


async def test_raw_responses_carry_status_headers_and_the_parsed_value(
    client: IntralinksClient,
) -> None:
    created = await client.workspaces.with_raw_response.create(
        body=Workspace(name="Raw", type="ATC")
    )
    assert isinstance(created, Response)
    assert created.status_code == 201
    assert created.headers["content-type"].startswith("application/json")
    ws = created.parse()
    assert isinstance(ws, Workspace) and ws is created.parsed and ws.name == "Raw"
    assert b'"Raw"' in created.content

    got = await client.workspaces.with_raw_response.get(ws.id)
    assert got.status_code == 200 and got.parse() == await client.workspaces.get(ws.id)

    page = await client.workspaces.with_raw_response.list(offset=0, limit=5)
    assert [w.id for w in page.parse()] == [ws.id]
    assert isinstance(client.workspaces.list(), AsyncPaginator)

    folder = await client.folders.create(ws.id, body=Folder(name="F"))
    listed = await client.folders.with_raw_response.list(ws.id)
    assert [f.id for f in listed.parse()] == [folder.id]  # unwrapped like the plain method

    upload = UploadDocumentBody(file=File(payload=b"hello", file_name="h.txt"), folder_id=folder.id)
    doc = (await client.documents.with_raw_response.upload(ws.id, body=upload)).parse()
    async with client.documents.with_raw_response.download(ws.id, doc.id) as stream:
        assert isinstance(stream, DownloadStream)
        assert stream.status_code == 200 and stream.content_length == 5
        assert b"".join([chunk async for chunk in stream.parse()]) == b"hello"

    deleted = await client.documents.with_raw_response.delete(ws.id, doc.id)
    assert deleted.status_code == 204 and deleted.parse() is None
    with pytest.raises(NotFoundError):  # status errors raise, as with the plain methods
        await client.documents.with_raw_response.get(ws.id, doc.id)


class Flaky:
    """A transport answering 503 (Retry-After: 0) to the first ``failures`` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"error": "busy"})
        return httpx.Response(200, json={"id": "w1", "name": "N"})


def _flaky_client(flaky: Flaky) -> IntralinksClient:
    return IntralinksClient(
        "https://api.test/v2",
        access_token="t",
        retry=RetryPolicy(max_retries=2),
        transport=httpx.MockTransport(flaky),
    )


async def test_with_options_reaches_raw_responses() -> None:
    flaky = Flaky(failures=1)
    async with _flaky_client(flaky) as client:
        with pytest.raises(APIStatusError) as caught:
            await client.with_options(max_retries=0).workspaces.with_raw_response.get("w1")
        assert caught.value.status_code == 503 and len(flaky.requests) == 1
        flaky.requests.clear()
        raw = await client.workspaces.with_raw_response.get("w1")  # the default retries
        assert raw.status_code == 200 and len(flaky.requests) == 2


async def test_with_options_timeout_reaches_every_kind_of_method() -> None:
    flaky = Flaky(failures=0)
    async with _flaky_client(flaky) as client:
        quick = client.with_options(timeout=7.5)
        await quick.workspaces.get("w1")
        await quick.workspaces.with_raw_response.get("w1")
        async with quick.documents.with_raw_response.download("w1", "d1") as stream:
            await stream.parse().__anext__()
        await client.workspaces.get("w1")
    timeouts = [r.extensions["timeout"]["read"] for r in flaky.requests]
    assert timeouts == [7.5, 7.5, 7.5, client.timeout.read]
