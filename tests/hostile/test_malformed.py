"""Malformed 2xx bodies end in APIResponseValidationError naming the operation, never in a
raw JSONDecodeError/TypeError/AttributeError/...: hypothesis-generated garbage against
every generated operation, named cases through every transport, pagination included."""

from __future__ import annotations

import enum
import importlib
import inspect
import json
import pkgutil
import typing
from collections.abc import Callable
from types import ModuleType, UnionType
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpx import HTTPXMock

import intralinks_async._generated.api as api_package
import intralinks_async._generated.models as models_package
from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async._generated.types import File, Unset
from intralinks_async.errors import APIResponseValidationError, IntralinksError

from .servers import Reply, Request, asgi_app, raw_server

TOKEN = "static-access-token-0123456789"
NO_RETRY = RetryPolicy(max_retries=0)


def _parsing_operations() -> list[ModuleType]:
    """Every generated operation module whose 2xx answer has a body to parse."""
    found = []
    for info in pkgutil.walk_packages(api_package.__path__, prefix=api_package.__name__ + "."):
        module = importlib.import_module(info.name)
        if hasattr(module, "_parse_body"):
            found.append(module)
    return sorted(found, key=lambda m: m.OPERATION)


OPERATIONS = _parsing_operations()


def _success_status(module: ModuleType) -> int:
    source = inspect.getsource(module._parse_body)
    return 201 if "response_201" in source else 200


def _property_names() -> list[str]:
    names: set[str] = set()
    for info in pkgutil.iter_modules(models_package.__path__):
        module = importlib.import_module(f"{models_package.__name__}.{info.name}")
        names |= set(getattr(module, "_PROPERTY_NAMES", ()))
    return sorted(names)


def _example_value(hint: Any) -> Any:
    """A valid value of a (resolved) type hint: enough to call an operation."""
    if isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union:
        options = [a for a in typing.get_args(hint) if a not in (Unset, type(None))]
        return _example_value(options[0])
    if hint is str:
        return "x1"
    if hint is bool:
        return True
    if hint is int:
        return 1
    if hint is File:
        return File(payload=b"data", file_name="a.bin")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    if attrs.has(hint):
        hints = typing.get_type_hints(hint)
        required = {
            f.alias or f.name: _example_value(hints[f.name])
            for f in attrs.fields(hint)
            if f.init and f.default is attrs.NOTHING
        }
        return hint(**required)
    raise AssertionError(f"no example for {hint!r}: extend _example_value")


def _call(module: ModuleType, client: IntralinksClient) -> Any:
    """``module.asyncio(...)`` with valid arguments (path parameters, required body)."""
    signature = inspect.signature(module.asyncio)
    hints = typing.get_type_hints(module.asyncio)
    args: list[Any] = []
    kwargs: dict[str, Any] = {"client": client}
    for name, parameter in signature.parameters.items():
        if name == "client" or parameter.default is not inspect.Parameter.empty:
            continue
        value = _example_value(hints[name])
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            args.append(value)
        else:
            kwargs[name] = value
    return module.asyncio(*args, **kwargs)


# -- garbage ---------------------------------------------------------------------------

KEYS = st.sampled_from(_property_names()) | st.text(max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["2024-01-02T03:04:05Z", "not a date", "2024-13-45", "", "SEE", "ATC"])
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


def _truncated(value: Any) -> st.SearchStrategy[bytes]:
    text = json.dumps(value).encode()
    return st.integers(min_value=0, max_value=max(0, len(text) - 1)).map(lambda n: text[:n])


GARBAGE = st.one_of(
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(KEYS, JSON_VALUES, max_size=6).map(lambda v: json.dumps(v).encode()),
    JSON_VALUES.flatmap(_truncated),
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    st.sampled_from(
        [
            b"<!DOCTYPE html><html><title>Gateway</title><body>maintenance</body></html>",
            b"[" * 5_000 + b"]" * 5_000,
            b'{"id": "\xff\xfe"}',
            b"1" * 5000,
            b'{"workspace": null}',
        ]
    ),
)


def _check(error: APIResponseValidationError, module: ModuleType, status: int) -> None:
    assert isinstance(error, IntralinksError)
    assert error.operation == module.OPERATION
    assert error.status_code == status
    assert f"operation {module.OPERATION}" in str(error)
    assert error.body is None or len(error.body) <= 503


@pytest.mark.parametrize("module", OPERATIONS, ids=lambda m: m.OPERATION)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=GARBAGE)
async def test_garbage_2xx_bodies_end_typed(module: ModuleType, body: bytes) -> None:
    status = _success_status(module)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    async with IntralinksClient(
        "http://127.0.0.1:9",
        access_token=TOKEN,
        retry=NO_RETRY,
        transport=httpx.MockTransport(answer),
    ) as client:
        try:
            await _call(module, client)
        except APIResponseValidationError as error:
            _check(error, module, status)


def test_every_parsing_operation_is_covered() -> None:
    names = {m.OPERATION for m in OPERATIONS}
    assert {"getWorkspace", "listWorkspaces", "uploadDocument", "getOAuthToken"} <= names
    assert len(names) >= 20


# -- named cases, through pytest-httpx and over loopback -------------------------------

NAMED = {
    "truncated": (b'{"id": "ws1", "name": "Fal', "not valid JSON"),
    "html": (b"<html><head><title>502 Bad Gateway</title></head></html>", "HTML"),
    "json string": (b'"ok"', "JSON string"),
    "json array": (b'[{"id": "ws1"}]', "JSON array"),
    "json number": (b"42", "JSON number"),
    "json null": (b"null", "JSON null"),
    "empty": (b"", "empty"),
    "bad date": (b'{"id": "ws1", "createdOn": "yesterday"}', "does not match the schema"),
    "date of wrong type": (b'{"id": "ws1", "createdOn": 12}', "does not match the schema"),
    "nested wrong type": (b'{"id": "ws1", "statistics": [1, 2]}', "does not match the schema"),
    "deep nesting": (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    "invalid utf-8": (b'{"id": "\xff"}', "not valid JSON"),
    "huge integer": (b"9" * 10_000, "not valid JSON"),
}


@pytest.mark.parametrize("case", NAMED, ids=str)
async def test_named_malformed_bodies_via_pytest_httpx(case: str, httpx_mock: HTTPXMock) -> None:
    body, expected = NAMED[case]
    httpx_mock.add_response(
        status_code=200, content=body, headers={"Content-Type": "application/json"}
    )
    async with IntralinksClient(
        "https://api.test/v2",
        access_token=TOKEN,
        retry=NO_RETRY,
        transport=httpx.AsyncHTTPTransport(),
    ) as client:
        with pytest.raises(APIResponseValidationError) as info:
            await client.workspaces.get("ws1")
    error = info.value
    assert error.operation == "getWorkspace" and error.status_code == 200
    assert expected in error.message, error.message
    assert error.__cause__ is None and error.__suppress_context__


@pytest.mark.parametrize("kind", ["aiohttp", "httpx", "asgi"])
@pytest.mark.parametrize("case", ["truncated", "html", "json array", "bad date", "deep nesting"])
async def test_named_malformed_bodies_over_every_transport(kind: str, case: str) -> None:
    body, expected = NAMED[case]
    reply = Reply(200, [("Content-Type", "application/json")], body)
    handler: Callable[[Request], Reply] = lambda request: reply  # noqa: E731
    options: dict[str, Any] = {"access_token": TOKEN, "retry": NO_RETRY}
    if kind == "asgi":
        options["transport"] = httpx.ASGITransport(app=asgi_app(handler))
        client = IntralinksClient("http://127.0.0.1:9", **options)
        async with client:
            with pytest.raises(APIResponseValidationError) as info:
                await client.workspaces.get("ws1")
    else:
        if kind == "httpx":
            options["transport"] = httpx.AsyncHTTPTransport()
        async with raw_server(handler) as url, IntralinksClient(url, **options) as client:
            with pytest.raises(APIResponseValidationError) as info:
                await client.workspaces.get("ws1")
    assert info.value.operation == "getWorkspace" and expected in info.value.message


async def test_unwrapped_list_with_a_non_list_is_typed(httpx_mock: HTTPXMock) -> None:
    for bad in ({"folder": "abc"}, {"folder": {"id": "f1"}}, {"folder": [1, 2]}, {"folder": None}):
        httpx_mock.add_response(json=bad)
    async with IntralinksClient(
        "https://api.test/v2",
        access_token=TOKEN,
        retry=NO_RETRY,
        transport=httpx.AsyncHTTPTransport(),
    ) as client:
        for _ in range(4):
            with pytest.raises(APIResponseValidationError) as info:
                await client.folders.list("ws1")
            assert info.value.operation == "listFolders"


@pytest.mark.parametrize("prefetch", [False, True])
async def test_a_malformed_page_ends_pagination_typed(
    prefetch: bool, httpx_mock: HTTPXMock
) -> None:
    page = [{"id": f"ws{i}", "name": f"n{i}"} for i in range(2)]
    httpx_mock.add_response(json={"workspace": page})
    httpx_mock.add_response(content=b'{"workspace": [{"id": "ws2", "createdOn": "soon"}]')
    seen: list[str] = []
    async with IntralinksClient(
        "https://api.test/v2",
        access_token=TOKEN,
        retry=NO_RETRY,
        transport=httpx.AsyncHTTPTransport(),
    ) as client:
        paginator = client.workspaces.list(page_size=2)
        with pytest.raises(APIResponseValidationError) as info:
            if prefetch:
                async with paginator.with_prefetch():
                    async for ws in paginator:
                        seen.append(str(ws.id))
            else:
                async for ws in paginator:
                    seen.append(str(ws.id))
    assert seen == ["ws0", "ws1"]
    assert info.value.operation == "listWorkspaces"


async def test_documented_errors_still_come_first(httpx_mock: HTTPXMock) -> None:
    """A malformed body on a non-2xx stays the status error (validation is for 2xx only)."""
    httpx_mock.add_response(status_code=404, content=b"<html>nope")
    async with IntralinksClient(
        "https://api.test/v2",
        access_token=TOKEN,
        retry=NO_RETRY,
        transport=httpx.AsyncHTTPTransport(),
    ) as client:
        with pytest.raises(IntralinksError) as info:
            await client.workspaces.get("ws1")
    assert not isinstance(info.value, APIResponseValidationError)
    assert getattr(info.value, "status_code", None) == 404
