"""An aiohttp-backed ``httpx.AsyncBaseTransport``: the default transport under asyncio.

httpx's own connection pool loses most of its throughput as concurrency rises (see
``bench/transport_bench.py``); aiohttp's pool does not. This transport
speaks the httpx transport API (``httpx.Request`` in, streaming ``httpx.Response`` out)
over one ``aiohttp.ClientSession`` and maps aiohttp failures onto httpx exceptions, so
the rest of the SDK (auth, retries, error mapping) stays transport-agnostic.

aiohttp is asyncio-only; under trio :func:`default_transport` returns
``httpx.AsyncHTTPTransport`` instead.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from yarl import URL as YarlURL

from intralinks_async._response import ERROR_BODY_LIMIT, read_limited, response_limit
from intralinks_async.errors import ResponseTooLargeError

__all__ = ["AiohttpTransport", "default_transport", "running_under_asyncio"]

_CHUNK_SIZE = 64 * 1024
# Bodies announced at most this large are read in one call (fewer awaits per response).
_SMALL_BODY = 256 * 1024
# Streamed compressed bodies are handed over in chunks this small: httpx decodes each
# chunk whole, so this bounds the memory one decoded chunk can take.
_ENCODED_CHUNK_SIZE = 16 * 1024
_HTTP_11 = b"HTTP/1.1"
# Headers aiohttp computes itself from the body it is given.
_SKIP_REQUEST_HEADERS = frozenset({b"transfer-encoding"})


def running_under_asyncio() -> bool:
    """True when the current task runs on an asyncio event loop (not trio)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def default_transport(
    *,
    max_connections: int = 100,
    verify: bool | ssl.SSLContext = True,
    keepalive_expiry: float = 15.0,
) -> httpx.AsyncBaseTransport:
    """The transport used when none is injected: aiohttp under asyncio, httpx otherwise."""
    if running_under_asyncio():
        return AiohttpTransport(
            max_connections=max_connections, verify=verify, keepalive_expiry=keepalive_expiry
        )
    return httpx.AsyncHTTPTransport(
        verify=verify,
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=keepalive_expiry,
        ),
    )


def _map_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """Translate an aiohttp/asyncio failure into the matching httpx exception."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError | TimeoutError):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, aiohttp.ClientResponseError):
        # Malformed response line/headers.
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.ReadError(message, request=request)


_MAPPED = (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, OSError)


class _ResponseStream(httpx.AsyncByteStream):
    """The body of an aiohttp response as an httpx byte stream (never buffered whole)."""

    __slots__ = ("_request", "_response")

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        response = self._response
        try:
            if "Content-Encoding" in response.headers:
                async for chunk in response.content.iter_chunked(_ENCODED_CHUNK_SIZE):
                    yield chunk
                return
            length = response.content_length
            if length is not None and length <= _SMALL_BODY:
                body = await response.read()
                if body:
                    yield body
                return
            async for chunk in response.content.iter_chunked(_CHUNK_SIZE):
                yield chunk
        except _MAPPED as exc:
            raise _map_error(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx transport over one ``aiohttp.ClientSession`` (asyncio only).

    ``max_connections`` bounds the pool; requests beyond it wait for a free connection
    (bounded by the request's ``pool`` timeout). TLS verification follows ``verify``.
    Response bodies are streamed; the caller's ``httpx.Response`` reads or iterates them.
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        verify: bool | ssl.SSLContext = True,
        keepalive_expiry: float = 15.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        self._max_connections = max_connections
        self._ssl: bool | ssl.SSLContext = verify
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._urls: dict[Any, YarlURL] = {}
        # Decoded request headers by raw headers (the same few sets recur: default
        # headers plus the current bearer token). aiohttp copies them, never mutates.
        self._header_cache: dict[tuple[tuple[bytes, bytes], ...], list[tuple[str, str]]] = {}
        self._pair_cache: dict[tuple[bytes, bytes], tuple[str, str]] = {}

    def __repr__(self) -> str:
        return f"AiohttpTransport(max_connections={self._max_connections})"

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("transport is closed")
        self._loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_expiry,
            ssl=self._ssl,
            ttl_dns_cache=300,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,  # httpx.Response decodes Content-Encoding itself
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        spec = request.extensions.get("timeout")
        if not spec:
            key: tuple[Any, ...] = (None, None, None)
        else:
            key = (spec.get("connect"), spec.get("read"), spec.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            acquire = None if connect is None or pool is None else connect + pool
            timeout = aiohttp.ClientTimeout(
                total=None, connect=acquire, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) < 64:
                self._timeouts[key] = timeout
        return timeout

    def _url(self, request: httpx.Request) -> YarlURL:
        key = request.url._uri_reference  # a hashable tuple: cheaper than str(url)
        url = self._urls.get(key)
        if url is None:
            url = YarlURL(str(request.url), encoded=True)
            if len(self._urls) >= 4096:
                self._urls.clear()
            self._urls[key] = url
        return url

    def _headers(self, request: httpx.Request) -> list[tuple[str, str]]:
        raw = tuple(request.headers.raw)
        headers = self._header_cache.get(raw)
        if headers is None:
            # A new set (an upload's fresh multipart boundary): most of its headers were
            # decoded before.
            pairs = self._pair_cache
            headers = []
            for pair in raw:
                decoded = pairs.get(pair)
                if decoded is None:
                    if pair[0].lower() in _SKIP_REQUEST_HEADERS:
                        continue
                    if len(pairs) >= 1024:
                        pairs.clear()
                    decoded = pairs[pair] = (pair[0].decode("latin-1"), pair[1].decode("latin-1"))
                headers.append(decoded)
            if len(self._header_cache) >= 256:
                self._header_cache.clear()
            self._header_cache[raw] = headers
        return headers

    async def _start(self, request: httpx.Request) -> aiohttp.ClientResponse:
        session = self._session or self._open()
        if asyncio.get_running_loop() is not self._loop:
            raise RuntimeError(
                "this client's connection pool belongs to another event loop; "
                "create (and close) one IntralinksClient per event loop"
            )
        stream = request.stream
        spec = request.extensions.get("timeout")
        write = spec.get("write") if spec else None
        # An exception raised by the caller's body source reaches aiohttp as a failed
        # write; the caller's own exception is re-raised, not a (retryable) connection error.
        failures: list[Exception] = []
        if isinstance(stream, httpx.ByteStream):
            body = b"".join(stream)
            if write is None or len(body) <= _SMALL_BODY:
                # Small bodies fit in the socket buffers: they cannot stall a write.
                return await self._send_request(session, request, body or None)
            source: AsyncIterator[bytes] = _slices(body)
        else:
            source = _iterate(stream, failures)  # type: ignore[arg-type]
            if write is None:
                try:
                    return await self._send_request(session, request, source)
                except httpx.TransportError:
                    if failures:
                        raise failures[0] from None
                    raise
        # aiohttp has no write timeout: a peer that stops reading the body would hang the
        # upload forever. Watch progress instead: each chunk handed to aiohttp (which
        # pulls the next one only once the previous one is written) re-arms the timer.
        loop = asyncio.get_running_loop()
        guard = asyncio.timeout(loop.time() + write)
        try:
            async with guard:
                return await self._send_request(
                    session, request, _watched(source, guard, write, loop)
                )
        except TimeoutError:
            if guard.expired():
                raise httpx.WriteTimeout(
                    f"request body made no progress for {write:g}s", request=request
                ) from None
            raise
        except httpx.TransportError:
            if failures:
                raise failures[0] from None
            raise

    async def _send_request(
        self, session: aiohttp.ClientSession, request: httpx.Request, data: Any
    ) -> aiohttp.ClientResponse:
        try:
            return await session.request(
                request.method,
                self._url(request),
                headers=self._headers(request),
                data=data,
                allow_redirects=False,
                timeout=self._timeout(request),
            )
        except _MAPPED as exc:
            raise _map_error(exc, request) from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return a response whose body has not been read yet."""
        response = await self._start(request)
        return httpx.Response(
            response.status,
            headers=_headers_from_raw(response.raw_headers),
            stream=_ResponseStream(response, request),
            extensions={"http_version": _HTTP_11, "reason_phrase": _reason(response)},
        )

    async def send_buffered(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` and return the response with its body already read.

        The fast path for non-streaming calls: a body of announced length is read by
        aiohttp in one call; a compressed or unannounced one is read and decoded
        incrementally. Either way the decoded body never exceeds the request's size limit
        (``_response.MAX_RESPONSE_BYTES_EXTENSION``): a larger 2xx body raises
        :class:`~intralinks_async.errors.ResponseTooLargeError`, a non-2xx body is cut.
        """
        response = await self._start(request)
        try:
            body = await self._read_body(response, request)
        except _MAPPED as exc:
            response.release()
            raise _map_error(exc, request) from exc
        except BaseException:
            response.close()  # the rest of the body is not wanted: drop the connection
            raise
        result = httpx.Response(
            response.status,
            headers=_headers_from_raw(response.raw_headers),
            stream=httpx.ByteStream(body),
            extensions={"http_version": _HTTP_11, "reason_phrase": _reason(response)},
            request=request,
        )
        result._content = body  # decoded already: httpx must not decode again
        return result

    @staticmethod
    async def _read_body(response: aiohttp.ClientResponse, request: httpx.Request) -> bytes:
        limit, operation = response_limit(request)
        status = response.status
        success = 200 <= status < 300
        length = response.content_length
        encoding = response.headers.get("Content-Encoding")
        if encoding is None and length is not None:
            if length <= (limit if success else min(limit, ERROR_BODY_LIMIT)):
                return await response.read()  # the common case: one read, no decoding
            if success:
                raise ResponseTooLargeError(limit=limit, operation=operation, status_code=status)
        body, complete = await read_limited(
            response.content.iter_chunked(_CHUNK_SIZE),
            status_code=status,
            content_encoding=encoding,
            limit=limit,
            operation=operation,
        )
        if not complete:
            response.close()  # an error body cut short: its connection cannot be reused
        return body

    async def aclose(self) -> None:
        """Close the pool (idempotent)."""
        self._closed = True
        self._header_cache.clear()  # holds bearer tokens
        self._pair_cache.clear()
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _headers_from_raw(raw: tuple[tuple[bytes, bytes], ...]) -> httpx.Headers:
    """``httpx.Headers(raw)`` for aiohttp's raw (bytes, bytes) pairs, built directly.

    httpx normalises each pair to (name, lowercased name, value); for bytes that is all
    it does, so the entries are built here without its per-item type checks.
    """
    headers = httpx.Headers()
    headers._list = [(name, name.lower(), value) for name, value in raw]
    return headers


def _reason(response: aiohttp.ClientResponse) -> bytes:
    return (response.reason or "").encode("latin-1", "replace")


async def _iterate(
    stream: httpx.AsyncByteStream, failures: list[Exception]
) -> AsyncIterator[bytes]:
    try:
        async for chunk in stream:
            yield chunk
    except Exception as exc:
        failures.append(exc)
        raise


async def _slices(body: bytes) -> AsyncIterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(body), _CHUNK_SIZE):
        yield bytes(view[start : start + _CHUNK_SIZE])


async def _watched(
    source: AsyncIterator[bytes],
    guard: asyncio.Timeout,
    write: float,
    loop: asyncio.AbstractEventLoop,
) -> AsyncIterator[bytes]:
    """Yield ``source``, re-arming ``guard`` on each chunk; disarm it once all is sent."""
    async for chunk in source:
        guard.reschedule(loop.time() + write)
        yield chunk
        guard.reschedule(loop.time() + write)
    guard.reschedule(None)  # body sent: waiting for the response is the read timeout's job
