"""``IntralinksClient``: the request sender behind every generated operation.

The client implements the ``RequestSender`` protocol of docs/architecture.md (Seam 1) and
exposes one attribute per API tag (inherited from the generated ``Resources``), plus
``transfers``. It applies the base URL, bearer auth (refresh ahead, single flight, replay
once on 401), retries (``_retry.RetryPolicy``), timeouts, event hooks and redacted DEBUG
logging.

Hot path: instead of ``httpx.AsyncClient.send`` (whose machinery costs more than the
network at high concurrency, see DESIGN.md), each call builds its ``httpx.Request`` from
pre-encoded parts (cached parsed base URL, pre-encoded default headers) and hands it
straight to the transport's ``handle_async_request``. Any ``httpx.AsyncBaseTransport``
can be injected; it then carries every request, token calls included.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import json as jsonlib
import math
import re
import ssl
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import quote, urlencode

import anyio
import httpx

from intralinks_async._generated.api import Resources
from intralinks_async._logging import SecretStr, logger, redact_headers, redact_text, redact_url
from intralinks_async._response import (
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_RESPONSE_BYTES_EXTENSION,
    OPERATION_EXTENSION,
    read_response,
)
from intralinks_async._retry import RetryPolicy
from intralinks_async._transport import AiohttpTransport, default_transport
from intralinks_async.auth import (
    REVOKE_OPERATION,
    TOKEN_OPERATION,
    OAuth2Auth,
    TokenSet,
    TokenStore,
    token_request_replayable,
)
from intralinks_async.errors import APIConnectionError, APITimeoutError, IntralinksError

if TYPE_CHECKING:
    from intralinks_async.transfers import Transfers

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "IntralinksClient"]

DEFAULT_BASE_URL: Final = "https://api.intralinks.com/v2"
#: Default per-request timeouts (connect, read, write, pool).
DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0, pool=60.0)
ATTEMPTS_EXTENSION: Final = "intralinks_attempts"
_UNCHANGED: Final = object()

_DEBUG = 10  # logging.DEBUG
try:
    _VERSION = version("intralinks-async")
except PackageNotFoundError:  # pragma: no cover (running from a source tree)
    _VERSION = "0"
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9\-._~%!$&'()*+,;=:@/]*$")
_FORM_TYPE = "application/x-www-form-urlencoded"
_JSON_TYPE = "application/json"
_AUTHORIZATION = b"Authorization"
_AUTHORIZATION_LOWER = b"authorization"

QueryParams = Mapping[str, Any]
RequestHook = Callable[[httpx.Request], Awaitable[None]]
ResponseHook = Callable[[httpx.Response], Awaitable[None]]


def _query_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _encode_query(params: QueryParams) -> str:
    return urlencode([(k, _query_value(v)) for k, v in params.items()], quote_via=quote)


def _is_loopback(host: str) -> bool:
    # Only "localhost" itself and literal loopback addresses: names under .localhost are
    # not guaranteed to resolve to loopback by every resolver (they may go to DNS).
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _chain_leaks(exc: BaseException) -> bool:
    """Whether the text of ``exc`` or anything it was raised from carries a secret."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if redact_text(text) != text or "bearer " in text.lower():
            return True
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return False


def _attempt_bound(timeout: httpx.Timeout) -> float:
    """Longest one attempt can stall under ``timeout`` (pool + connect + write + read)."""
    parts = (timeout.pool, timeout.connect, timeout.write, timeout.read)
    return math.inf if any(p is None for p in parts) else sum(p for p in parts if p is not None)


def _drop_frames(exc: BaseException) -> None:
    """Detach the tracebacks of ``exc`` and everything it was raised from."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


class _IterableStream(httpx.AsyncByteStream):
    """A one-shot async-iterable request body that records whether sending began."""

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source = source
        self.started = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.started:
            raise httpx.StreamConsumed()
        self.started = True
        async for chunk in self._source:
            yield chunk


class _Body:
    """An encoded request body: bytes (replayable) or a one-shot stream."""

    __slots__ = ("content", "content_type", "stream")

    def __init__(
        self,
        content: bytes | None = None,
        content_type: str | None = None,
        stream: _IterableStream | None = None,
    ) -> None:
        self.content = content
        self.content_type = content_type
        self.stream = stream

    @property
    def replayable(self) -> bool:
        return self.stream is None or not self.stream.started


_NO_BODY = _Body()
_EMPTY_STREAM = httpx.ByteStream(b"")


def _encode_body(
    json: Any, data: Mapping[str, Any] | None, content: bytes | AsyncIterable[bytes] | None
) -> _Body:
    if json is not None:
        encoded = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return _Body(encoded.encode("utf-8"), _JSON_TYPE)
    if data is not None:
        return _Body(urlencode(dict(data)).encode("ascii"), _FORM_TYPE)
    if content is None:
        return _NO_BODY
    if isinstance(content, bytes | bytearray | memoryview):
        return _Body(bytes(content))
    if isinstance(content, AsyncIterable):
        return _Body(stream=_IterableStream(content))
    raise TypeError(f"unsupported request content type {type(content).__name__}")


class _SharedTransport(httpx.AsyncBaseTransport):
    """Lends the client's transport to the ``http`` escape-hatch client without closing it."""

    def __init__(self, owner: IntralinksClient) -> None:
        self._owner = owner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._owner._get_transport().handle_async_request(request)


class IntralinksClient(Resources):
    """Async client for the Intralinks API.

    Credentials (pick one): ``client_id`` + ``client_secret`` (client-credentials grant);
    plus ``refresh_token`` (refresh-token grant); plus ``redirect_uri`` (authorization-code
    grant: :meth:`authorization_url`, then :meth:`exchange_code`); ``access_token`` (a
    static token); or ``auth=`` (an :class:`~intralinks_async.auth.OAuth2Auth` or any
    ``httpx.Auth``).

    ``transport`` (any ``httpx.AsyncBaseTransport``) carries every request, token calls
    included; by default an aiohttp-backed pool under asyncio (httpx's pool under trio),
    chosen by ``bench/transport_bench.py``. To mock with pytest-httpx, pass
    ``transport=httpx.AsyncHTTPTransport()``; ``httpx.ASGITransport(app=...)`` runs against
    an in-process app such as the emulator. ``max_retries`` sets the default
    :class:`~intralinks_async.RetryPolicy` (``retry=`` replaces it whole),
    ``timeout`` the per-request timeouts,
    ``max_connections`` the pool size, ``max_response_bytes`` the decoded-size limit of a
    non-streamed response body (64 MiB; a larger 2xx body raises
    :class:`~intralinks_async.errors.ResponseTooLargeError`), ``event_hooks`` ``{"request": [...], "response":
    [...]}`` async callbacks run on every attempt. A plain ``http://`` base URL is refused
    for non-loopback hosts unless ``allow_insecure_http=True``; TLS is verified unless
    ``verify`` says otherwise. Proxy environment variables (``HTTPS_PROXY``...) are not
    read by either default transport; to use a proxy, inject one, e.g.
    ``transport=httpx.AsyncHTTPTransport(proxy="http://proxy:3128")``. One client serves one
    event loop; using it after ``aclose()`` raises ``RuntimeError``.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        redirect_uri: str | None = None,
        scope: str | None = None,
        auth: httpx.Auth | None = None,
        token_store: TokenStore | None = None,
        refresh_window: float = 300.0,
        revoke_on_close: bool = False,
        authorize_url: str | None = None,
        max_retries: int = 3,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_connections: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
        event_hooks: Mapping[str, list[Callable[..., Awaitable[None]]]] | None = None,
        headers: Mapping[str, str] | None = None,
        verify: bool | ssl.SSLContext = True,
        allow_insecure_http: bool = False,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("base_url must be an absolute http(s) URL")
        if url.scheme == "http" and not allow_insecure_http and not _is_loopback(url.host):
            raise ValueError(
                "refusing plain http:// to a non-loopback host (bearer tokens would travel "
                "in clear); use https:// or pass allow_insecure_http=True"
            )
        if url.query or url.fragment:
            raise ValueError("base_url must not carry a query or fragment")
        if url.userinfo:
            raise ValueError("base_url must not carry credentials (user:password@)")
        self.base_url = url.copy_with(path=url.path.rstrip("/") or "/")
        self._base_ref = url._uri_reference  # parsed once; each request replaces path/query
        self._base_path = url.raw_path.decode("ascii").rstrip("/")
        self._base_str = str(self.base_url).rstrip("/")
        if retry is None:
            retry = RetryPolicy(max_retries=max_retries)
        self.retry = retry
        self._token_retry_fresh = RetryPolicy(
            max_retries=retry.max_retries,
            backoff_base=retry.backoff_base,
            backoff_cap=retry.backoff_cap,
            jitter=retry.jitter,
            retry_after_cap=retry.retry_after_cap,
            total_timeout=retry.total_timeout,
            idempotent_methods=frozenset({"POST"}),
        )
        self._token_retry_oneshot = RetryPolicy(
            max_retries=retry.max_retries,
            backoff_base=retry.backoff_base,
            backoff_cap=retry.backoff_cap,
            jitter=retry.jitter,
            retry_after_cap=retry.retry_after_cap,
            total_timeout=retry.total_timeout,
            idempotent_methods=frozenset(),
            non_idempotent_statuses=frozenset({429, 503}),
        )
        if timeout is None or isinstance(timeout, int | float):
            timeout = httpx.Timeout(timeout)
        self.timeout = timeout
        if not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise ValueError("max_response_bytes must be a positive int")
        self.max_response_bytes = max_response_bytes
        # httpx.Request copies it; the body limit travels with each request (_response.py).
        self._extensions: dict[str, Any] = {
            "timeout": timeout.as_dict(),
            MAX_RESPONSE_BYTES_EXTENSION: max_response_bytes,
        }
        self._attempt_bound = _attempt_bound(timeout)
        self._max_connections = max_connections
        self._verify = verify
        self._transport = transport
        self._owns_transport = True
        self._parent: IntralinksClient | None = None  # set on with_options() views
        self._http: httpx.AsyncClient | None = None
        self._closed = False
        self._closing = False
        # How retries wait; tests swap in a recorder.
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep
        self.revoke_on_close = revoke_on_close
        self._authorize_url = authorize_url or f"{self._base_str}/oauth/authorize"

        hooks = dict(event_hooks or {})
        unknown = set(hooks) - {"request", "response"}
        if unknown:
            raise ValueError(f"unknown event hook kinds: {sorted(unknown)}")
        self._request_hooks: list[RequestHook] = list(hooks.get("request", []))
        self._response_hooks: list[ResponseHook] = list(hooks.get("response", []))

        self.auth = self._build_auth(
            auth=auth,
            client_id=client_id,
            client_secret=client_secret,
            access_token=access_token,
            refresh_token=refresh_token,
            redirect_uri=redirect_uri,
            scope=scope,
            token_store=token_store,
            refresh_window=refresh_window,
        )
        self._oauth = self.auth if isinstance(self.auth, OAuth2Auth) else None
        if self._oauth is not None:
            self._oauth.bind(self._send_token_form)

        default_headers: list[tuple[bytes, bytes]] = [
            (b"Host", url.netloc),
            (b"Accept", _JSON_TYPE.encode("ascii")),
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"User-Agent", f"intralinks-async/{_VERSION}".encode("ascii")),
        ]
        self._default_headers = self._merge_headers(default_headers, headers)
        self._default_headers_obj = httpx.Headers(self._default_headers)
        self._append_authorization = "Authorization" not in self._default_headers_obj
        super().__init__(self)

    @staticmethod
    def _build_auth(
        *,
        auth: httpx.Auth | None,
        client_id: str | None,
        client_secret: str | None,
        access_token: str | None,
        refresh_token: str | None,
        redirect_uri: str | None,
        scope: str | None,
        token_store: TokenStore | None,
        refresh_window: float,
    ) -> httpx.Auth | None:
        if auth is not None:
            if any((client_secret, access_token, refresh_token)):
                raise ValueError("pass either auth= or credentials, not both")
            return auth
        options: dict[str, Any] = {"token_store": token_store, "refresh_window": refresh_window}
        if access_token is not None:
            return OAuth2Auth.static(access_token)
        if client_id is None or client_secret is None:
            if client_id or client_secret or refresh_token or redirect_uri:
                raise ValueError("client_id and client_secret are both required")
            return None
        if refresh_token is not None:
            return OAuth2Auth.from_refresh_token(
                client_id, client_secret, refresh_token, scope=scope, **options
            )
        if redirect_uri is not None:
            return OAuth2Auth.authorization_code(
                client_id, client_secret, redirect_uri, scope=scope, **options
            )
        return OAuth2Auth.client_credentials(client_id, client_secret, scope=scope, **options)

    @staticmethod
    def _merge_headers(
        base: list[tuple[bytes, bytes]], extra: Mapping[str, str] | None
    ) -> list[tuple[bytes, bytes]]:
        if not extra:
            return base
        encoded = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
        names = {k.lower() for k, _ in encoded}
        return [(k, v) for k, v in base if k.lower() not in names] + encoded

    def __repr__(self) -> str:
        return f"IntralinksClient(base_url={str(self.base_url)!r}, auth={self.auth!r})"

    __str__ = __repr__

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._get_transport()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Revoke the token if asked to, then close the connection pool (idempotent)."""
        if self._closed or self._closing:
            return
        self._closing = True
        try:
            if self.revoke_on_close and self._oauth is not None:
                try:
                    await self._oauth.revoke()
                except IntralinksError as exc:
                    logger.warning("token revocation failed: %s", type(exc).__name__)
        finally:
            self._closed = True
            with anyio.CancelScope(shield=True):
                if self._http is not None:
                    await self._http.aclose()
                if self._transport is not None and self._owns_transport:
                    await self._transport.aclose()

    def with_options(
        self,
        *,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None | object = _UNCHANGED,
    ) -> IntralinksClient:
        """A view of this client with other retry/timeout settings.

        It shares the connection pool, auth and token (closing it closes nothing); e.g.
        ``client.with_options(max_retries=0).documents.upload(...)``.
        """
        clone = copy.copy(self)
        clone._parent = self._parent or self
        clone._transport = None
        clone._owns_transport = False
        clone._http = None
        clone.revoke_on_close = False
        clone.__dict__.pop("_transfers", None)
        if retry is not None or max_retries is not None:
            base = retry if retry is not None else self.retry
            if max_retries is not None:
                base = dataclasses.replace(base, max_retries=max_retries)
            clone.retry = base
        if timeout is not _UNCHANGED:
            if timeout is None or isinstance(timeout, int | float):
                timeout = httpx.Timeout(timeout)
            assert isinstance(timeout, httpx.Timeout)
            clone.timeout = timeout
            clone._extensions = {**self._extensions, "timeout": timeout.as_dict()}
            clone._attempt_bound = _attempt_bound(timeout)
        Resources.__init__(clone, clone)  # resources bound to the view
        return clone

    def _get_transport(self) -> httpx.AsyncBaseTransport:
        if self._parent is not None:
            return self._parent._get_transport()
        transport = self._transport
        if transport is None:
            if self._closed:
                raise RuntimeError("the client is closed")
            transport = self._transport = default_transport(
                max_connections=self._max_connections, verify=self._verify
            )
        return transport

    @property
    def transfers(self) -> Transfers:
        """Chunked/concurrent uploads and downloads (``intralinks_async.transfers``)."""
        transfers: Transfers | None = self.__dict__.get("_transfers")
        if transfers is None:
            # Imported on first use: the client does not depend on transfers at import time.
            module = import_module("intralinks_async.transfers")
            transfers = module.Transfers(self)
            self.__dict__["_transfers"] = transfers
        assert transfers is not None
        return transfers

    @property
    def http(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` on the same transport, base URL and auth (escape hatch)."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                base_url=self._base_str,
                auth=self.auth,
                transport=_SharedTransport(self),
                timeout=self.timeout,
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in self._default_headers
                ],
            )
        return self._http

    # -- OAuth helpers ------------------------------------------------------------------------

    def authorization_url(
        self, *, scope: str | None = None, state: str | None = None
    ) -> tuple[str, str]:
        """Authorization-code grant: the URL to send the user to, and its ``state``."""
        return self._require_oauth().authorization_url(
            self._authorize_url, scope=scope, state=state
        )

    async def exchange_code(self, code: str, *, state: str | None = None) -> TokenSet:
        """Authorization-code grant: exchange the code the redirect brought back."""
        return await self._require_oauth().exchange_code(code, state=state)

    def _require_oauth(self) -> OAuth2Auth:
        if self._oauth is None:
            raise IntralinksError("this client has no OAuth2 credentials")
        return self._oauth

    async def _send_token_form(self, path: str, form: dict[str, str]) -> httpx.Response:
        operation = TOKEN_OPERATION if path == "/oauth/token" else REVOKE_OPERATION
        policy = (
            self._token_retry_fresh if token_request_replayable(form) else self._token_retry_oneshot
        )
        return await self._send(
            "POST",
            path,
            operation=operation,
            params=None,
            body=_encode_body(None, form, None),
            headers=None,
            authenticated=False,
            stream=False,
            policy=policy,
        )

    # -- RequestSender ------------------------------------------------------------------------

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
        """Send a request with auth and retries; the body is read; any status is returned.

        Raises only :class:`~intralinks_async.errors.APIConnectionError` /
        :class:`~intralinks_async.errors.APITimeoutError` (after retries), or the
        authentication error of a failed token request.
        """
        return await self._send(
            method,
            path,
            operation=operation,
            params=params,
            body=_encode_body(json, data, content)
            if json is not None or data is not None or content is not None
            else _NO_BODY,
            headers=headers,
            authenticated=authenticated,
            stream=False,
            policy=self.retry,
        )

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
        """Like :meth:`request`, but the body is not read: iterate it inside the block."""
        return self._stream(method, path, operation, params, headers, authenticated)

    @asynccontextmanager
    async def _stream(
        self,
        method: str,
        path: str,
        operation: str,
        params: QueryParams | None,
        headers: Mapping[str, str] | None,
        authenticated: bool,
    ) -> AsyncIterator[httpx.Response]:
        response = await self._send(
            method,
            path,
            operation=operation,
            params=params,
            body=_NO_BODY,
            headers=headers,
            authenticated=authenticated,
            stream=True,
            policy=self.retry,
        )
        try:
            yield response
        finally:
            await response.aclose()

    # -- internals --------------------------------------------------------------------------

    def _build_request(
        self,
        method: str,
        path: str,
        params: QueryParams | None,
        body: _Body,
        headers: Mapping[str, str] | None,
        authorization: str | None,
    ) -> httpx.Request:
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
        else:  # let httpx percent-encode whatever the caller passed
            url = httpx.URL(self._base_str + path, params=params)
        if headers:
            request_headers = httpx.Headers(self._merge_headers(self._default_headers, headers))
            if authorization is not None:
                request_headers["Authorization"] = authorization
        elif authorization is not None and self._append_authorization:
            # No default header is named Authorization, so the token is appended to a
            # copy of their normalised entries: what Headers.__setitem__ would produce,
            # without its scan of the list.
            request_headers = httpx.Headers(self._default_headers_obj)
            request_headers._list.append(
                (_AUTHORIZATION, _AUTHORIZATION_LOWER, authorization.encode("utf-8"))
            )
        else:
            request_headers = httpx.Headers(self._default_headers_obj)  # cheap list copy
            if authorization is not None:
                request_headers["Authorization"] = authorization
        stream: httpx.AsyncByteStream | httpx.ByteStream
        if body.content is not None:
            stream = httpx.ByteStream(body.content)
            if body.content_type is not None and "Content-Type" not in request_headers:
                request_headers["Content-Type"] = body.content_type
            request_headers["Content-Length"] = str(len(body.content))
        elif body.stream is not None:
            stream = body.stream
            if "Content-Length" not in request_headers:
                request_headers["Transfer-Encoding"] = "chunked"
        else:
            stream = _EMPTY_STREAM
            if method in ("POST", "PUT", "PATCH"):
                request_headers["Content-Length"] = "0"
        return httpx.Request(
            method, url, headers=request_headers, stream=stream, extensions=self._extensions
        )

    async def _send(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        params: QueryParams | None,
        body: _Body,
        headers: Mapping[str, str] | None,
        authenticated: bool,
        stream: bool,
        policy: RetryPolicy,
    ) -> httpx.Response:
        if self._closed or (self._parent is not None and self._parent._closed):
            raise RuntimeError("the client is closed")
        transport = self._transport or self._get_transport()
        oauth = self._oauth if authenticated else None
        generic_auth = self.auth if authenticated and oauth is None else None
        buffered = (
            not stream
            and type(transport) is AiohttpTransport
            and not self._request_hooks
            and not self._response_hooks
        )
        attempts = 0
        retries = 0
        replayed_401 = False
        deadline = None if policy.total_timeout is None else time.monotonic() + policy.total_timeout
        # The deadline also cuts off a hanging attempt, except an upload (streamed body),
        # which may rightly outlast it and is bounded by the per-request timeouts. A cancel
        # scope costs ~10 us, so one is set up only for an attempt whose own timeouts could
        # let it run past the deadline (a first attempt under default timeouts needs none).
        debug = logger.isEnabledFor(_DEBUG)
        while True:
            attempts += 1
            # Wrapped: frame locals show up in error reports (Sentry, rich, pytest -l).
            token: SecretStr | None = None
            if oauth is not None:
                token = SecretStr(oauth.fresh_token() or await oauth.get_token())
            request = self._build_request(
                method,
                path,
                params,
                body,
                headers,
                None if token is None else "Bearer " + token.get_secret_value(),
            )
            request.extensions[OPERATION_EXTENSION] = operation  # named in body errors
            if debug:
                self._log_request(request, operation, attempts)
            try:
                if (
                    deadline is None
                    or body.stream is not None
                    or self._attempt_bound < deadline - time.monotonic()
                ):
                    response = await self._attempt(
                        transport, request, generic_auth, buffered=buffered, stream=stream
                    )
                else:
                    remaining = deadline - time.monotonic()
                    with anyio.CancelScope(
                        deadline=anyio.current_time() + remaining
                    ) as attempt_scope:
                        response = await self._attempt(
                            transport, request, generic_auth, buffered=buffered, stream=stream
                        )
                    if attempt_scope.cancelled_caught:
                        raise APITimeoutError(
                            f"overall deadline of {policy.total_timeout}s exceeded",
                            operation=operation,
                            method=request.method,
                            url=request.url,
                            attempts=attempts,
                        )
            except httpx.TransportError as exc:
                delay = policy.backoff(retries + 1)
                if (
                    retries < policy.max_retries
                    and policy.retry_error(method, exc, replayable=body.replayable)
                    and (deadline is None or time.monotonic() + delay < deadline)
                ):
                    retries += 1
                    if debug:
                        logger.debug(
                            "retrying %s %s (operation %s) in %.2fs after %s (attempt %d)",
                            method,
                            redact_url(request.url),
                            operation,
                            delay,
                            type(exc).__name__,
                            attempts,
                        )
                    await self._sleep(delay)
                    continue
                error = self._connection_error(exc, request, operation, attempts)
                if _chain_leaks(exc):
                    raise error from None  # the cause's own text would expose a secret
                # Keep the cause's type and message, not its frames: transport frames hold
                # request bodies and headers (token forms, bearer tokens) in their locals,
                # which error reporters print.
                _drop_frames(exc)
                raise error from exc

            status = response.status_code
            if debug:
                self._log_response(response, request, operation, attempts)
            if status == 401 and token is not None and oauth is not None and not replayed_401:
                try:
                    # Refresh even when the body cannot be replayed (a streamed upload):
                    # the caller's next request must not meet the same dead token.
                    replacement = await oauth.on_unauthorized(token)
                except BaseException:
                    await response.aclose()
                    raise
                if replacement is not None and body.replayable:
                    replayed_401 = True
                    await response.aclose()
                    if debug:
                        logger.debug("401 for %s: token refreshed, replaying once", operation)
                    continue
            if (
                status in policy.retry_statuses
                and retries < policy.max_retries
                and policy.retry_status(method, status, replayable=body.replayable)
            ):
                delay = policy.delay(retries + 1, response.headers)
                if deadline is None or time.monotonic() + delay < deadline:
                    retries += 1
                    await response.aclose()
                    if debug:
                        logger.debug(
                            "retrying %s %s (operation %s) in %.2fs after HTTP %d (attempt %d)",
                            method,
                            redact_url(request.url),
                            operation,
                            delay,
                            status,
                            attempts,
                        )
                    await self._sleep(delay)
                    continue
            response.extensions[ATTEMPTS_EXTENSION] = attempts
            return response

    async def _attempt(
        self,
        transport: httpx.AsyncBaseTransport,
        request: httpx.Request,
        generic_auth: httpx.Auth | None,
        *,
        buffered: bool,
        stream: bool,
    ) -> httpx.Response:
        """Send ``request`` once; read the body unless streaming (or already read)."""
        if generic_auth is not None:
            response = await self._send_with_auth(transport, request, generic_auth)
        elif buffered:
            # Fast path: no hooks, our transport, body wanted whole.
            response = await transport.send_buffered(request)  # type: ignore[attr-defined]
        else:
            response = await self._send_once(transport, request)
        if not stream and not buffered:
            try:
                await read_response(response)  # bounded by max_response_bytes
            except BaseException:
                await response.aclose()
                raise
        return response

    async def _send_once(
        self, transport: httpx.AsyncBaseTransport, request: httpx.Request
    ) -> httpx.Response:
        for hook in self._request_hooks:
            await hook(request)
        response = await transport.handle_async_request(request)
        response.request = request
        try:
            for response_hook in self._response_hooks:
                await response_hook(response)
        except BaseException:
            await response.aclose()
            raise
        return response

    async def _send_with_auth(
        self, transport: httpx.AsyncBaseTransport, request: httpx.Request, auth: httpx.Auth
    ) -> httpx.Response:
        """Drive an arbitrary ``httpx.Auth`` async flow over the transport."""
        flow = auth.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                response = await self._send_once(transport, outgoing)
                if auth.requires_response_body:
                    await response.aread()
                try:
                    outgoing = await flow.asend(response)
                except StopAsyncIteration:
                    return response
                await response.aclose()
        finally:
            await flow.aclose()

    @staticmethod
    def _connection_error(
        exc: httpx.TransportError, request: httpx.Request, operation: str, attempts: int
    ) -> APIConnectionError:
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        detail = str(exc) or type(exc).__name__
        return cls(
            f"{type(exc).__name__}: {detail}" if detail != type(exc).__name__ else detail,
            operation=operation,
            method=request.method,
            url=request.url,
            attempts=attempts,
        )

    @staticmethod
    def _log_request(request: httpx.Request, operation: str, attempt: int) -> None:
        logger.debug(
            "request %s %s (operation %s, attempt %d) headers=%s",
            request.method,
            redact_url(request.url),
            operation,
            attempt,
            redact_headers(request.headers.items()),
        )

    @staticmethod
    def _log_response(
        response: httpx.Response, request: httpx.Request, operation: str, attempt: int
    ) -> None:
        logger.debug(
            "response %d for %s %s (operation %s, attempt %d) headers=%s",
            response.status_code,
            request.method,
            redact_url(request.url),
            operation,
            attempt,
            redact_headers(response.headers.items()),
        )
