"""A changed spec regenerates into working code with no hand edits (and output is reproducible)."""

from __future__ import annotations

import copy
import importlib
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from pytest_httpx import HTTPXMock

from intralinks_async.pagination import AsyncPaginator

from .conftest import HttpxSender
from .helpers import GENERATED, SPEC_PATH, collect, load_spec, render, tree

PAGED = [
    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
    {"name": "limit", "in": "query", "schema": {"type": "integer"}},
]


def _list_of(key: str, ref: str) -> dict:
    schema = {"type": "object", "properties": {key: {"type": "array", "items": {"$ref": ref}}}}
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}


def _changed_spec() -> dict:
    spec = copy.deepcopy(load_spec())
    spec["paths"]["/workspaces/{workspaceId}/documents/{documentId}/versions"] = {
        "get": {
            "operationId": "listDocumentVersions",
            "summary": "List Document Versions",
            "tags": ["Documents"],
            "security": [{"bearerAuth": []}],
            "parameters": [
                {"$ref": "#/components/parameters/workspaceId"},
                {"$ref": "#/components/parameters/documentId"},
                *PAGED,
            ],
            "responses": _list_of("document", "#/components/schemas/Document"),
        }
    }
    spec["paths"]["/workspaces/{workspaceId}/audit"] = {
        "get": {
            "operationId": "listAuditEvents",
            "tags": ["Audit Events"],
            "security": [{"bearerAuth": []}],
            "parameters": [{"$ref": "#/components/parameters/workspaceId"}, *PAGED],
            "responses": _list_of("auditEvent", "#/components/schemas/AuditEvent"),
        }
    }
    spec["paths"]["/workspaces/{workspaceId}/documents/{documentId}/content"] = {
        "put": {
            "operationId": "replaceDocumentContent",
            "tags": ["Documents"],
            "security": [{"bearerAuth": []}],
            "parameters": [
                {"$ref": "#/components/parameters/workspaceId"},
                {"$ref": "#/components/parameters/documentId"},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            },
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Document"}}
                    },
                }
            },
        }
    }
    spec["paths"]["/workspaces/{workspaceId}/search"] = {
        "get": {
            "operationId": "searchDocuments",
            "tags": ["Documents"],
            "security": [{"bearerAuth": []}],
            "parameters": [
                {"$ref": "#/components/parameters/workspaceId"},
                {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                {
                    "name": "sort",
                    "in": "query",
                    "schema": {"type": "string", "enum": ["asc", "desc"]},
                },
                {
                    "name": "since",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                },
                {"name": "X-Trace-Id", "in": "header", "schema": {"type": "string"}},
                *PAGED,
            ],
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Document"},
                            }
                        }
                    },
                }
            },
        }
    }
    # AuditEvent refers to itself and, through AuditActor, back to itself: model modules
    # import each other (the referenced models are imported at the end of each module).
    spec["components"]["schemas"]["AuditEvent"] = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "action": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "previous": {"$ref": "#/components/schemas/AuditEvent"},
            "actor": {"$ref": "#/components/schemas/AuditActor"},
        },
    }
    spec["components"]["schemas"]["AuditActor"] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "lastEvent": {"$ref": "#/components/schemas/AuditEvent"},
        },
    }
    spec["components"]["schemas"]["Document"]["properties"]["fileHash"] = {
        "type": "string",
        "description": "Base64 SHA-1 of the content.",
    }
    spec["tags"].append({"name": "Audit Events"})
    return spec


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    tmp = tmp_path_factory.mktemp("regen")
    spec_file = tmp / "spec.json"
    spec_file.write_text(json.dumps(_changed_spec()), encoding="utf-8")
    package = tmp / "regen_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    render(spec_file, package / "_generated")
    sys.path.insert(0, str(tmp))
    try:
        yield importlib.import_module("regen_pkg._generated")
    finally:
        sys.path.remove(str(tmp))
        for name in [m for m in sys.modules if m == "regen_pkg" or m.startswith("regen_pkg.")]:
            del sys.modules[name]


async def test_new_paged_operation_has_contract_name_and_pages(
    regenerated: ModuleType, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    resources = regenerated.Resources(sender)
    paginator = resources.documents.list_versions("ws1", "d1", page_size=2)
    assert isinstance(paginator, AsyncPaginator)
    httpx_mock.add_response(
        json={"document": [{"id": "v1", "fileHash": "AAA="}, {"id": "v2", "fileHash": "BBB="}]}
    )
    httpx_mock.add_response(json={"document": [{"id": "v3"}]})
    items = await collect(paginator)
    assert [(d.id, d.file_hash) for d in items[:2]] == [("v1", "AAA="), ("v2", "BBB=")]
    assert items[2].id == "v3"
    requests = httpx_mock.get_requests()
    assert [r.url.path for r in requests] == ["/v2/workspaces/ws1/documents/d1/versions"] * 2
    assert [dict(r.url.params) for r in requests] == [
        {"offset": "0", "limit": "2"},
        {"offset": "2", "limit": "2"},
    ]


async def test_new_tag_appears_on_resources(
    regenerated: ModuleType, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    resources = regenerated.Resources(sender)
    httpx_mock.add_response(json={"auditEvent": [{"id": "e1", "action": "view"}]})
    httpx_mock.add_response(json={"auditEvent": []})  # the paginator confirms a short page
    events = await collect(resources.audit_events.list("ws1", page_size=10))
    assert [(e.id, e.action) for e in events] == [("e1", "view")]
    models = importlib.import_module("regen_pkg._generated.models")
    assert "AuditEvent" in models.__all__
    assert not [n for n in models.__all__ if "Response" in n]


def test_new_document_field_round_trips(regenerated: ModuleType) -> None:
    models = importlib.import_module("regen_pkg._generated.models")
    doc = models.Document.from_dict(
        {"id": "d1", "fileHash": "q83vEjRWeJq83vEjRWeJq83vEjQ=", "extra": 1}
    )
    assert doc.file_hash == "q83vEjRWeJq83vEjRWeJq83vEjQ="
    assert doc.to_dict() == {"id": "d1", "fileHash": "q83vEjRWeJq83vEjRWeJq83vEjQ=", "extra": 1}
    assert models.Document(file_hash="x").to_dict() == {"fileHash": "x"}


def test_cyclic_models_import_and_round_trip(regenerated: ModuleType) -> None:
    models = importlib.import_module("regen_pkg._generated.models")
    data = {
        "id": "e2",
        "at": "2026-03-02T17:45:12.345Z",
        "previous": {"id": "e1", "action": "view"},
        "actor": {"name": "ann", "lastEvent": {"id": "e0"}, "team": "deal"},
        "extra": [1, 2],
    }
    event = models.AuditEvent.from_dict(data)
    assert event.previous.id == "e1" and isinstance(event.previous, models.AuditEvent)
    assert event.actor.name == "ann" and event.actor.last_event.id == "e0"
    assert event.actor.additional_properties == {"team": "deal"}
    assert event.additional_properties == {"extra": [1, 2]}
    assert event.at.utcoffset() is not None and event.at.microsecond == 345000
    assert event.to_dict() == {**data, "at": "2026-03-02T17:45:12.345000+00:00"}
    with pytest.raises(KeyError):  # a required property is missing
        models.AuditActor.from_dict({"lastEvent": {"id": "e0"}})


def test_existing_operations_unchanged(regenerated: ModuleType) -> None:
    root = Path(regenerated.__file__).parent
    assert (root / "api" / "workspaces" / "list_workspaces.py").read_bytes() == (
        GENERATED / "api" / "workspaces" / "list_workspaces.py"
    ).read_bytes()


def test_committed_output_matches_a_fresh_render(tmp_path: Path) -> None:
    """`make check-generated` in test form: same spec, templates and config -> same bytes."""
    render(SPEC_PATH, tmp_path / "_generated")
    fresh, committed = tree(tmp_path / "_generated"), tree(GENERATED)
    assert sorted(fresh) == sorted(committed)
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert changed == [], f"stale generated files (run `make generate`): {changed}"


async def test_octet_stream_body_from_sync_file_is_streamed(
    regenerated: ModuleType, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    """Stock defect: an octet-stream body from a file object raised under the async client."""
    types = importlib.import_module("regen_pkg._generated.types")
    resources = regenerated.Resources(sender)
    data = bytes(range(256)) * 5000
    httpx_mock.add_response(json={"id": "d1"})
    doc = await resources.documents.replace_content(
        "ws1", "d1", body=types.File(payload=io.BytesIO(data))
    )
    assert doc.id == "d1"
    (request,) = httpx_mock.get_requests()
    assert request.method == "PUT"
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert request.headers["Content-Length"] == str(len(data))
    assert request.read() == data


async def test_bare_array_paging_with_required_query_enum_date_and_header(
    regenerated: ModuleType, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    import datetime

    models = importlib.import_module("regen_pkg._generated.models")
    resources = regenerated.Resources(sender)
    httpx_mock.add_response(json=[{"id": "a"}, {"id": "b"}])
    httpx_mock.add_response(json=[])
    since = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    found = await collect(
        resources.documents.search(
            "ws1",
            q="due diligence",
            sort=models.SearchDocumentsSort.DESC,
            since=since,
            x_trace_id="t-1",
            page_size=2,
        )
    )
    assert [d.id for d in found] == ["a", "b"]
    first, second = httpx_mock.get_requests()
    assert dict(first.url.params) == {
        "q": "due diligence",
        "sort": "desc",
        "since": "2024-05-06T07:08:09+00:00",
        "offset": "0",
        "limit": "2",
    }
    assert second.url.params["offset"] == "2"
    assert first.headers["X-Trace-Id"] == "t-1"


@pytest.mark.slow
def test_regenerated_code_is_mypy_strict_clean(regenerated: ModuleType, tmp_path: Path) -> None:
    """New spec features render into code that still passes mypy --strict."""
    import subprocess

    package_root = Path(regenerated.__file__).parents[1]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version",
            "3.11",
            "--follow-imports",
            "silent",
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "-p",
            "regen_pkg",
        ],
        cwd=package_root.parent,
        env={**os.environ, "MYPYPATH": str(GENERATED.parents[1])},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
