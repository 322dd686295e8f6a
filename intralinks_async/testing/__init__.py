"""A spec-faithful local Intralinks server (the emulator), for tests, demos and benchmarks.

It imports nothing from the SDK, only follows the OpenAPI spec, so it can catch the
SDK's mistakes. Needs the ``emulator`` extra (starlette, uvicorn, python-multipart).

In-process (no sockets)::

    import httpx
    from intralinks_async.testing import create_app

    app = create_app(token_ttl=3600, ranges=True, fault_rate=0.0, fault_seed=None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://emulator") as c:
        token = (await c.post("/oauth/token", data={"grant_type": "client_credentials",
                 "client_id": "demo", "client_secret": "demo-secret"})).json()["access_token"]

Over loopback HTTP, in a background thread (``port=0`` picks a free port)::

    from intralinks_async.testing import create_app, serve_in_thread

    with serve_in_thread(create_app()) as base_url:   # "http://127.0.0.1:<port>"
        ...

In a child process (benchmarks: no shared GIL; state not inspectable)::

    from intralinks_async.testing import serve_in_subprocess

    with serve_in_subprocess(fault_rate=0.1, fault_seed=1) as base_url:
        ...

From the shell: ``intralinks-async emulator --port 8765 [--data-dir D]`` (with a data
dir the data room survives restarts). Pytest fixtures (plugin auto-registered):
``emulator_app``, ``emulator`` (the inspectable state), ``emulator_client`` (in-process
httpx client), ``emulator_url`` (loopback server), ``emulator_factory`` and
``throttled_emulator``; options through ``@pytest.mark.intralinks_emulator(...)``.

Inspecting and steering (``app.state.emulator``, an :class:`Emulator`):

* ``oauth.token_requests[grant]`` / ``oauth.tokens_issued[grant]`` (``Counter`` by
  ``client_credentials`` / ``refresh_token`` / ``authorization_code``),
  ``oauth.revocations``, ``oauth.auth_failures[reason]``;
* ``requests[operationId]``, ``faults.injected[kind]`` (``"429"``, ``"503"``, ``"drop"``);
* ``issue_authorization_code(client_id="demo", redirect_uri=None, user=...)``, also
  ``GET /oauth/authorize?client_id=..&redirect_uri=..&state=..`` (auto-approves);
* ``advance_clock(seconds)`` (expire tokens), ``revoke_all_tokens()``;
* ``inject_fault(kind, count=1, operation=None)`` (forced faults for the next requests);
* ``seed_workspaces(n)``, ``seed_folder(...)``, ``seed_document(...)``,
  ``seed_custom_fields(...)``, ``replace_document_content(...)`` (new ETag/fileHash).

``create_app(max_page_size=N)`` caps ``limit`` silently, as real APIs do.

Throttling (API requests only, never ``/oauth/*``): ``create_app(rate_limit=100)`` or
``rate_limit=RateLimit(rate=100, burst=20, retry_after=1)`` answers requests beyond a
token bucket with 429 + ``Retry-After`` (``rate_limiter.throttled`` counts them);
``create_app(outage=Outage(duration=4, kind="503"|"drop", after=10))`` or, at runtime,
``emulator.outage(4.0, "drop", operations={"uploadDocument"})`` fails requests in a time
window without processing them (``outages.served[kind]``).

Importing this package needs nothing optional: the names below are loaded on first
use, and a missing extra then raises :class:`ImportError` naming
``pip install 'intralinks-async[emulator]'``.

Faults (``fault_rate``, ``fault_seed``, ``retry_after``): see :mod:`._faults`; a dropped
response surfaces in-process as :class:`EmulatedDisconnect` (an
``httpx.RemoteProtocolError``) and over a socket as a connection closed mid-body.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._throttle import Outage, RateLimit

if TYPE_CHECKING:
    from ._app import create_app
    from ._emulator import Emulator
    from ._faults import EmulatedDisconnect
    from ._server import serve, serve_in_subprocess, serve_in_thread

__all__ = [
    "EmulatedDisconnect",
    "Emulator",
    "Outage",
    "RateLimit",
    "create_app",
    "serve",
    "serve_in_subprocess",
    "serve_in_thread",
]

EXTRA_HINT = "pip install 'intralinks-async[emulator]'"

_LAZY = {
    "create_app": "._app",
    "Emulator": "._emulator",
    "EmulatedDisconnect": "._faults",
    "serve": "._server",
    "serve_in_subprocess": "._server",
    "serve_in_thread": "._server",
}

_OPTIONAL = ("starlette", "uvicorn", "multipart", "python_multipart")


def __getattr__(name: str) -> Any:
    """Load the server-side names on first use (they need the ``emulator`` extra)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module, __name__), name)
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in _OPTIONAL:
            raise ImportError(
                f"the Intralinks emulator needs the 'emulator' extra ({exc.name} is "
                f"missing): {EXTRA_HINT}"
            ) from exc
        raise
    globals()[name] = value
    return value
