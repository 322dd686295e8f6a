"""Stage: build the ``httpx.Request`` of one attempt from pre-encoded parts.

The base URL is parsed once and each request replaces only its path and query; default
headers are normalised once and copied per request (a list copy), with the bearer token
appended without a scan.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, urlencode

import httpx

from intralinks_async._pipeline.body import Body

__all__ = ["QueryParams", "RequestBuilder", "merge_headers"]

QueryParams = Mapping[str, Any]

_SAFE_PATH: Final = re.compile(r"^/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*$")
_AUTHORIZATION: Final = b"Authorization"
_AUTHORIZATION_LOWER: Final = b"authorization"
_EMPTY_STREAM: Final = httpx.ByteStream(b"")
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


def _query_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _encode_query(params: QueryParams) -> str:
    return urlencode([(k, _query_value(v)) for k, v in params.items()], quote_via=quote)


def merge_headers(
    base: list[tuple[bytes, bytes]], extra: Mapping[str, str] | None
) -> list[tuple[bytes, bytes]]:
    """``base`` with the headers of ``extra`` replacing same-named ones (case-insensitive)."""
    if not extra:
        return base
    encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    names = {k.lower() for k, _ in encoded}
    return [(k, v) for k, v in base if k.lower() not in names] + encoded


class RequestBuilder:
    """Builds requests against one base URL with one set of default headers."""

    __slots__ = ("_append_auth", "_base_path", "_base_ref", "_base_str", "_defaults", "_headers")

    def __init__(self, base_url: httpx.URL, default_headers: list[tuple[bytes, bytes]]) -> None:
        self._base_ref = base_url._uri_reference  # parsed once
        self._base_path = base_url.raw_path.decode("ascii").rstrip("/")
        self._base_str = str(base_url).rstrip("/")
        self._defaults = default_headers
        self._headers = httpx.Headers(default_headers)
        self._append_auth = "Authorization" not in self._headers

    def _with_extra(self, extra: Mapping[str, str], authorization: str | None) -> httpx.Headers:
        """The defaults, replaced by ``extra`` per name, then the bearer token (which
        replaces any Authorization in either), built without re-normalising each entry."""
        if isinstance(extra, httpx.Headers):
            added = list(extra._list)  # already (raw name, lowercased name, value)
        else:
            added = [
                (raw, raw.lower(), v.encode("latin-1"))
                for k, v in extra.items()
                if (raw := k.encode("latin-1")) is not None
            ]
        names = {entry[1] for entry in added}
        if authorization is not None:
            names.add(_AUTHORIZATION_LOWER)
            added = [entry for entry in added if entry[1] != _AUTHORIZATION_LOWER]
            added.append((_AUTHORIZATION, _AUTHORIZATION_LOWER, authorization.encode("utf-8")))
        headers = httpx.Headers()
        headers._list = [entry for entry in self._headers._list if entry[1] not in names] + added
        return headers

    def build(
        self,
        method: str,
        path: str,
        params: QueryParams | None,
        body: Body,
        extra: Mapping[str, str] | None,
        authorization: str | None,
        extensions: dict[str, Any],
    ) -> httpx.Request:
        """The request of one attempt (a body factory yields a fresh stream each time).

        One function on purpose: it runs once per attempt on the hot path.
        """
        if _SAFE_PATH.match(path):
            url = httpx.URL.__new__(httpx.URL)
            ref = self._base_ref
            # The parsed base with path and query replaced (the tuple's own constructor:
            # a third of the cost of NamedTuple._replace).
            url._uri_reference = type(ref)(
                ref.scheme,
                ref.userinfo,
                ref.host,
                ref.port,
                self._base_path + path,
                _encode_query(params) if params else None,
                ref.fragment,
            )
        else:  # let httpx percent-encode whatever was passed
            url = httpx.URL(self._base_str + path, params=params)
        if extra:
            headers = self._with_extra(extra, authorization)
        elif authorization is not None and self._append_auth:
            # What Headers.__setitem__ would produce, without its scan of the list.
            headers = httpx.Headers(self._headers)  # cheap list copy
            headers._list.append(
                (_AUTHORIZATION, _AUTHORIZATION_LOWER, authorization.encode("utf-8"))
            )
        else:
            headers = httpx.Headers(self._headers)
            if authorization is not None:
                headers["Authorization"] = authorization
        stream: httpx.AsyncByteStream | httpx.ByteStream
        if body.content is not None:
            stream = httpx.ByteStream(body.content)
            if body.content_type is not None and "Content-Type" not in headers:
                headers["Content-Type"] = body.content_type
            headers["Content-Length"] = str(len(body.content))
        else:
            iterable = body.next_stream()
            if iterable is not None:
                stream = iterable
                if "Content-Length" not in headers:
                    headers["Transfer-Encoding"] = "chunked"
            else:
                stream = _EMPTY_STREAM
                if method in _BODY_METHODS:
                    headers["Content-Length"] = "0"
        return httpx.Request(method, url, headers=headers, stream=stream, extensions=extensions)
