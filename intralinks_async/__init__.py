"""Async-first Python SDK for the Intralinks API."""

from intralinks_async._client import DEFAULT_BASE_URL, IntralinksClient
from intralinks_async._pipeline import AttemptRecord, RateSnapshot
from intralinks_async._retry import RetryPolicy
from intralinks_async._version import __version__
from intralinks_async.auth import FileTokenStore, MemoryTokenStore, OAuth2Auth, TokenSet

__all__ = [
    "DEFAULT_BASE_URL",
    "AttemptRecord",
    "FileTokenStore",
    "IntralinksClient",
    "MemoryTokenStore",
    "OAuth2Auth",
    "RateSnapshot",
    "RetryPolicy",
    "TokenSet",
    "__version__",
]
