"""Pytest fixtures for testing code against the Intralinks emulator.

Registered automatically (``pytest11`` entry point). Importing this plugin needs nothing
optional, so a test run without the ``emulator`` extra is never broken by it; a fixture
used without the extra fails that test with ``pip install 'intralinks-async[emulator]'``.

Fixtures, all function-scoped:

* ``emulator_app``: a fresh :func:`~intralinks_async.testing.create_app` ASGI app. Pass
  options with a marker, ``@pytest.mark.intralinks_emulator(rate_limit=50, latency=0.01)``,
  or override the fixture in your ``conftest.py``.
* ``emulator``: its inspectable state (``emulator_app.state.emulator``).
* ``emulator_client``: an ``httpx.AsyncClient`` talking to the app in-process.
* ``emulator_url``: base URL of the same app served by uvicorn on 127.0.0.1 (free port).
* ``emulator_factory``: ``emulator_factory(**create_app_options)`` returns a
  :class:`RunningEmulator` (``.app``, ``.state``, ``.url``); any number per test.
* ``throttled_emulator``: a :class:`RunningEmulator` behind a token bucket of
  :data:`THROTTLED_DEFAULTS` (20 requests/s, burst 5, ``Retry-After: 1``); the marker's
  options are applied on top.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from intralinks_async.testing import Emulator

MARKER = "intralinks_emulator"
EXTRA_HINT = "pip install 'intralinks-async[emulator]'"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``intralinks_emulator`` marker."""
    config.addinivalue_line(
        "markers", f"{MARKER}(**options): create_app() options for the emulator fixtures"
    )


def _testing() -> Any:
    """``intralinks_async.testing`` with its server parts loaded, or fail the test clearly."""
    import intralinks_async.testing as testing

    try:
        testing.create_app  # noqa: B018 (loads the optional dependencies)
        testing.serve_in_thread  # noqa: B018
    except ImportError as exc:
        pytest.fail(f"the emulator fixtures need the 'emulator' extra: {EXTRA_HINT} ({exc})")
    return testing


def _marker_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
    return dict(marker.kwargs)


class RunningEmulator:
    """One emulator app: ``app`` (ASGI), ``state`` (the :class:`Emulator`), ``url``.

    ``url`` starts a loopback server (uvicorn in a thread) the first time it is read.
    """

    def __init__(self, app: Any, stack: contextlib.ExitStack) -> None:
        self.app = app
        self._stack = stack
        self._url: str | None = None

    @property
    def state(self) -> Emulator:
        """The emulator's state, counters and test helpers (``app.state.emulator``)."""
        emu: Emulator = self.app.state.emulator
        return emu

    @property
    def url(self) -> str:
        """Base URL of the app served on loopback (``http://127.0.0.1:<port>``)."""
        if self._url is None:
            self._url = self._stack.enter_context(_testing().serve_in_thread(self.app))
        return self._url


THROTTLED_DEFAULTS: dict[str, Any] = {"rate": 20.0, "burst": 5.0, "retry_after": 1}


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., RunningEmulator]]:
    """``emulator_factory(**create_app_options)`` -> :class:`RunningEmulator`, closed after."""
    with contextlib.ExitStack() as stack:

        def make(**options: Any) -> RunningEmulator:
            app = _testing().create_app(**options)
            stack.callback(app.state.emulator.close)
            return RunningEmulator(app, stack)

        yield make


@pytest.fixture
def emulator_app(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh emulator ASGI app (temporary data directory, removed afterwards)."""
    app = _testing().create_app(**_marker_options(request))
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
    with _testing().serve_in_thread(emulator_app) as url:
        yield url


@pytest.fixture
def throttled_emulator(
    request: pytest.FixtureRequest, emulator_factory: Callable[..., RunningEmulator]
) -> RunningEmulator:
    """An emulator behind a token bucket (:data:`THROTTLED_DEFAULTS`; marker options win)."""
    options = _marker_options(request)
    if "rate_limit" not in options:
        options["rate_limit"] = _testing().RateLimit(**THROTTLED_DEFAULTS)
    return emulator_factory(**options)
