"""How transfers classify the failures the client hands back (the client owns retries).

The client's pipeline retries what can be retried (429/503 answers, connect failures,
idempotent requests). What reaches a transfer is final for that request, except two
cases that only a transfer can resolve:

* an upload whose connection broke after its body was sent (``outcome_unknown``): the
  document may have been stored, so the folder is checked before anything is re-sent;
* a download whose body broke mid-stream: the rest is requested again from where it
  stopped (resumption, not a status retry).

Some failures end a whole tree transfer (:func:`is_fatal`): the credentials were
refused, the service stayed down past the client's patience, or the journal or the
manifest broke.
"""

from __future__ import annotations

import httpx

from intralinks_async.errors import (
    APIConnectionError,
    AuthenticationError,
    ServiceUnavailableError,
)
from intralinks_async.transfers.errors import JournalError, TransferError
from intralinks_async.transfers.manifest import ManifestError

__all__ = ["MAX_RESUMES", "ShortReadError", "body_broke", "is_fatal", "outcome_unknown"]

#: Re-requests of the rest of one download range after its body broke mid-stream.
MAX_RESUMES = 5


class ShortReadError(TransferError):
    """A response ended before the requested bytes were complete."""


def outcome_unknown(exc: BaseException) -> bool:
    """True when a sent request may or may not have taken effect (its answer was lost)."""
    return isinstance(exc, APIConnectionError) and exc.outcome_unknown


def body_broke(exc: BaseException) -> bool:
    """True for a failure while reading a response body (resumable with a range request)."""
    return isinstance(exc, httpx.TransportError | APIConnectionError | ShortReadError)


def is_fatal(exc: BaseException) -> bool:
    """Failures after which no other item of a tree transfer can succeed."""
    return isinstance(
        exc, AuthenticationError | ServiceUnavailableError | JournalError | ManifestError
    )
