"""UNSET path parameters: accepted by the types, refused at run time before anything is sent.

Model ids are ``str | Unset``, so resource methods and endpoint functions take path
parameters as ``str | Unset`` (the public API contract: ``client.folders.list(ws.id)``);
``encode_path_param`` turns an UNSET into a ValueError naming the parameter.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import ModuleType
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

import intralinks_async._generated.api as api_package
from intralinks_async._generated.api import Resources
from intralinks_async._generated.client import encode_path_param
from intralinks_async._generated.types import UNSET
from intralinks_async.pagination import AsyncPaginator

from .conftest import HttpxSender

#: Stand-in for a required body: the path is validated before the body is looked at.
_BODY = object()


def _path_params(func: Callable[..., Any]) -> list[str]:
    """Names of the positional (path) parameters of a generated function or method."""
    return [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
    ]


def _needs_body(func: Callable[..., Any]) -> bool:
    body = inspect.signature(func).parameters.get("body")
    return body is not None and body.default is inspect.Parameter.empty


async def _drive(result: Any) -> None:
    """Run whatever a generated callable returned far enough to send a request."""
    if isinstance(result, AsyncPaginator):
        async for _ in result:
            break
    elif isinstance(result, AbstractAsyncContextManager):
        async with result:
            pass
    elif inspect.isawaitable(result):
        await result


def _calls_with_one_unset(func: Callable[..., Any]) -> list[tuple[str, list[Any]]]:
    names = _path_params(func)
    return [(name, ["x" if other != name else UNSET for other in names]) for name in names]


def _resource_methods() -> list[tuple[str, str]]:
    probe = Resources(HttpxSender.__new__(HttpxSender))
    found = []
    for attr, resource in vars(probe).items():
        for name, method in inspect.getmembers(resource, inspect.ismethod):
            if not name.startswith("_") and _path_params(method):
                found.append((attr, name))
    return found


def _endpoint_modules() -> list[ModuleType]:
    modules = []
    for tag in pkgutil.iter_modules(api_package.__path__):
        tag_package = importlib.import_module(f"{api_package.__name__}.{tag.name}")
        for op in pkgutil.iter_modules(tag_package.__path__):
            modules.append(importlib.import_module(f"{tag_package.__name__}.{op.name}"))
    return modules


RESOURCE_METHODS = _resource_methods()
ENDPOINT_FUNCTIONS = [
    (module, name)
    for module in _endpoint_modules()
    for name in ("asyncio", "asyncio_detailed", "stream", "stream_detailed")
    if hasattr(module, name) and _path_params(getattr(module, name))
]


def test_every_path_parameter_is_covered() -> None:
    """The discovery below finds the spec's path-parameter operations (no silent empty set)."""
    assert len(RESOURCE_METHODS) >= 20
    assert ("folders", "list") in RESOURCE_METHODS
    assert ("documents", "download") in RESOURCE_METHODS
    assert len(ENDPOINT_FUNCTIONS) >= 2 * len(RESOURCE_METHODS)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("workspace_id", "workspace_id is unset: pass the id of an existing workspace"),
        ("document_id", "document_id is unset: pass the id of an existing document"),
        ("custom_field_id", "custom_field_id is unset: pass the id of an existing custom field"),
        ("slug", "slug is unset: pass a value for this path parameter"),
    ],
)
def test_encode_path_param_rejects_unset_by_name(name: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        encode_path_param(UNSET, name)
    assert str(caught.value) == message


def test_plain_strings_keep_the_fast_path() -> None:
    assert encode_path_param("ws1", "workspace_id") == "ws1"
    assert encode_path_param("a/b", "workspace_id") == "a%2Fb"


@pytest.mark.parametrize(("tag", "method"), RESOURCE_METHODS, ids=lambda v: str(v))
async def test_resource_method_refuses_unset_and_sends_nothing(
    tag: str, method: str, api: Resources, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    bound = getattr(getattr(api, tag), method)
    extra = {"body": _BODY} if _needs_body(bound) else {}
    for name, args in _calls_with_one_unset(bound):
        with pytest.raises(ValueError, match=rf"^{name} is unset: "):
            await _drive(bound(*args, **extra))
    assert sender.calls == []
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    ("module", "function"),
    ENDPOINT_FUNCTIONS,
    ids=lambda v: v.__name__.rsplit(".", 1)[-1] if isinstance(v, ModuleType) else str(v),
)
async def test_endpoint_function_refuses_unset_and_sends_nothing(
    module: ModuleType, function: str, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    func = getattr(module, function)
    extra = {"body": _BODY} if _needs_body(func) else {}
    for name, args in _calls_with_one_unset(func):
        with pytest.raises(ValueError, match=rf"^{name} is unset: "):
            await _drive(func(*args, client=sender, **extra))
    assert sender.calls == []
    assert httpx_mock.get_requests() == []


async def test_contract_flow_with_an_unsaved_model_fails_clearly(
    api: Resources, sender: HttpxSender, httpx_mock: HTTPXMock
) -> None:
    """``folders.list(ws.id)`` on a Workspace that was never created names the parameter."""
    from intralinks_async.models import Folder, Workspace

    ws = Workspace(name="Project Falcon", type="ATC")
    with pytest.raises(ValueError, match="workspace_id is unset: pass the id of an existing"):
        await api.folders.list(ws.id)
    with pytest.raises(ValueError, match="folder_id is unset"):
        await api.folders.get("ws1", Folder(name="Financials").id)
    assert sender.calls == []
    assert httpx_mock.get_requests() == []
