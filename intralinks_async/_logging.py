"""Logging under the ``intralinks_async`` logger, and the one owner of secret redaction.

Every log call on the hot path is guarded by ``logger.isEnabledFor(DEBUG)`` at the call
site, so a disabled logger costs one attribute lookup per request.

Redaction has three layers, all applied by :func:`redact_text`:

* values of secret-named fields (``"access_token": "..."``, ``client_secret=...``);
* ``Bearer``/``Basic`` credentials;
* the *live secret registry*: every token value the SDK holds (access and refresh tokens,
  client secrets; anything wrapped in :class:`SecretStr`) is registered here and masked
  wherever it appears, whatever the field or header it was echoed in.

Exception texts (:mod:`intralinks_async.errors`), bodies kept on errors, transfer reports
(built from exception texts) and every record of the package logger go through it.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import httpx

__all__ = [
    "REDACTED",
    "SecretStr",
    "logger",
    "redact_headers",
    "redact_text",
    "redact_url",
    "register_secret",
]

#: The package logger; configure it (or its parent) to see request/response/retry lines.
logger = logging.getLogger("intralinks_async")

REDACTED = "[REDACTED]"

# -- the live secret registry ----------------------------------------------------------

#: Shorter values are not registered (masking them would garble unrelated text).
MIN_SECRET_LENGTH = 8
#: How many secrets are remembered; the oldest are forgotten first (a replaced token
#: stays masked until 64 newer ones have been registered).
MAX_SECRETS = 64

_registry_lock = threading.Lock()
_registered: dict[str, None] = {}  # insertion-ordered: oldest first
_secret_re: re.Pattern[str] | None = None


def _variants(value: str) -> set[str]:
    """``value`` as it may appear when echoed: raw, JSON-escaped, percent-encoded."""
    escaped = json.dumps(value)[1:-1]
    found = {
        value,
        escaped,
        escaped.replace("/", "\\/"),
        quote(value, safe=""),
        quote_plus(value, safe=""),
    }
    return {v for v in found if len(v) >= MIN_SECRET_LENGTH}


def _rebuild() -> None:
    global _secret_re
    variants = set().union(*(_variants(v) for v in _registered)) if _registered else set()
    if not variants:
        _secret_re = None
        return
    alternation = "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    _secret_re = re.compile(alternation)


def register_secret(*values: str | None) -> None:
    """Mask ``values`` wherever :func:`redact_text` sees them from now on.

    Called by the SDK for every token and client secret it holds; call it yourself for
    other credentials your code passes through the client (custom auth headers...).
    ``None``, empty and short values (under ``MIN_SECRET_LENGTH`` characters) are ignored.
    """
    fresh = [v for v in values if v and len(v) >= MIN_SECRET_LENGTH and v not in _registered]
    if not fresh:
        return  # the hot path (a token already known): one dict lookup
    with _registry_lock:
        for value in fresh:
            _registered.pop(value, None)
            _registered[value] = None
        while len(_registered) > MAX_SECRETS:
            del _registered[next(iter(_registered))]
        _rebuild()


def forget_secrets() -> None:
    """Empty the registry (for tests)."""
    with _registry_lock:
        _registered.clear()
        _rebuild()


# -- text and URL redaction --------------------------------------------------------------

_SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "client_secret",
    "id_token",
    "password",
    "token",
    "code",
    "assertion",
    "api_key",
    "apikey",
    "signature",
    "sig",
)
_SECRET_QUERY_KEYS = frozenset(_SECRET_NAMES)
# Body field names whose values are masked (names, not secrets).
_BODY_SECRET_NAMES = ["access_token", "refresh_token", "client_secret", "id_token"]
_BODY_SECRET_NAMES += ["password", "assertion", "api_key", "token"]
_SECRET_FIELDS = "|".join(_BODY_SECRET_NAMES)
# The value may be cut (a clipped or truncated body): then it runs to the end of the text.
_JSON_SECRET_RE = re.compile(
    r'("(?:' + _SECRET_FIELDS + r')"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|\\?\Z)', re.IGNORECASE
)
_FORM_SECRET_RE = re.compile(r"\b((?:" + _SECRET_FIELDS + r")=)[^&\s\"'<>]+", re.IGNORECASE)
_BEARER_RE = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/=]+", re.IGNORECASE)
# Query parameter names that carry credentials beyond the exact names above: pre-signed
# URLs (X-Amz-Signature, X-Amz-Credential, X-Goog-Signature, X-Amz-Security-Token...).
_SECRET_QUERY_NAME_RE = re.compile(
    r"token|secret|signature|passw|credential|(?:^|[-_.])(?:api[-_]?)?key(?:$|[-_.])",
    re.IGNORECASE,
)
# A query parameter inside free text (a URL quoted by an exception, a Location header).
_QUERY_PARAM_RE = re.compile(r"([?&;]([A-Za-z0-9_.~%\-]+)=)([^&;#\s\"'<>]+)")


def _secret_query_key(name: str) -> bool:
    return name.lower() in _SECRET_QUERY_KEYS or _SECRET_QUERY_NAME_RE.search(name) is not None


def _mask_query_param(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED if _secret_query_key(match.group(2)) else match.group(0)


def redact_text(text: str) -> str:
    """Mask secret field values, bearer credentials and registered secrets in ``text``."""
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _JSON_SECRET_RE.sub(lambda m: f'{m.group(1)}"{REDACTED}"', text)
    text = _FORM_SECRET_RE.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    if "=" in text:
        text = _QUERY_PARAM_RE.sub(_mask_query_param, text)
    return _BEARER_RE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


def redact_url(url: str | httpx.URL | None) -> str | None:
    """Return ``url`` without user info and with secret-looking query values masked."""
    if url is None:
        return None
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return REDACTED
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = [
            (k, REDACTED if _secret_query_key(k) else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        query = urlencode(pairs, safe="[]")
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


# -- headers -------------------------------------------------------------------------------

#: Header names whose values are never shown.
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "www-authenticate",
        "proxy-authenticate",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
    }
)
# Any other name that looks credential-bearing (X-Echo-Token, X-Session-Id, Api-Key...).
_SENSITIVE_NAME_RE = re.compile(
    r"auth|token|secret|passw|cookie|session|credential|signature|(?:^|[-_])(?:api[-_]?)?key(?:$|[-_])",
    re.IGNORECASE,
)


def sensitive_header(name: str) -> bool:
    """Whether a header named ``name`` may carry a credential (its value is masked)."""
    return name.lower() in SENSITIVE_HEADERS or _SENSITIVE_NAME_RE.search(name) is not None


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return ``headers`` as a dict with credential-bearing values masked.

    Values of sensitive-looking names are replaced whole; every other value still goes
    through :func:`redact_text` (a registered token echoed in any header is masked).
    """
    out: dict[str, str] = {}
    for key, value in headers:
        out[key] = REDACTED if sensitive_header(key) else redact_text(value)
    return out


# -- the logger filter -------------------------------------------------------------------


class _RedactingFilter(logging.Filter):
    """Applies :func:`redact_text` to every record of the package logger (after level checks)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: let logging report it as usual
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text: the traceback's messages are masked once, here.
            record.exc_text = redact_text(_TRACEBACK_FORMATTER.formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_TRACEBACK_FORMATTER = logging.Formatter()


logger.addFilter(_RedactingFilter())


class SecretStr:
    """A string that never shows its value in ``repr``/``str``/f-strings.

    Use :meth:`get_secret_value` to obtain the value where it is really needed. The value
    is registered with :func:`register_secret`, so it is masked in error texts and logs.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | SecretStr) -> None:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            raise TypeError("secret must be a str")
        self._value = value
        if value not in _registered:
            register_secret(value)

    def get_secret_value(self) -> str:
        """Return the wrapped secret."""
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"

    def __format__(self, format_spec: str) -> str:
        return "**********"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecretStr):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("SecretStr", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("SecretStr cannot be pickled")
