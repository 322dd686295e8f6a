"""Document downloads streamed from disk, with single-range ``Range``/``If-Range`` support."""

from __future__ import annotations

from typing import BinaryIO
from urllib.parse import quote

import anyio
import anyio.lowlevel
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from ._storage import Blob

CHUNK_SIZE = 256 * 1024


class BlobResponse(Response):
    """Streams ``length`` bytes of an open file from ``start`` in ``CHUNK_SIZE`` chunks."""

    def __init__(
        self, fh: BinaryIO, start: int, length: int, status_code: int, headers: dict[str, str]
    ) -> None:
        headers["content-length"] = str(length)
        super().__init__(None, status_code, headers, "application/octet-stream")
        self._fh = fh
        self._start = start
        self._length = length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send headers, then the byte range, then close the file.

        A client that disconnects stops the stream (servers such as uvicorn silently
        swallow sends after a disconnect, which would otherwise read the whole file).
        """
        error: Exception | None = None
        try:
            async with anyio.create_task_group() as tg:

                async def watch_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    tg.cancel_scope.cancel()

                tg.start_soon(watch_disconnect)
                try:
                    await self._stream(scope, send)
                except Exception as exc:  # re-raised as is below, not as an ExceptionGroup
                    error = exc
                tg.cancel_scope.cancel()
        finally:
            self._fh.close()
        if error is not None:
            raise error

    async def _stream(self, scope: Scope, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        if scope.get("method") == "HEAD" or self._length == 0:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        fh = self._fh
        fh.seek(self._start)
        remaining = self._length
        while remaining > 0:
            chunk = fh.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                raise OSError("blob shorter than its recorded size")
            remaining -= len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": remaining > 0})
            # A send to a gone client may return without suspending: yield so that the
            # disconnect watcher can run and cancel the rest.
            await anyio.lowlevel.checkpoint()


def _number(text: str) -> int | None:
    """A non-negative decimal of ASCII digits (any length), or None."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    # Past 18 digits the exact value cannot matter for any real size: saturate instead
    # of handing int() a string long enough to raise.
    return int(text) if len(text) <= 18 else 10**18


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """Parse one ``bytes=`` range against ``size``.

    Returns ``(start, end_inclusive)``, ``None`` when the header must be ignored (absent,
    malformed, several ranges, other unit), or ``False`` when it is unsatisfiable.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash:
        return None
    first, last = first.strip(), last.strip()
    start, end = _number(first), _number(last)
    if (first and start is None) or (last and end is None):
        return None
    if start is None:
        if end is None:
            return None
        if end == 0 or size == 0:
            return False
        return max(0, size - end), size - 1
    if end is not None and end < start:
        return None
    if start >= size:
        return False
    return start, size - 1 if end is None else min(end, size - 1)


def download_response(
    blob: Blob, name: str, *, range_header: str | None, if_range: str | None, ranges: bool
) -> Response:
    """200 with the whole content, 206 with one range, or 416."""
    fh = open(blob.path, "rb")  # noqa: SIM115 (closed by BlobResponse)
    size = blob.size
    headers = {
        "etag": blob.etag,
        "accept-ranges": "bytes" if ranges else "none",
        "content-disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
    }
    wanted = None
    if ranges and range_header is not None and (if_range is None or if_range.strip() == blob.etag):
        wanted = parse_range(range_header, size)
    if wanted is False:
        fh.close()
        body = {
            "ErrorCode": "RANGE_NOT_SATISFIABLE",
            "Error": f"requested range is outside the document ({size} bytes)",
            "Hint": "ask for a range within the document size",
        }
        headers["content-range"] = f"bytes */{size}"
        del headers["content-disposition"]
        return JSONResponse(body, status_code=416, headers=headers)
    if isinstance(wanted, tuple):
        start, end = wanted
        headers["content-range"] = f"bytes {start}-{end}/{size}"
        return BlobResponse(fh, start, end - start + 1, 206, headers)
    return BlobResponse(fh, 0, size, 200, headers)
