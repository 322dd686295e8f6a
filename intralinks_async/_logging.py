"""Logging under the ``intralinks_async`` logger, with secrets redacted.

Every log call on the hot path is guarded by ``logger.isEnabledFor(DEBUG)`` at the call
site, so a disabled logger costs one attribute lookup per request.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable

from intralinks_async.errors import redact_text, redact_url

__all__ = ["REDACTED", "SecretStr", "logger", "redact_headers", "redact_text", "redact_url"]

#: The package logger; configure it (or its parent) to see request/response/retry lines.
logger = logging.getLogger("intralinks_async")

REDACTED = "[REDACTED]"

#: Header names whose values are never logged.
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
    }
)


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return ``headers`` as a dict with credential-bearing values masked."""
    out: dict[str, str] = {}
    for key, value in headers:
        out[key] = REDACTED if key.lower() in SENSITIVE_HEADERS else value
    return out


class SecretStr:
    """A string that never shows its value in ``repr``/``str``/f-strings.

    Use :meth:`get_secret_value` to obtain the value where it is really needed.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | SecretStr) -> None:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            raise TypeError("secret must be a str")
        self._value = value

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
