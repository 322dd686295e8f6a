"""Stage: the DEBUG lines of the request pipeline (secrets redacted).

Called only when ``logger.isEnabledFor(DEBUG)``: a disabled logger costs one check per call.
"""

from __future__ import annotations

import httpx

from intralinks_async._logging import logger, redact_headers, redact_url

__all__ = ["log_request", "log_response", "log_retry"]


def log_request(request: httpx.Request, operation: str, attempt: int) -> None:
    """One line per attempt sent."""
    logger.debug(
        "request %s %s (operation %s, attempt %d) headers=%s",
        request.method,
        redact_url(request.url),
        operation,
        attempt,
        redact_headers(request.headers.items()),
    )


def log_response(
    response: httpx.Response, request: httpx.Request, operation: str, attempt: int
) -> None:
    """One line per answer received."""
    logger.debug(
        "response %d for %s %s (operation %s, attempt %d) headers=%s",
        response.status_code,
        request.method,
        redact_url(request.url),
        operation,
        attempt,
        redact_headers(response.headers.items()),
    )


def log_retry(request: httpx.Request, operation: str, delay: float, why: str, attempt: int) -> None:
    """One line per retry decided."""
    logger.debug(
        "retrying %s %s (operation %s) in %.2fs after %s (attempt %d)",
        request.method,
        redact_url(request.url),
        operation,
        delay,
        why,
        attempt,
    )
