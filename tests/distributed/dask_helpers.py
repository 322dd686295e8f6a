"""Helpers shared by the distributed tests (credentials, and the transfer tests' helpers)."""

from __future__ import annotations

from typing import Any

from intralinks_async import IntralinksClient
from tests.transfers.conftest import (
    FAST_RETRY,
    build_tree,
    connect,
    duplicates,
    new_workspace,
    remote_documents,
    served,
    tree_hashes,
)

__all__ = [
    "CLIENT_ID",
    "FAST_RETRY",
    "SECRET",
    "build_tree",
    "connect",
    "connect_as",
    "creds",
    "duplicates",
    "new_workspace",
    "remote_documents",
    "served",
    "tree_hashes",
]

#: A secret no log, key or report may contain.
SECRET = "s3cr3t-Pa55-do-not-leak-7f1e"
CLIENT_ID = "dask-tester"


def creds(url: str) -> dict[str, Any]:
    """Keyword arguments for the distributed calls."""
    return {
        "base_url": url,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "client_options": {"retry": FAST_RETRY},
    }


def connect_as(url: str) -> IntralinksClient:
    """A client with the test's own credentials."""
    return IntralinksClient(url, client_id=CLIENT_ID, client_secret=SECRET, retry=FAST_RETRY)
