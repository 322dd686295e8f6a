"""The seam between generated operations and the hand-written client layer.

Generated functions never build HTTP clients: they receive a :class:`RequestSender`
(implemented by ``intralinks_async.IntralinksClient``) that applies the base URL, auth,
retries, timeouts and logging, and returns responses of any status. This module also
holds the path-parameter encoder the generated ``_path()`` functions call.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Final, Protocol, TypeAlias
from urllib.parse import quote

import httpx

from intralinks_async._core.types import Unset

__all__ = ["DEFAULT_ACCEPT", "QueryParams", "RequestSender", "encode_path_param"]

#: Query parameters as passed to :meth:`RequestSender.request` (None values already dropped).
QueryParams: TypeAlias = Mapping[str, Any]

#: The ``Accept`` a sender sends when the operation's ``headers`` carry none. Operations
#: whose success responses have other media types in the spec send their own.
DEFAULT_ACCEPT: Final = "application/json"


class RequestSender(Protocol):
    """Sends requests for generated operations.

    ``content`` is bytes (replayable), an async iterable of bytes (sent once), or an async
    iterable that is also a zero-argument callable (``ReplayableBody``): a body factory,
    which a sender that re-sends requests calls once per attempt for a fresh iterator.
    Without an ``Accept`` in ``headers`` the sender sends :data:`DEFAULT_ACCEPT`.
    """

    async def request(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: QueryParams | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send a request and return the response (body read) whatever its status."""
        ...

    def stream(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: QueryParams | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """Send a request; the context manager yields the response with its body unread."""
        ...


#: Values made only of RFC 3986 "unreserved" characters need no encoding (fast path).
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")


def encode_path_param(value: object, name: str) -> str:
    """Validate and percent-encode one path parameter value.

    Everything outside RFC 3986 "unreserved" is percent-encoded (UTF-8), so ``/``, ``?``,
    ``#`` and ``%`` cannot change the path. Empty values, ``.``, ``..`` and values with
    control characters raise ValueError before any request is built, and so does
    ``UNSET`` (path parameters accept ``str | Unset`` so that an optional model field such
    as ``Workspace.id`` can be passed as is; a model that was never sent has no id).
    """
    if type(value) is str and value not in (".", "..") and _UNRESERVED.fullmatch(value):
        return value  # non-empty, no control characters, nothing to encode
    if isinstance(value, Unset):
        raise ValueError(_unset_message(name))
    if isinstance(value, bool) or value is None:
        raise ValueError(f"path parameter {name!r} must be a string or number, got {value!r}")
    text = value if isinstance(value, str) else str(value)
    if text == "":
        raise ValueError(f"path parameter {name!r} must not be empty")
    if text in (".", ".."):
        raise ValueError(f"path parameter {name!r} must not be {text!r}")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in text):
        raise ValueError(f"path parameter {name!r} must not contain control characters")
    return quote(text, safe="", encoding="utf-8", errors="strict")


def _unset_message(name: str) -> str:
    """The error for an UNSET path parameter, e.g. ``workspace_id`` -> "... existing workspace"."""
    if name.endswith("_id") and len(name) > 3:
        noun = name[:-3].replace("_", " ")
        return f"{name} is unset: pass the id of an existing {noun}"
    return f"{name} is unset: pass a value for this path parameter"
