"""The cheap hot path keeps every guarantee: encoding, validation, headers, parsing, errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intralinks_async._generated.api.documents import upload_document
from intralinks_async._generated.api.workspaces import WorkspacesResource, get_workspace
from intralinks_async._generated.client import encode_path_param
from intralinks_async._generated.models import UploadDocumentBody, Workspace
from intralinks_async._generated.types import File
from intralinks_async.errors import NotFoundError

WORKSPACE = {
    "id": "ws-1",
    "type": "ATC",
    "createdOn": "2026-01-15T09:30:00.000Z",
    "statistics": {"documentCount": 3, "futureCounter": 1},
}


class RecordingSender:
    """A RequestSender returning one canned response and recording what it was given."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.seen: list[dict[str, Any]] = []

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.seen.append({"method": method, "path": path, **kwargs})
        return self.response

    def stream(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError


def _json_response(status: int, body: Any) -> httpx.Response:
    request = httpx.Request("GET", "https://api.test/v2/workspaces/ws-1")
    return httpx.Response(status, json=body, request=request)


@given(st.text(max_size=40))
def test_encode_path_param_matches_the_reference_rules(text: str) -> None:
    """Fast path or not: the result is quote(..., safe="") or the same ValueError."""
    invalid = (
        text in ("", ".", "..")
        or any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text)
        or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)  # not encodable as UTF-8
    )
    if invalid:
        with pytest.raises((ValueError, UnicodeEncodeError)):
            encode_path_param(text, "p")
    else:
        assert encode_path_param(text, "p") == quote(text, safe="", encoding="utf-8")


@pytest.mark.parametrize("value", ["", ".", "..", "a\x00", "\x7f", "ws\n1"])
def test_safe_looking_values_still_rejected(value: str) -> None:
    with pytest.raises(ValueError, match="path parameter"):
        encode_path_param(value, "p")


def test_str_subclass_and_numbers_take_the_checked_path() -> None:
    class Sneaky(str):
        def __str__(self) -> str:
            return "../x"

    assert encode_path_param(Sneaky("abc"), "p") == "abc"
    assert encode_path_param(7, "p") == "7"
    with pytest.raises(ValueError):
        encode_path_param(True, "p")


async def test_caller_headers_passed_through_and_none_when_absent() -> None:
    sender = RecordingSender(_json_response(200, WORKSPACE))
    await get_workspace.asyncio("ws-1", client=sender)
    extra = {"X-Trace": "t"}
    await get_workspace.asyncio("ws-1", client=sender, headers=extra)
    assert sender.seen[0]["headers"] is None
    assert sender.seen[1]["headers"] == {"X-Trace": "t"}
    assert sender.seen[1]["path"] == "/workspaces/ws-1"
    assert extra == {"X-Trace": "t"}  # not modified


async def test_operation_adding_headers_merges_them_case_insensitively() -> None:
    """Operations that add headers (here the multipart Content-Type) build httpx.Headers."""
    sender = RecordingSender(_json_response(201, {"id": "d1"}))
    body = UploadDocumentBody(file=File(payload=b"abc", file_name="a.txt"), folder_id="f1")
    caller = {"content-type": "text/plain", "X-Trace": "t"}
    doc = await upload_document.asyncio("ws-1", client=sender, body=body, headers=caller)
    assert doc.id == "d1"
    (seen,) = sender.seen
    headers = seen["headers"]
    assert isinstance(headers, httpx.Headers)
    (content_type,) = headers.get_list("content-type")
    assert content_type.startswith("multipart/form-data; boundary=")
    assert headers["x-trace"] == "t"
    assert caller == {"content-type": "text/plain", "X-Trace": "t"}  # not modified


async def test_asyncio_and_detailed_parse_the_same_model() -> None:
    sender = RecordingSender(_json_response(200, WORKSPACE))
    plain = await get_workspace.asyncio("ws-1", client=sender)
    detailed = await get_workspace.asyncio_detailed("ws-1", client=sender)
    via_resource = await WorkspacesResource(sender).get("ws-1")
    assert plain == detailed.parsed == via_resource
    assert detailed.status_code == 200 and detailed.content == sender.response.content
    assert plain.created_on.utcoffset() is not None  # type: ignore[union-attr]


@pytest.mark.parametrize("variant", ["asyncio", "asyncio_detailed"])
async def test_non_2xx_still_raises_typed_error(variant: str) -> None:
    sender = RecordingSender(_json_response(404, {"error": {"code": "NF", "message": "gone"}}))
    with pytest.raises(NotFoundError) as info:
        await getattr(get_workspace, variant)("ws-1", client=sender)
    assert info.value.operation == "getWorkspace"


async def test_invalid_path_rejected_before_the_sender_is_called() -> None:
    sender = RecordingSender(_json_response(200, WORKSPACE))
    for variant in (get_workspace.asyncio, get_workspace.asyncio_detailed):
        with pytest.raises(ValueError):
            await variant("..", client=sender)
    assert sender.seen == []


def test_from_dict_keeps_unknown_keys_only_and_does_not_alias_input() -> None:
    source = {**WORKSPACE, "region": "eu"}
    ws = Workspace.from_dict(source)
    assert ws.additional_properties == {"region": "eu"}
    assert ws.statistics.additional_properties == {"futureCounter": 1}  # type: ignore[union-attr]
    ws["note"] = "x"
    assert "note" not in source and source["region"] == "eu"
    plain = Workspace.from_dict(WORKSPACE)
    assert plain.additional_properties == {}
    plain["note"] = "y"
    assert Workspace.from_dict(WORKSPACE).additional_properties == {}  # no shared dict
    assert plain.to_dict()["note"] == "y" and plain.type_ == "ATC"
    assert Workspace.from_dict(plain.to_dict()) == plain
