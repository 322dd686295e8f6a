"""Fixtures for the client-layer tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from client_helpers import SleepRecorder

from intralinks_async import RetryPolicy
from intralinks_async.testing import create_app


@pytest.fixture
def app() -> Any:
    return create_app()


@pytest.fixture
def emu(app: Any) -> Any:
    return app.state.emulator


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return RetryPolicy(max_retries=3, backoff_base=0.001, backoff_cap=0.002)


@pytest.fixture
def loopback_url(app: Any) -> Iterator[str]:
    from intralinks_async.testing import serve_in_thread

    with serve_in_thread(app) as url:
        yield url
