"""Streamed binary responses of the generated download operations (never read whole)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from intralinks_async._core.sender import RequestSender
from intralinks_async._core.types import DownloadStream
from intralinks_async.errors import araise_for_status

__all__ = ["download_chunks", "open_download"]


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
