"""OAuth 2.0 state: clients, access/refresh tokens, authorization codes.

Access tokens live ``token_ttl`` seconds, refresh tokens 30 days, authorization codes
10 minutes. Refresh tokens rotate: using one invalidates it and returns a new pair.
Revoking a refresh token revokes every token of its grant (the login session);
revoking an access token revokes only that token. Replays are treated as theft (OAuth 2.0
Security BCP, RFC 6749 section 4.1.2): presenting an already-rotated refresh token, or
redeeming an authorization code twice, revokes every token of that session.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from ._clock import Clock

REFRESH_TTL = 30 * 24 * 3600
CODE_TTL = 600

DEFAULT_CLIENTS: Mapping[str, str] = {"demo": "demo-secret"}


@dataclass(slots=True)
class Token:
    """An issued access or refresh token."""

    kind: str  # "access" | "refresh"
    client_id: str
    principal: str
    grant: str  # id shared by every token of one login session
    expires_at: float


@dataclass(slots=True)
class AuthCode:
    """A pending authorization code."""

    client_id: str
    principal: str
    redirect_uri: str | None
    expires_at: float


class OAuthError(Exception):
    """A token request failed; carries the HTTP status and OAuth error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class AuthFailure(Exception):
    """A bearer token was rejected; ``subcode`` says why (never the token itself)."""

    def __init__(self, subcode: str, message: str) -> None:
        super().__init__(message)
        self.subcode = subcode
        self.message = message


class OAuthState:
    """Clients, live tokens and counters.

    Counters (for tests): ``token_requests[grant_type]`` counts every request to
    ``/oauth/token`` (successful or not, ``"<invalid>"`` for a missing/unknown grant),
    ``tokens_issued[grant_type]`` counts successful ones, ``revocations`` counts well-formed calls
    to ``/oauth/revoke``, ``auth_failures[subcode]`` counts rejected API requests.
    """

    def __init__(self, clients: Mapping[str, str], token_ttl: float, clock: Clock) -> None:
        self.clients = dict(clients)
        self.token_ttl = token_ttl
        self.clock = clock
        self._tokens: dict[str, Token] = {}
        self._codes: dict[str, AuthCode] = {}
        self._revoked: set[str] = set()
        self._spent: dict[str, str] = {}  # used refresh token / code -> its grant
        self.token_requests: Counter[str] = Counter()
        self.tokens_issued: Counter[str] = Counter()
        self.auth_failures: Counter[str] = Counter()
        self.revocations = 0

    # -- issuing -----------------------------------------------------------------------

    def _check_client(self, client_id: str | None, client_secret: str | None) -> str:
        if not client_id or client_secret is None:
            raise OAuthError(401, "invalid_client", "client authentication failed")
        expected = self.clients.get(client_id)
        if expected is None or not secrets.compare_digest(
            expected.encode("utf-8"), client_secret.encode("utf-8")
        ):
            raise OAuthError(401, "invalid_client", "client authentication failed")
        return client_id

    def _issue_pair(self, client_id: str, principal: str, grant: str) -> dict[str, object]:
        now = self.clock.now()
        access = "at_" + secrets.token_urlsafe(24)
        refresh = "rt_" + secrets.token_urlsafe(32)
        self._tokens[access] = Token("access", client_id, principal, grant, now + self.token_ttl)
        self._tokens[refresh] = Token("refresh", client_id, principal, grant, now + REFRESH_TTL)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": int(self.token_ttl),
        }

    def token(self, form: Mapping[str, str]) -> dict[str, object]:
        """Handle a ``/oauth/token`` form; returns the OAuthToken body or raises OAuthError."""
        grant_type = form.get("grant_type", "")
        counted = (
            grant_type
            if grant_type in ("client_credentials", "refresh_token", "authorization_code")
            else "<invalid>"
        )
        self.token_requests[counted] += 1
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required")
        client_id = self._check_client(form.get("client_id"), form.get("client_secret"))
        now = self.clock.now()
        if grant_type == "client_credentials":
            body = self._issue_pair(client_id, client_id, secrets.token_hex(8))
        elif grant_type == "refresh_token":
            value = form.get("refresh_token", "")
            tok = self._tokens.get(value)
            if tok is None and value in self._spent:
                self._revoke_grant(self._spent[value])  # replay of a rotated token
            if tok is None or tok.kind != "refresh" or tok.client_id != client_id:
                raise OAuthError(401, "invalid_grant", "refresh token is invalid or was used")
            del self._tokens[value]  # rotation: a used refresh token stops working
            self._spent[value] = tok.grant
            if tok.expires_at <= now:
                raise OAuthError(401, "invalid_grant", "refresh token expired")
            body = self._issue_pair(client_id, tok.principal, tok.grant)
        elif grant_type == "authorization_code":
            value = form.get("code", "")
            code = self._codes.pop(value, None)
            if code is None and value in self._spent:
                self._revoke_grant(self._spent[value])  # a code redeemed twice
            if code is None or code.client_id != client_id or code.expires_at <= now:
                raise OAuthError(401, "invalid_grant", "authorization code is invalid")
            if code.redirect_uri is not None and form.get("redirect_uri") != code.redirect_uri:
                raise OAuthError(401, "invalid_grant", "redirect_uri does not match")
            grant = secrets.token_hex(8)
            self._spent[value] = grant
            body = self._issue_pair(client_id, code.principal, grant)
        else:
            raise OAuthError(400, "unsupported_grant_type", "unsupported grant_type")
        self.tokens_issued[grant_type] += 1
        return body

    def issue_authorization_code(
        self,
        client_id: str = "demo",
        *,
        redirect_uri: str | None = None,
        user: str = "demo.user@example.com",
    ) -> str:
        """Issue a one-time authorization code, as if ``user`` approved ``client_id``."""
        if client_id not in self.clients:
            raise ValueError("unknown client_id")
        code = "ac_" + secrets.token_urlsafe(24)
        self._codes[code] = AuthCode(client_id, user, redirect_uri, self.clock.now() + CODE_TTL)
        return code

    # -- revoking / checking -----------------------------------------------------------

    def revoke(self, value: str) -> None:
        """Revoke a token (unknown tokens are ignored, per RFC 7009)."""
        self.revocations += 1
        tok = self._tokens.pop(value, None)
        if tok is None:
            return
        self._revoked.add(value)
        if tok.kind == "refresh":
            self._revoke_grant(tok.grant)

    def _revoke_grant(self, grant: str) -> None:
        """Revoke every live token of one login session."""
        for key in [k for k, t in self._tokens.items() if t.grant == grant]:
            del self._tokens[key]
            self._revoked.add(key)

    def revoke_all(self) -> None:
        """Revoke every live token (simulates a server-side logout of all sessions)."""
        self._revoked.update(self._tokens)
        self._tokens.clear()

    def authenticate(self, header: str | None) -> str:
        """Return the principal for an ``Authorization`` header or raise AuthFailure."""
        if not header:
            self.auth_failures["missing_token"] += 1
            raise AuthFailure("missing_token", "Authorization header is missing")
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value or " " in value:
            self.auth_failures["malformed_token"] += 1
            raise AuthFailure("malformed_token", "Authorization header is not 'Bearer <token>'")
        tok = self._tokens.get(value)
        if tok is None or tok.kind != "access":
            if value in self._revoked:
                self.auth_failures["revoked_token"] += 1
                raise AuthFailure("revoked_token", "access token was revoked")
            self.auth_failures["invalid_token"] += 1
            raise AuthFailure("invalid_token", "access token is invalid")
        if tok.expires_at <= self.clock.now():
            self.auth_failures["expired_token"] += 1
            raise AuthFailure("expired_token", "access token expired")
        return tok.principal
