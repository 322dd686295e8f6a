"""Binary responses of the generated download operations: streamed, or read whole when small.

``open_download`` streams the body (never held whole). ``read_download`` reads it in one
piece for a caller that knows the document is small; the sender's response-size limit
(``max_response_bytes``) bounds what it may hold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from intralinks_async._core.sender import RequestSender
from intralinks_async._core.types import DownloadStream, Response
from intralinks_async.errors import araise_for_status, raise_for_status

__all__ = ["download_chunks", "open_download", "read_download"]


@asynccontextmanager
async def open_download(
    sender: RequestSender,
    method: str,
    path: str,
    *,
    operation: str,
    params: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
    authenticated: bool,
) -> AsyncIterator[DownloadStream]:
    """Send the request; a non-2xx raises the typed error, else yield the unread stream."""
    async with sender.stream(
        method,
        path,
        operation=operation,
        params=params,
        headers=headers or None,
        authenticated=authenticated,
    ) as response:
        await araise_for_status(response, operation=operation)
        yield DownloadStream(response)


@asynccontextmanager
async def download_chunks(
    stream: AbstractAsyncContextManager[DownloadStream],
) -> AsyncIterator[AsyncIterator[bytes]]:
    """Enter ``stream`` and yield its body as an async iterator of bytes chunks."""
    async with stream as download:
        yield download.aiter_bytes()


async def read_download(
    sender: RequestSender,
    method: str,
    path: str,
    *,
    operation: str,
    params: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
    authenticated: bool,
) -> Response[bytes]:
    """Send the request and read the body whole; a non-2xx raises the typed error.

    For bodies known to be small: the sender's size limit (``max_response_bytes``)
    applies, a larger 2xx body raises
    :class:`~intralinks_async.errors.ResponseTooLargeError`.
    """
    response = await sender.request(
        method,
        path,
        operation=operation,
        params=params,
        headers=headers or None,
        authenticated=authenticated,
    )
    raise_for_status(response, operation=operation)
    content = response.content
    return Response(response.status_code, content, response.headers, content)
