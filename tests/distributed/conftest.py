"""Fixtures for distributed tests: one real 2-process LocalCluster and a loopback emulator.

The cluster is shared by the module's tests (workers are processes: starting them is the
slow part); a test that kills a worker waits for the nanny to bring it back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

from dask_helpers import CLIENT_ID, SECRET, served  # noqa: E402


@pytest.fixture(scope="session")
def cluster() -> Iterator[Any]:
    """A LocalCluster of 2 single-threaded worker processes."""
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=":0",
        silence_logs=logging.WARNING,
    ) as local:
        yield local


@pytest.fixture(scope="session")
def dask_client(cluster: Any) -> Iterator[Any]:
    """A synchronous client on the cluster (for inspection from tests)."""
    with distributed.Client(cluster) as client:
        yield client


@pytest.fixture
def two_workers(dask_client: Any) -> Any:
    """The cluster, once it has both workers again (after a kill in an earlier test)."""
    dask_client.wait_for_workers(2, timeout=60)
    return dask_client


@pytest.fixture
def emulator_server() -> Iterator[tuple[Any, str]]:
    """``(app, base_url)`` of an emulator on loopback that knows :data:`SECRET`."""
    with served(clients={"demo": "demo-secret", CLIENT_ID: SECRET}) as pair:
        yield pair
