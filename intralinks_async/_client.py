"""``IntralinksClient``: the request sender behind every generated operation.

The client implements the ``RequestSender`` protocol of docs/architecture.md (Seam 1) and
exposes one attribute per API tag (inherited from the generated ``Resources``), plus
``transfers``. It applies the base URL, bearer auth (refresh ahead, single flight, replay
once on 401), retries (``_retry.RetryPolicy``), client-wide rate control and the outage
circuit, timeouts, event hooks and redacted DEBUG logging -- through the request pipeline in
``intralinks_async._pipeline`` (one stage per module; this module only configures it).

Hot path: instead of ``httpx.AsyncClient.send`` (whose machinery costs more than the
network at high concurrency, see ``bench/transport_bench.py``), each call builds its ``httpx.Request`` from
pre-encoded parts (cached parsed base URL, pre-encoded default headers) and hands it
straight to the transport's ``handle_async_request``. Any ``httpx.AsyncBaseTransport``
can be injected; it then carries every request, token calls included.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self

import anyio
import httpx

from intralinks_async._generated.api import Resources
from intralinks_async._logging import logger
from intralinks_async._pipeline.attempt import AttemptSender, RequestHook, ResponseHook
from intralinks_async._pipeline.body import NO_BODY, Content, encode_body
from intralinks_async._pipeline.builder import QueryParams, RequestBuilder, merge_headers
from intralinks_async._pipeline.circuit import Circuit
from intralinks_async._pipeline.driver import ATTEMPTS_EXTENSION, Call, Pipeline
from intralinks_async._pipeline.hooks import AttemptHook
from intralinks_async._pipeline.rate import RateController
from intralinks_async._response import DEFAULT_MAX_RESPONSE_BYTES, MAX_RESPONSE_BYTES_EXTENSION
from intralinks_async._retry import RetryPolicy
from intralinks_async._transport import default_transport
from intralinks_async.auth import (
    REVOKE_OPERATION,
    TOKEN_OPERATION,
    OAuth2Auth,
    TokenSet,
    TokenStore,
    token_request_replayable,
)
from intralinks_async.errors import IntralinksError

if TYPE_CHECKING:
    from intralinks_async.transfers import Transfers

__all__ = ["ATTEMPTS_EXTENSION", "DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "IntralinksClient"]

DEFAULT_BASE_URL: Final = "https://api.intralinks.com/v2"
#: Default per-request timeouts (connect, read, write, pool).
DEFAULT_TIMEOUT: Final = httpx.Timeout(60.0, connect=10.0, pool=60.0)
_UNCHANGED: Final = object()

try:
    _VERSION = version("intralinks-async")
except PackageNotFoundError:  # pragma: no cover (running from a source tree)
    _VERSION = "0"
_JSON_TYPE = "application/json"


def _is_loopback(host: str) -> bool:
    # Only "localhost" itself and literal loopback addresses: names under .localhost are
    # not guaranteed to resolve to loopback by every resolver (they may go to DNS).
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
    :class:`~intralinks_async.errors.ResponseTooLargeError`), ``event_hooks``
    ``{"request": [...], "response": [...]}`` async callbacks run on every attempt. A plain ``http://`` base URL is refused
    for non-loopback hosts unless ``allow_insecure_http=True``; TLS is verified unless
    ``verify`` says otherwise. Proxy environment variables (``HTTPS_PROXY``...) are not
    read by either default transport; to use a proxy, inject one, e.g.
    ``transport=httpx.AsyncHTTPTransport(proxy="http://proxy:3128")``. One client serves one
    event loop; using it after ``aclose()`` raises ``RuntimeError``.

    Throttling and outages (see docs/retries-and-rate-control.md): all requests of a client
    (and of its ``with_options`` views) share one rate controller, ``client.rate_control``
    (adaptive by default: it learns the rate the server sustains from 429s and paces every
    request; ``rate_limit=`` caps requests/s, ``adaptive_rate=False`` turns learning off)
    and one outage circuit: after ``outage_threshold`` consecutive failures requests wait
    for the service, probing it one request at a time, for at most ``outage_patience``
    seconds, then raise :class:`~intralinks_async.errors.ServiceUnavailableError`.
    ``on_attempt`` callbacks receive an :class:`~intralinks_async.AttemptRecord` after
    every attempt (tracing, metrics).
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
        rate_limit: float | None = None,
        adaptive_rate: bool = True,
        outage_patience: float = 300.0,
        outage_threshold: int = 5,
        on_attempt: Sequence[AttemptHook] = (),
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
        self.max_response_bytes = _positive_limit(max_response_bytes)
        # httpx.Request copies it; the body limit travels with each request (_response.py).
        self._extensions: dict[str, object] = {
            "timeout": timeout.as_dict(),
            MAX_RESPONSE_BYTES_EXTENSION: max_response_bytes,
        }
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
        request_hooks: list[RequestHook] = list(hooks.get("request", []))
        response_hooks: list[ResponseHook] = list(hooks.get("response", []))

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
        self._default_headers = merge_headers(default_headers, headers)
        rate = RateController(rate_limit=rate_limit, adaptive=adaptive_rate)
        self._pipeline = Pipeline(
            builder=RequestBuilder(self.base_url, self._default_headers),
            sender=AttemptSender(request_hooks, response_hooks),
            rate=rate,
            circuit=Circuit(
                threshold=outage_threshold,
                patience=outage_patience,
                on_open=rate.outage_started,
                on_close=rate.outage_ended,
            ),
            on_attempt=list(on_attempt),
        )
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
        max_response_bytes: int | None = None,
    ) -> IntralinksClient:
        """A view of this client with other retry/timeout/response-size settings.

        It shares the connection pool, auth and token, the rate controller and the outage
        circuit (closing it closes nothing); e.g.
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
        if max_response_bytes is not None:
            clone.max_response_bytes = _positive_limit(max_response_bytes)
            clone._extensions = {
                **clone._extensions,
                MAX_RESPONSE_BYTES_EXTENSION: max_response_bytes,
            }
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
    def rate_control(self) -> RateController:
        """The client-wide rate controller (``.snapshot()``: mode, rate, 429s seen...)."""
        return self._pipeline.rate

    @property
    def circuit(self) -> Circuit:
        """The client-wide outage circuit."""
        return self._pipeline.circuit

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
        call = Call(
            "POST",
            path,
            operation,
            None,
            encode_body(None, form, None),
            None,
            False,
            False,
            policy,
            gated=False,
        )
        return await self._send(call)

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
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """Send a request with auth and retries; the body is read; any status is returned.

        ``content`` is bytes, a one-shot ``AsyncIterable[bytes]`` (never re-sent once
        started) or a zero-argument callable returning a fresh one per attempt (a body
        factory: replayable like bytes). Raises only
        :class:`~intralinks_async.errors.APIConnectionError` /
        :class:`~intralinks_async.errors.APITimeoutError` (after retries),
        :class:`~intralinks_async.errors.ServiceUnavailableError` (an outage outlasted
        the patience), or the authentication error of a failed token request.
        """
        body = (
            encode_body(json, data, content)
            if json is not None or data is not None or content is not None
            else NO_BODY
        )
        return await self._send(
            Call(method, path, operation, params, body, headers, authenticated, False, self.retry)
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
            Call(method, path, operation, params, NO_BODY, headers, authenticated, True, self.retry)
        )
        try:
            yield response
        finally:
            await response.aclose()

    # -- internals --------------------------------------------------------------------------

    async def _send(self, call: Call) -> httpx.Response:
        if self._closed or (self._parent is not None and self._parent._closed):
            raise RuntimeError("the client is closed")
        return await self._pipeline.send(self, call)


def _positive_limit(max_response_bytes: object) -> int:
    """``max_response_bytes`` if it is an int >= 1, else ValueError."""
    if (
        not isinstance(max_response_bytes, int)
        or isinstance(max_response_bytes, bool)
        or max_response_bytes < 1
    ):
        raise ValueError("max_response_bytes must be a positive int")
    return max_response_bytes
