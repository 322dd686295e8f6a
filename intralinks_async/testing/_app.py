"""Starlette application assembly: OAuth endpoints, API routes, auth/fault/latency wrapper."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, unquote_plus, urlencode

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from . import _errors
from ._control import control_routes
from ._emulator import Emulator
from ._faults import RAW_SEND_KEY, DroppedResponse, drop_connection
from ._handlers import ROUTES, Handler
from ._oauth import AuthFailure, OAuthError
from ._throttle import Outage, RateLimit
from ._validation import read_body

Endpoint = Callable[[Request], Awaitable[Response]]


def _api_endpoint(emu: Emulator, handlers: Mapping[str, tuple[str, Handler]]) -> Endpoint:
    """One endpoint per path: count, throttle, fault, delay, authenticate, dispatch."""
    requests = emu.requests
    faults = emu.faults
    oauth = emu.oauth
    outages = emu.outages
    limiter = emu.rate_limiter
    commit = emu.commit

    async def endpoint(request: Request) -> Response:
        method = request.method
        operation, handler = handlers["GET" if method == "HEAD" else method]
        requests[operation] += 1
        refusal = _front_door(emu, outages.check(operation), limiter.acquire)
        fault = faults.draw(operation) if refusal is None else None
        if emu.latency > 0:
            await anyio.sleep(emu.latency)
        if refusal == "drop":
            return await drop_connection(request)
        if refusal is not None or fault == "429" or fault == "503":
            with contextlib.suppress(ClientDisconnect):
                async for _ in request.stream():  # keep the connection reusable
                    pass
            if isinstance(refusal, Response):
                return refusal
            return (
                _errors.rate_limited(emu.retry_after) if fault == "429" else _errors.unavailable()
            )
        try:
            principal = oauth.authenticate(request.headers.get("authorization"))
            response = await handler(emu, request, principal)
        except AuthFailure as exc:
            response = _errors.unauthorized(exc.subcode, exc.message)
        except _errors.HTTPError as exc:
            response = exc.response
        except ClientDisconnect:
            # The client went away mid-body (partial upload already discarded); nobody
            # reads this response, it only keeps the server from logging a traceback.
            return Response(status_code=400)
        commit()  # with a data dir: what this request changed is on disk before it is answered
        if fault == "drop":
            return DroppedResponse(response)
        return response

    return endpoint


def _front_door(
    emu: Emulator, outage: Outage | None, acquire: Callable[[], int | None]
) -> Response | str | None:
    """What the gateway answers before the API sees the request: an outage, then the rate
    limit (a request refused by an outage takes no token). ``"drop"``: close the connection."""
    if outage is not None:
        return "drop" if outage.kind == "drop" else _errors.unavailable(outage.retry_after)
    wait = acquire()
    if wait is not None:
        return _errors.rate_limited(wait)
    return None


def _token_endpoint(emu: Emulator) -> Endpoint:
    async def token(request: Request) -> Response:
        try:
            form = await _read_form(request)
        except _errors.HTTPError as exc:
            return exc.response
        basic = _basic_credentials(request.headers.get("authorization"))
        if basic is not None and "client_id" not in form:
            form["client_id"], form["client_secret"] = basic
        try:
            body = emu.oauth.token(form)
        except OAuthError as exc:
            return _errors.oauth_error(exc.status, exc.code, exc.message)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    return token


async def _read_form(request: Request) -> dict[str, str]:
    """An ``/oauth/*`` body: declared form-urlencoded, no parameter repeated (RFC 6749 3.1/3.2)."""
    raw = await read_body(request, 64 * 1024)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise _errors.HTTPError(
            _errors.oauth_error(
                400, "invalid_request", "body must be application/x-www-form-urlencoded"
            )
        )
    pairs = parse_qsl(raw.decode("utf-8", "replace"))
    form = dict(pairs)
    if len(form) != len(pairs):
        raise _errors.HTTPError(
            _errors.oauth_error(400, "invalid_request", "a parameter is repeated")
        )
    return form


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 2.3.1: both parts are form-urlencoded before being joined and encoded.
    return unquote_plus(client_id), unquote_plus(secret)


def _revoke_endpoint(emu: Emulator) -> Endpoint:
    async def revoke(request: Request) -> Response:
        try:
            form = await _read_form(request)
        except _errors.HTTPError as exc:
            return exc.response
        token = form.get("token")
        if not token:
            return _errors.oauth_error(400, "invalid_request", "token is required")
        emu.oauth.revoke(token)
        return Response(status_code=200)

    return revoke


def _authorize_endpoint(emu: Emulator) -> Endpoint:
    """Auto-approving ``GET /oauth/authorize`` (not in the spec): redirects with a code."""

    async def authorize(request: Request) -> Response:
        q = request.query_params
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri")
        if "response_type" not in q:
            return _errors.oauth_error(400, "invalid_request", "response_type is required")
        if q["response_type"] != "code":
            return _errors.oauth_error(400, "unsupported_response_type", "only 'code' is supported")
        if client_id not in emu.oauth.clients or not redirect_uri:
            return _errors.oauth_error(
                400, "invalid_request", "unknown client_id or no redirect_uri"
            )
        code = emu.issue_authorization_code(
            client_id, redirect_uri=redirect_uri, user=q.get("login_hint", "demo.user@example.com")
        )
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        sep = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(redirect_uri + sep + urlencode(params), status_code=302)

    return authorize


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return JSONResponse(
            {
                "ErrorCode": "METHOD_NOT_ALLOWED",
                "Error": "method not allowed",
                "Hint": "see the spec",
            },
            status_code=405,
        )
    return _errors.not_found("resource", request.url.path).response


class EmulatorApp(Starlette):
    """The emulator's Starlette app; keeps the server's ``send`` so an outage can drop
    a connection without answering."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection event."""
        scope[RAW_SEND_KEY] = send
        await super().__call__(scope, receive, send)


def create_app(
    *,
    clients: Mapping[str, str] | None = None,
    token_ttl: float = 3600,
    ranges: bool = True,
    fault_rate: float = 0.0,
    fault_seed: int | None = None,
    latency: float = 0.0,
    data_dir: str | os.PathLike[str] | None = None,
    retry_after: int = 1,
    max_page_size: int | None = None,
    rate_limit: RateLimit | float | None = None,
    outage: Outage | None = None,
) -> Starlette:
    """Build an emulator ASGI app; its state is ``app.state.emulator`` (an :class:`Emulator`).

    ``clients`` maps client ids to secrets (default ``{"demo": "demo-secret"}``);
    ``token_ttl`` is the access-token lifetime in seconds; ``ranges=False`` ignores
    ``Range``; ``fault_rate`` (0..1) of API requests get 429/503/dropped connection,
    chosen by ``random.Random(fault_seed)``; ``latency`` seconds are added to every API
    request; ``data_dir`` holds document content (a temporary directory by default);
    ``retry_after`` is the ``Retry-After`` value (seconds) of injected 429s;
    ``max_page_size`` caps ``limit`` silently (and is the default page size), as real
    APIs do, so that clients relying on "a short page is the last page" are caught;
    ``rate_limit`` (requests/s, or a :class:`RateLimit` with ``burst`` and
    ``retry_after``) answers API requests beyond a token bucket with 429 + Retry-After;
    ``outage`` (an :class:`Outage`) fails API requests during a time window.
    """
    emu = Emulator(
        clients=clients,
        token_ttl=token_ttl,
        ranges=ranges,
        fault_rate=fault_rate,
        fault_seed=fault_seed,
        latency=latency,
        data_dir=data_dir,
        retry_after=retry_after,
        max_page_size=max_page_size,
        rate_limit=rate_limit,
        outage=outage,
    )
    by_path: dict[str, dict[str, tuple[str, Handler]]] = {}
    for method, path, operation, handler in ROUTES:
        by_path.setdefault(path, {})[method] = (operation, handler)
    routes = [
        Route("/oauth/token", _token_endpoint(emu), methods=["POST"]),
        Route("/oauth/revoke", _revoke_endpoint(emu), methods=["POST"]),
        Route("/oauth/authorize", _authorize_endpoint(emu), methods=["GET"]),
    ]
    routes += [
        Route(path, _api_endpoint(emu, handlers), methods=list(handlers))
        for path, handlers in by_path.items()
    ]
    routes += control_routes(emu)
    app = EmulatorApp(routes=routes, exception_handlers={404: _not_found, 405: _not_found})
    # No 307 from "/workspaces/" to "/workspaces": an empty id must be a 404, not quietly
    # become another operation.
    app.router.redirect_slashes = False
    app.state.emulator = emu
    return app
