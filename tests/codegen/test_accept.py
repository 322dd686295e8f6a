"""Content negotiation follows the spec: each operation's Accept is its success media types."""

from __future__ import annotations

import httpx
import pytest

from intralinks_async import IntralinksClient
from intralinks_async._core.sender import DEFAULT_ACCEPT

from .helpers import load_spec
from .test_operations import CASES, Case

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _spec_accept() -> dict[str, str]:
    """operationId -> the Accept the spec implies (its 2xx media types, else the default)."""
    out: dict[str, str] = {}
    for item in load_spec()["paths"].values():
        for method, op in item.items():
            if method not in METHODS:
                continue
            types: list[str] = []
            for status, response in op.get("responses", {}).items():
                if str(status).startswith("2"):
                    types += [t for t in response.get("content", {}) if t not in types]
            out[op["operationId"]] = ", ".join(types) or DEFAULT_ACCEPT
    return out


SPEC_ACCEPT = _spec_accept()


def test_download_document_asks_for_octet_stream() -> None:
    assert SPEC_ACCEPT["downloadDocument"] == "application/octet-stream"
    assert DEFAULT_ACCEPT == "application/json"


def _answer(case: Case) -> httpx.Response:
    if case.raw_response is not None:
        return httpx.Response(
            case.status,
            content=case.raw_response,
            headers={"Content-Type": "application/octet-stream"},
        )
    if case.response is not None:
        return httpx.Response(case.status, json=case.response)
    return httpx.Response(case.status)


@pytest.mark.parametrize("case", CASES, ids=[c.op for c in CASES])
async def test_client_sends_the_spec_accept(case: Case) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if case.follow_ups and len(seen) > 1:
            return httpx.Response(case.status, json=case.follow_ups[len(seen) - 2][0])
        return _answer(case)

    async with IntralinksClient(
        "https://api.test/v2", access_token="t", transport=httpx.MockTransport(handler)
    ) as client:
        await case.call(client)
    assert seen
    for request in seen:
        assert request.headers["Accept"] == SPEC_ACCEPT[case.op], case.op


async def test_caller_accept_wins() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"x")

    async with IntralinksClient(
        "https://api.test/v2", access_token="t", transport=httpx.MockTransport(handler)
    ) as client:
        async with client.documents.download("w", "d", headers={"Accept": "*/*"}) as chunks:
            assert b"".join([c async for c in chunks]) == b"x"
        async with client.documents.download("w", "d") as chunks:
            assert b"".join([c async for c in chunks]) == b"x"
    assert [r.headers.get_list("Accept") for r in seen] == [["*/*"], ["application/octet-stream"]]
