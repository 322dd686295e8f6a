"""Pytest fixtures for testing code against the Intralinks emulator.

Registered automatically (``pytest11`` entry point). Fixtures, all function-scoped:

* ``emulator_app``: a fresh :func:`~intralinks_async.testing.create_app` ASGI app;
  override this fixture in your ``conftest.py`` to pass options (faults, TTL, ...).
* ``emulator``: its inspectable state (``emulator_app.state.emulator``).
* ``emulator_client``: an ``httpx.AsyncClient`` talking to the app in-process.
* ``emulator_url``: base URL of the same app served by uvicorn on 127.0.0.1 (free port).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from intralinks_async.testing import Emulator, create_app, serve_in_thread


@pytest.fixture
def emulator_app() -> Iterator[Any]:
    """A fresh emulator ASGI app (temporary data directory, removed afterwards)."""
    app = create_app()
    yield app
    app.state.emulator.close()


@pytest.fixture
def emulator(emulator_app: Any) -> Emulator:
    """The emulator's state, counters and test helpers."""
    emu: Emulator = emulator_app.state.emulator
    return emu


@pytest.fixture
async def emulator_client(emulator_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client bound to the app in-process (base URL ``http://emulator``)."""
    transport = httpx.ASGITransport(app=emulator_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        yield client


@pytest.fixture
def emulator_url(emulator_app: Any) -> Iterator[str]:
    """The app served by uvicorn on loopback; yields ``http://127.0.0.1:<port>``."""
    with serve_in_thread(emulator_app) as url:
        yield url
