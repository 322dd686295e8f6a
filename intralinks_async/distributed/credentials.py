"""Credentials shipped to Dask workers, masked everywhere they could be shown.

Each worker process builds its own :class:`~intralinks_async.IntralinksClient` from a
:class:`Credentials`. Only grants that many processes can use at once are accepted:
client credentials (each worker fetches its own token) or a static access token. A
refresh token rotates on use (the first worker to refresh would invalidate everyone
else's copy), so it is refused with :class:`UnsupportedCredentialsError`.

The object pickles (it travels inside task arguments) but its ``repr``/``str`` show no
secret, so it cannot leak through the dashboard, task reprs, logs or exceptions. Its
bytes do travel over the cluster's connections: use Dask TLS between machines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from intralinks_async._client import DEFAULT_BASE_URL
from intralinks_async.distributed.errors import UnsupportedCredentialsError

if TYPE_CHECKING:
    from intralinks_async import IntralinksClient

__all__ = ["Credentials"]

_MASK = "**********"
#: ``IntralinksClient`` parameters that are not client options of a distributed run:
#: credentials and grants (given separately), and objects that cannot travel to workers.
_NOT_OPTIONS = frozenset(
    {
        "self",
        "base_url",
        "client_id",
        "client_secret",
        "access_token",
        "refresh_token",
        "redirect_uri",
        "auth",
        "token_store",
        "refresh_window",
        "revoke_on_close",
        "authorize_url",
        "transport",
        "event_hooks",
        "on_attempt",
    }
)


def allowed_options() -> frozenset[str]:
    """Keyword arguments of ``IntralinksClient`` usable for every client of a run."""
    import inspect

    from intralinks_async import IntralinksClient

    names = inspect.signature(IntralinksClient.__init__).parameters
    return frozenset(names) - _NOT_OPTIONS


@dataclass(frozen=True, slots=True, repr=False)
class Credentials:
    """Base URL, secrets and client options for the clients of a distributed run."""

    base_url: str = DEFAULT_BASE_URL
    client_id: str | None = None
    client_secret: str | None = field(default=None, compare=False)
    access_token: str | None = field(default=None, compare=False)
    client_options: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.access_token is not None:
            if self.client_secret is not None:
                raise UnsupportedCredentialsError(
                    "pass either access_token or client_id/client_secret, not both"
                )
        elif not (self.client_id and self.client_secret):
            raise UnsupportedCredentialsError(
                "distributed runs need client_id and client_secret (client-credentials grant) "
                "or a static access_token"
            )
        allowed = allowed_options()
        unknown = set(self.client_options) - allowed
        if unknown:
            raise ValueError(
                f"client options not usable on workers: {sorted(unknown)} "
                f"(allowed: {sorted(allowed)})"
            )

    @classmethod
    def create(
        cls,
        *,
        base_url: str = DEFAULT_BASE_URL,
        client_id: str | None = None,
        client_secret: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> Credentials:
        """Validate and wrap; a ``refresh_token`` raises :class:`UnsupportedCredentialsError`."""
        if refresh_token is not None:
            raise UnsupportedCredentialsError(
                "refresh tokens rotate on use and cannot be shared by many workers; use "
                "client credentials (client_id/client_secret) or a static access_token "
                "for distributed runs"
            )
        return cls(base_url, client_id, client_secret, access_token, dict(client_options or {}))

    @property
    def fingerprint(self) -> str:
        """A digest identifying these credentials and options (a cache key; not a secret)."""
        digest = hashlib.sha256()
        for part in (
            self.base_url,
            self.client_id or "",
            self.client_secret or "",
            self.access_token or "",
            repr(sorted(self.client_options.items())),
        ):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()[:32]

    def client(self) -> IntralinksClient:
        """A new (unopened) ``IntralinksClient`` using these credentials."""
        from intralinks_async import IntralinksClient

        options = dict(self.client_options)
        if self.access_token is not None:
            return IntralinksClient(self.base_url, access_token=self.access_token, **options)
        return IntralinksClient(
            self.base_url, client_id=self.client_id, client_secret=self.client_secret, **options
        )

    def __repr__(self) -> str:
        kind = "access_token" if self.access_token is not None else "client_credentials"
        return f"Credentials(base_url={self.base_url!r}, grant={kind}, secret={_MASK})"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)
