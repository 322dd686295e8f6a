"""Async-first Python SDK for the Intralinks API."""

from intralinks_async._client import DEFAULT_BASE_URL, IntralinksClient
from intralinks_async._retry import RetryPolicy
from intralinks_async._version import __version__
from intralinks_async.auth import FileTokenStore, MemoryTokenStore, OAuth2Auth, TokenSet

__all__ = [
    "DEFAULT_BASE_URL",
    "FileTokenStore",
    "IntralinksClient",
    "MemoryTokenStore",
    "OAuth2Auth",
    "RetryPolicy",
    "TokenSet",
    "__version__",
]
