"""OAuth 2.0 token lifecycle for the Intralinks API.

:class:`OAuth2Auth` is an ``httpx.Auth`` whose async flow adds ``Authorization: Bearer``
and, on a 401, refreshes and replays once. It supports the grants the API offers:

* client credentials (:meth:`OAuth2Auth.client_credentials`),
* authorization code (:meth:`OAuth2Auth.authorization_code`, then
  :meth:`OAuth2Auth.authorization_url` and :meth:`OAuth2Auth.exchange_code`),
* a refresh token obtained elsewhere (:meth:`OAuth2Auth.from_refresh_token`),
* a static access token (:meth:`OAuth2Auth.static`; never refreshed).

Tokens are refreshed ahead of expiry: ``refresh_window`` seconds (default 300) before it,
clamped to ``lifetime * refresh_window_fraction`` for short-lived tokens so that a 2 s
token is not refreshed on every call. However many calls need a token at once, one token
request is made (single flight under one lock, re-checked after taking it). A refresh
that fails while the current token is still valid keeps the current token.

Rotating refresh tokens are persisted through a :class:`TokenStore`: in memory by
default, or :class:`FileTokenStore`, which several processes can share (writes are atomic
and mode 0600; refreshes happen under an advisory file lock, and a process that finds a
token refreshed by another process adopts it instead of spending its own refresh token).

Token requests are sent by the owner of the auth (``IntralinksClient`` binds a sender
that uses its transport, base URL and the token retry rules described in
:func:`token_request_replayable`). Secrets and tokens never appear in ``repr``, ``str``,
logs or exception messages.
"""

from __future__ import annotations

import contextlib
import fcntl
import hmac
import json
import math
import os
import secrets
import tempfile
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

import anyio
import anyio.to_thread
import httpx

from intralinks_async._logging import SecretStr, logger, register_secret
from intralinks_async.errors import (
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    IntralinksError,
    make_status_error,
)

__all__ = [
    "FileTokenStore",
    "MemoryTokenStore",
    "OAuth2Auth",
    "TokenSender",
    "TokenSet",
    "TokenStore",
    "token_request_replayable",
]

TOKEN_OPERATION = "getOAuthToken"  # noqa: S105 (an operationId)
REVOKE_OPERATION = "revokeOAuthToken"

#: Sends a form to ``/oauth/token`` (or ``/oauth/revoke``) and returns the read response.
TokenSender = Callable[[str, dict[str, str]], Awaitable[httpx.Response]]


def token_request_replayable(form: dict[str, str]) -> bool:
    """Whether a token request whose response was lost may be sent again.

    A client-credentials request only mints a fresh token, so replaying it is harmless.
    A refresh-token request is different: the server may already have rotated the refresh
    token, and presenting the old one again can make it revoke the whole token family
    (refresh-token reuse detection). Such a request is therefore retried only when it
    provably never reached the server (connection not established) or the server declined
    it (429/503); after a lost response the error surfaces and the still-valid access
    token, if any, stays in use. An authorization code is single use: same rule.
    """
    return form.get("grant_type") == "client_credentials"


@dataclass(slots=True, repr=False, eq=False)
class TokenSet:
    """An access token, its expiry (epoch seconds) and the optional refresh token."""

    access_token: str
    expires_at: float | None = None
    refresh_token: str | None = None
    token_type: str = "Bearer"  # noqa: S105 (a scheme name)
    lifetime: float | None = None  # expires_in as issued, seconds

    def __repr__(self) -> str:
        refresh = "'**********'" if self.refresh_token else "None"
        return (
            f"TokenSet(access_token='**********', refresh_token={refresh}, "
            f"expires_at={self.expires_at!r}, token_type={self.token_type!r})"
        )

    __str__ = __repr__

    def expires_in(self, now: float | None = None) -> float | None:
        """Seconds left before expiry (negative once expired), None when unknown."""
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def to_dict(self) -> dict[str, Any]:
        """Serialise for a token store."""
        return {
            "access_token": self.access_token,
            "expires_at": self.expires_at,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "lifetime": self.lifetime,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        """Inverse of :meth:`to_dict`."""
        access = data.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("token data has no access_token")
        expires_at = data.get("expires_at")
        lifetime = data.get("lifetime")
        refresh = data.get("refresh_token")
        return cls(
            access_token=access,
            expires_at=float(expires_at) if isinstance(expires_at, int | float) else None,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            token_type=str(data.get("token_type") or "Bearer"),
            lifetime=float(lifetime) if isinstance(lifetime, int | float) else None,
        )

    @classmethod
    def from_response(cls, payload: Any, *, now: float | None = None) -> TokenSet:
        """Build from a token endpoint JSON payload (``access_token``, ``expires_in``...)."""
        if not isinstance(payload, dict):
            raise ValueError("token response is not a JSON object")
        access = payload.get("access_token")
        if not isinstance(access, str) or not access:
            raise ValueError("token response has no access_token")
        issued = time.time() if now is None else now
        expires_in = payload.get("expires_in")
        lifetime: float | None = None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            with contextlib.suppress(OverflowError):  # a 400-digit int
                lifetime = float(expires_in)
        elif isinstance(expires_in, str):
            with contextlib.suppress(ValueError):
                lifetime = float(expires_in)
        if lifetime is not None and not math.isfinite(lifetime):
            lifetime = None  # NaN/inf: unknown (a NaN deadline would refresh on every call)
        refresh = payload.get("refresh_token")
        return cls(
            access_token=access,
            expires_at=None if lifetime is None else issued + lifetime,
            refresh_token=refresh if isinstance(refresh, str) and refresh else None,
            token_type=str(payload.get("token_type") or "Bearer"),
            lifetime=lifetime,
        )


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens live between refreshes (and between processes)."""

    async def load(self) -> TokenSet | None:
        """Return the stored token, if any."""
        ...

    async def save(self, token: TokenSet) -> None:
        """Persist ``token`` (replacing what was stored)."""
        ...

    def lock(self) -> AbstractAsyncContextManager[None]:
        """Exclusive section around load-refresh-save (across processes if the store is)."""
        ...

    # Optional: ``async def clear(self) -> None`` forgets the stored token; called after a
    # revocation so that no one sharing the store adopts the revoked token.


class MemoryTokenStore:
    """Keeps the token in this process only (the default)."""

    def __init__(self, token: TokenSet | None = None) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "MemoryTokenStore()"

    async def load(self) -> TokenSet | None:
        """Return the stored token."""
        return self._token

    async def save(self, token: TokenSet) -> None:
        """Replace the stored token."""
        self._token = token

    async def clear(self) -> None:
        """Forget the stored token."""
        self._token = None

    @asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """No cross-process exclusion is needed in memory."""
        yield


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and missing parents as 0700 (whatever the umask says)."""
    missing: list[Path] = []
    current = directory
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
            os.chmod(path, 0o700)  # mkdir's mode is subject to the umask


class FileTokenStore:
    """A JSON token file shared by several processes.

    Writes go to a temporary file in the same directory (mode 0600), are fsynced and
    then renamed over the target, so readers never see a partial file. :meth:`lock`
    takes an exclusive ``fcntl.flock`` on ``<path>.lock`` so that one process at a time
    refreshes (and spends a rotating refresh token).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock_path = self.path.with_name(self.path.name + ".lock")

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def _read(self) -> TokenSet | None:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return TokenSet.from_dict(json.loads(raw))
        except (ValueError, TypeError, AttributeError):
            logger.warning("ignoring unreadable token file %s", self.path)
            return None

    def _write(self, token: TokenSet) -> None:
        directory = self.path.parent
        _make_private_dirs(directory)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(token.to_dict(), handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    async def load(self) -> TokenSet | None:
        """Read the token file (None when absent or unreadable)."""
        return await anyio.to_thread.run_sync(self._read)

    async def save(self, token: TokenSet) -> None:
        """Atomically replace the token file."""
        await anyio.to_thread.run_sync(self._write, token)

    async def clear(self) -> None:
        """Delete the token file (after a revocation)."""
        with contextlib.suppress(FileNotFoundError):
            await anyio.to_thread.run_sync(self.path.unlink)

    def _try_acquire(self) -> int | None:
        _make_private_dirs(self._lock_path.parent)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    @asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        """Hold an exclusive advisory lock on ``<path>.lock``.

        Waiting for it polls without blocking a thread, so it stays cancellable even when
        the holder (another process) is stuck.
        """
        delay = 0.005
        while True:
            fd = self._try_acquire()
            if fd is not None:
                break
            await anyio.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


_CLIENT_CREDENTIALS = "client_credentials"
_AUTHORIZATION_CODE = "authorization_code"
_REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a grant name)
_STATIC = "static"

# After a failed refresh with a still-valid token, wait this long before trying again.
_REFRESH_RETRY_AFTER = 5.0
# A due token with more life than this left is used while a refresh ahead is in flight.
_STILL_VALID_MARGIN = 10.0
# Upper bound on a token request that cancellation of its caller does not interrupt.
_SHIELD_LIMIT = 120.0


class OAuth2Auth(httpx.Auth):
    """Bearer-token auth with refresh-ahead, single-flight refresh and 401 replay.

    Build it with one of the constructors (:meth:`client_credentials`,
    :meth:`authorization_code`, :meth:`from_refresh_token`, :meth:`static`) and hand it
    to ``IntralinksClient(auth=...)``, which binds the token sender.
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        *,
        grant: str,
        client_id: str | None = None,
        client_secret: str | SecretStr | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        redirect_uri: str | None = None,
        scope: str | None = None,
        token_store: TokenStore | None = None,
        refresh_window: float = 300.0,
        refresh_window_fraction: float = 0.1,
    ) -> None:
        if grant not in (_CLIENT_CREDENTIALS, _AUTHORIZATION_CODE, _REFRESH_TOKEN, _STATIC):
            raise ValueError(f"unknown grant {grant!r}")
        if grant != _STATIC and (not client_id or not client_secret):
            raise ValueError(f"the {grant} grant needs client_id and client_secret")
        if grant == _STATIC and not access_token:
            raise ValueError("a static token needs access_token")
        if grant == _REFRESH_TOKEN and not refresh_token:
            raise ValueError("the refresh_token grant needs refresh_token")
        if refresh_window < 0 or not 0 < refresh_window_fraction <= 1:
            raise ValueError("refresh_window must be >= 0 and refresh_window_fraction in (0, 1]")
        self.grant = grant
        self.client_id = client_id
        self._client_secret = SecretStr(client_secret) if client_secret is not None else None
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.refresh_window = refresh_window
        self.refresh_window_fraction = refresh_window_fraction
        self.store: TokenStore = token_store if token_store is not None else MemoryTokenStore()
        self._token: TokenSet | None = None
        self._refresh_at = 0.0  # epoch seconds after which the token is refreshed ahead
        self._retry_refresh_at = 0.0
        self._initial_refresh: SecretStr | None = (
            SecretStr(refresh_token) if refresh_token else None
        )
        self._state: SecretStr | None = None
        self._lock: anyio.Lock | None = None
        self._flights = 0  # refresh attempts started (under the lock)
        self._flight_error: tuple[Exception, TracebackType | None] | None = None
        # The token endpoint refused these credentials (invalid_client / invalid_grant):
        # every later refresh fails at once with this error instead of asking again.
        self._refused: AuthenticationError | None = None
        self._sender: TokenSender | None = None
        self.token_requests = 0  # token endpoint calls made (for diagnostics and tests)
        if grant == _STATIC:
            assert access_token is not None
            self._set_token(TokenSet(access_token=access_token))

    # -- constructors ---------------------------------------------------------------

    @classmethod
    def client_credentials(
        cls, client_id: str, client_secret: str | SecretStr, **kwargs: Any
    ) -> OAuth2Auth:
        """Client-credentials grant (server-to-server)."""
        return cls(
            grant=_CLIENT_CREDENTIALS, client_id=client_id, client_secret=client_secret, **kwargs
        )

    @classmethod
    def authorization_code(
        cls, client_id: str, client_secret: str | SecretStr, redirect_uri: str, **kwargs: Any
    ) -> OAuth2Auth:
        """Authorization-code grant: see :meth:`authorization_url` and :meth:`exchange_code`."""
        return cls(
            grant=_AUTHORIZATION_CODE,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            **kwargs,
        )

    @classmethod
    def from_refresh_token(
        cls, client_id: str, client_secret: str | SecretStr, refresh_token: str, **kwargs: Any
    ) -> OAuth2Auth:
        """Start from a refresh token obtained elsewhere (rotations go to the store)."""
        return cls(
            grant=_REFRESH_TOKEN,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            **kwargs,
        )

    @classmethod
    def static(cls, access_token: str) -> OAuth2Auth:
        """A fixed access token: sent as is, never refreshed."""
        return cls(grant=_STATIC, access_token=access_token)

    def __repr__(self) -> str:
        return (
            f"OAuth2Auth(grant={self.grant!r}, client_id={self.client_id!r}, "
            f"client_secret={'**********' if self._client_secret else None}, "
            f"store={self.store!r})"
        )

    __str__ = __repr__

    # -- wiring -----------------------------------------------------------------------

    def bind(self, sender: TokenSender) -> None:
        """Set the function that sends token-endpoint requests (done by the client).

        An auth serves one client (and its ``with_options`` views): rebinding it to another
        would silently send the first client's token requests through the second. Share
        a :class:`TokenStore` between clients instead.
        """
        current = getattr(self._sender, "__self__", self._sender)
        if (
            self._sender is not None
            and current is not getattr(sender, "__self__", sender)
            and not getattr(current, "_closed", False)  # reuse after close is fine
        ):
            raise ValueError(
                "this OAuth2Auth is already used by another IntralinksClient; give each "
                "client its own OAuth2Auth (they can share a token_store)"
            )
        self._sender = sender

    @property
    def token(self) -> TokenSet | None:
        """The current token set (its ``repr`` is redacted)."""
        return self._token

    @property
    def can_refresh(self) -> bool:
        """Whether a new token can be obtained without user interaction."""
        if self.grant == _STATIC:
            return False
        if self.grant == _CLIENT_CREDENTIALS:
            return True
        return bool(
            (self._token is not None and self._token.refresh_token) or self._initial_refresh
        )

    def _window(self, token: TokenSet) -> float:
        if token.lifetime is None or token.lifetime <= 0:
            return self.refresh_window
        return min(self.refresh_window, token.lifetime * self.refresh_window_fraction)

    @property
    def refused(self) -> AuthenticationError | None:
        """The token endpoint's refusal of these credentials, once it happened.

        After ``invalid_client`` / ``invalid_grant`` (or ``unauthorized_client``) no
        further token request is made: every call that needs a new token raises this
        error at once (a migration stops instead of failing file by file, and an account
        is not locked out by a request storm). Cleared when a valid token is obtained
        otherwise (``exchange_code``, or another process's token adopted from the store).
        """
        return self._refused

    def _set_token(self, token: TokenSet) -> None:
        register_secret(token.access_token, token.refresh_token)  # masked in errors and logs
        self._token = token
        self._refused = None
        if token.expires_at is None:
            self._refresh_at = float("inf")
        else:
            self._refresh_at = token.expires_at - self._window(token)

    def _get_lock(self) -> anyio.Lock:
        if self._lock is None:
            self._lock = anyio.Lock()
        return self._lock

    # -- the token ------------------------------------------------------------------

    def fresh_token(self) -> str | None:
        """The access token if it needs no refresh now (synchronous fast path)."""
        token = self._token
        if token is not None and time.time() < self._refresh_at:
            return token.access_token
        return None

    async def get_token(self) -> str:
        """A usable access token, refreshing first if it is due (single flight)."""
        token = self._token
        now = time.time()
        if token is not None and now < self._refresh_at:
            return token.access_token
        if (
            token is not None
            and self._lock is not None
            and self._lock.locked()
            and (token.expires_in(now) or 0) > _STILL_VALID_MARGIN
        ):
            # A refresh ahead is in flight and this token still works: do not make every
            # call wait for the token endpoint (which may be slow, or down).
            return token.access_token
        return await self._refresh(stale=token, force=False)

    async def on_unauthorized(self, used: str | SecretStr) -> str | None:
        """The server rejected ``used``: return a different token to replay with, or None."""
        if self.grant == _STATIC:
            return None
        current = self._token
        if current is not None and not hmac.compare_digest(
            current.access_token, used if isinstance(used, str) else used.get_secret_value()
        ):
            return current.access_token  # someone refreshed meanwhile
        if not self.can_refresh:
            return None
        return await self._refresh(stale=current, force=True)

    async def _refresh(self, *, stale: TokenSet | None, force: bool) -> str:
        flights_seen = self._flights
        async with self._get_lock():
            current = self._token
            now = time.time()
            # Re-check: another task may have refreshed while this one waited (a token
            # obtained meanwhile is used even if already due: one request per flight).
            if (
                current is not None
                and current is not stale
                and (now < self._refresh_at or self._flights != flights_seen)
            ):
                return current.access_token
            if self.grant == _STATIC:
                assert current is not None
                return current.access_token
            if (
                not force
                and current is not None
                and now < self._retry_refresh_at
                and (current.expires_in(now) or 0) > 0
            ):
                return current.access_token  # recent refresh failed; keep the valid token
            refused = self._refused
            if refused is not None:
                if not force and current is not None and (current.expires_in(now) or 0) > 1.0:
                    return current.access_token  # still valid: use it until it expires
                raise refused.with_traceback(None)
            failure = self._flight_error
            if failure is not None and self._flights != flights_seen:
                # The refresh this task queued behind failed: share its outcome rather
                # than send one more token request per waiter (with bad credentials that
                # would be a request storm, and an account lock-out at the provider).
                raise failure[0].with_traceback(failure[1])
            self._flights += 1
            self._flight_error = None
            try:
                return await self._refresh_locked(current, stale, force, now)
            except Exception as exc:
                self._flight_error = (exc, exc.__traceback__)
                if _refuses_credentials(exc):
                    assert isinstance(exc, AuthenticationError)
                    self._refused = exc
                    logger.debug(
                        "the token endpoint refused the credentials (%s): no further token "
                        "requests will be made",
                        exc.code,
                    )
                raise

    async def _refresh_locked(
        self, current: TokenSet | None, stale: TokenSet | None, force: bool, now: float
    ) -> str:
        async with self.store.lock():
            stored = await self.store.load()
            if stored is not None and self._adoptable(stored, stale, now):
                logger.debug("using token from %r", self.store)
                self._set_token(stored)
                return stored.access_token
            if stored is not None and stored.refresh_token:
                # Another process may have rotated the refresh token: use the newest.
                self._token = current = stored
            try:
                new = await self._request_token_shielded(current)
            except Exception as exc:
                valid = current is not None and (current.expires_in() or 0) > 1.0
                if valid and not force:
                    assert current is not None
                    self._retry_refresh_at = time.time() + _REFRESH_RETRY_AFTER
                    logger.warning(
                        "token refresh failed (%s); keeping the current token until it expires",
                        type(exc).__name__,
                    )
                    return current.access_token
                raise
        self._retry_refresh_at = 0.0
        self._initial_refresh = None
        return new.access_token

    async def _request_token_shielded(self, current: TokenSet | None) -> TokenSet:
        """Request, persist and adopt a new token, whatever happens to the caller.

        Shielded: a cancelled caller must not abandon a token request the server may
        already have honoured (a rotated refresh token would be lost, and with it the
        session). Bounded by ``_SHIELD_LIMIT``.
        """
        with anyio.CancelScope(shield=True) as shield:
            shield.deadline = anyio.current_time() + _SHIELD_LIMIT
            new = await self._request_token(current)
            if new.refresh_token is None and current is not None:
                new.refresh_token = current.refresh_token  # not rotated: keep it
            self._set_token(new)  # before saving: a failed save must not lose it
            await self.store.save(new)
            return new
        raise APITimeoutError(
            f"token request did not complete within {_SHIELD_LIMIT:.0f}s",
            operation=TOKEN_OPERATION,
        )

    def _adoptable(self, stored: TokenSet, stale: TokenSet | None, now: float) -> bool:
        if stale is not None and hmac.compare_digest(stored.access_token, stale.access_token):
            return False  # the store holds the very token being replaced
        if stored.expires_at is None:
            return stale is None
        return now < stored.expires_at - self._window(stored)

    def _grant_form(self, current: TokenSet | None) -> dict[str, str]:
        assert self.client_id is not None and self._client_secret is not None
        form = _Form(client_id=self.client_id, client_secret=self._client_secret.get_secret_value())
        refresh = current.refresh_token if current is not None else None
        if refresh is None and self._initial_refresh is not None:
            refresh = self._initial_refresh.get_secret_value()
        if self.grant == _CLIENT_CREDENTIALS:
            form["grant_type"] = _CLIENT_CREDENTIALS
        elif refresh:
            form["grant_type"] = _REFRESH_TOKEN
            form["refresh_token"] = refresh
            del refresh  # frame locals show up in error reports
        elif self.grant == _AUTHORIZATION_CODE:
            raise IntralinksError(
                "no access token yet: complete the authorization-code flow first "
                "(authorization_url() then exchange_code())"
            )
        else:
            raise IntralinksError("no refresh token available to obtain an access token")
        if self.scope and form["grant_type"] == _CLIENT_CREDENTIALS:
            form["scope"] = self.scope
        return form

    async def _request_token(self, current: TokenSet | None) -> TokenSet:
        form = self._grant_form(current)
        return await self._call_token_endpoint(form)

    async def _call_token_endpoint(self, form: dict[str, str]) -> TokenSet:
        if self._sender is None:
            raise IntralinksError("OAuth2Auth is not bound to a client (use IntralinksClient)")
        self.token_requests += 1
        logger.debug("requesting token (grant_type=%s)", form.get("grant_type"))
        response = await self._sender("/oauth/token", form)
        if not 200 <= response.status_code < 300:
            raise _scrub(_token_error(response), _form_secrets(form))
        try:
            token = TokenSet.from_response(response.json())
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deeply
            raise IntralinksError(
                f"token endpoint returned an invalid token response ({exc}) "
                f"(operation {TOKEN_OPERATION})"
            ) from None
        logger.debug("obtained token (expires_in=%s)", token.lifetime)
        return token

    # -- authorization code -----------------------------------------------------------

    def authorization_url(
        self, authorize_endpoint: str, *, scope: str | None = None, state: str | None = None
    ) -> tuple[str, str]:
        """Build the URL to send the user to; returns ``(url, state)``.

        ``state`` is random (``secrets.token_urlsafe``) unless given; it is remembered and
        checked by :meth:`exchange_code`.
        """
        if self.grant != _AUTHORIZATION_CODE:
            raise IntralinksError("authorization_url() needs the authorization_code grant")
        assert self.client_id is not None
        state = state or secrets.token_urlsafe(24)
        self._state = SecretStr(state)
        query = {"response_type": "code", "client_id": self.client_id, "state": state}
        if self.redirect_uri:
            query["redirect_uri"] = self.redirect_uri
        if scope or self.scope:
            query["scope"] = scope or self.scope or ""
        separator = "&" if "?" in authorize_endpoint else "?"
        return f"{authorize_endpoint}{separator}{urlencode(query)}", state

    async def exchange_code(self, code: str, *, state: str | None = None) -> TokenSet:
        """Exchange an authorization ``code`` for tokens (checks ``state`` if one was issued)."""
        if self.grant != _AUTHORIZATION_CODE:
            raise IntralinksError("exchange_code() needs the authorization_code grant")
        if self._state is not None and (
            state is None
            or not hmac.compare_digest(self._state.get_secret_value().encode(), state.encode())
        ):
            raise IntralinksError("OAuth state mismatch: the authorization response is not ours")
        assert self.client_id is not None and self._client_secret is not None
        form = _Form(
            grant_type=_AUTHORIZATION_CODE,
            client_id=self.client_id,
            client_secret=self._client_secret.get_secret_value(),
            code=code,
        )
        if self.redirect_uri:
            form["redirect_uri"] = self.redirect_uri
        async with self._get_lock(), self.store.lock():
            # Shielded like a refresh: the code is single use, so an abandoned exchange
            # would lose the login (bounded by _SHIELD_LIMIT).
            with anyio.CancelScope(shield=True) as shield:
                shield.deadline = anyio.current_time() + _SHIELD_LIMIT
                token = await self._call_token_endpoint(form)
                self._set_token(token)
                self._state = None
                await self.store.save(token)
                return token
        raise APITimeoutError(
            f"token request did not complete within {_SHIELD_LIMIT:.0f}s",
            operation=TOKEN_OPERATION,
        )

    # -- revoke -------------------------------------------------------------------------

    async def revoke(self) -> None:
        """Revoke the refresh token (or the access token when there is none)."""
        token = self._token
        if token is None or self._sender is None or self.grant == _STATIC:
            return
        form = _Form(token=token.refresh_token or token.access_token)
        if self.client_id and self._client_secret:
            form["client_id"] = self.client_id
            form["client_secret"] = self._client_secret.get_secret_value()
        response = await self._sender("/oauth/revoke", form)
        if not 200 <= response.status_code < 300:
            error = make_status_error(response, operation=REVOKE_OPERATION)
            raise _scrub(error, _form_secrets(form))
        self._token = None
        self._refresh_at = 0.0
        clear: Callable[[], Awaitable[None]] | None = getattr(self.store, "clear", None)
        if clear is not None:
            async with self.store.lock():
                stored = await self.store.load()
                if stored is not None and hmac.compare_digest(
                    stored.access_token, token.access_token
                ):  # only the revoked token, not a newer one another process saved
                    await clear()

    # -- httpx.Auth ---------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Not supported: the SDK is async only."""
        raise RuntimeError("OAuth2Auth supports async clients only")
        yield request  # pragma: no cover

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer token; on 401 refresh once and replay."""
        token = await self.get_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            replacement = await self.on_unauthorized(token)
            if replacement is not None:
                await response.aclose()
                request.headers["Authorization"] = f"Bearer {replacement}"
                yield request


#: OAuth error codes by which the token endpoint refuses the credentials themselves: asking
#: again cannot succeed (RFC 6749 section 5.2).
REFUSAL_CODES = frozenset({"invalid_client", "invalid_grant", "unauthorized_client"})


def _refuses_credentials(exc: BaseException) -> bool:
    if not isinstance(exc, AuthenticationError):
        return False
    return any((text or "").strip().lower() in REFUSAL_CODES for text in (exc.code, exc.message))


def _token_error(response: httpx.Response) -> APIStatusError:
    """The typed error for a failed token request (400/401 become AuthenticationError)."""
    error = make_status_error(response, operation=TOKEN_OPERATION)
    if response.status_code in (400, 401) and not isinstance(error, AuthenticationError):
        return AuthenticationError(
            error.message,
            status_code=error.status_code,
            method=error.method,
            url=error.url,
            operation=TOKEN_OPERATION,
            code=error.code,
            subcode=error.subcode,
            hint=error.hint,
            errors=error.errors,
            request_id=error.request_id,
            body=error.body,
            headers=error.headers,
            attempts=error.attempts,
        )
    return error


_FORM_SECRET_KEYS = ("client_secret", "refresh_token", "code", "token", "code_verifier")


class _Form(dict[str, str]):
    """A token-endpoint form whose ``repr`` masks secrets (error reporters print locals)."""

    def __repr__(self) -> str:
        shown = {k: "**********" if k in _FORM_SECRET_KEYS else v for k, v in self.items()}
        return f"{shown!r}"

    __str__ = __repr__


def _form_secrets(form: dict[str, str]) -> list[str]:
    return [form[key] for key in _FORM_SECRET_KEYS if form.get(key)]


def _scrub_value(value: Any, secrets_: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets_:
            value = value.replace(secret, "[REDACTED]")
        return value
    if isinstance(value, list):
        return [_scrub_value(item, secrets_) for item in value]
    if isinstance(value, dict):
        return {key: _scrub_value(item, secrets_) for key, item in value.items()}
    return value


def _scrub(error: APIStatusError, secrets_: list[str]) -> APIStatusError:
    """Mask the values just sent (secret, refresh token, code) wherever a server echoed them."""
    if not secrets_:
        return error
    error.message = _scrub_value(error.message, secrets_)
    error.hint = _scrub_value(error.hint, secrets_)
    error.body = _scrub_value(error.body, secrets_)
    error.errors = _scrub_value(error.errors, secrets_)
    error.code = _scrub_value(error.code, secrets_)
    error.subcode = _scrub_value(error.subcode, secrets_)
    error.args = (error._describe(),)
    return error
