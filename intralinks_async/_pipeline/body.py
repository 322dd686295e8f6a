"""Request bodies: encoding, and whether a body can be sent again.

``content`` may be ``bytes`` (replayable), a one-shot ``AsyncIterable[bytes]`` (sent at
most once: it cannot be re-read), or a zero-argument callable returning a fresh
``AsyncIterable[bytes]`` (a *body factory*: called once per attempt, so the body can be
re-sent like bytes).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import Any, Final, TypeAlias
from urllib.parse import urlencode

import httpx

__all__ = ["NO_BODY", "Body", "BodyFactory", "Content", "IterableStream", "encode_body"]

BodyFactory: TypeAlias = Callable[[], AsyncIterable[bytes]]
Content: TypeAlias = bytes | AsyncIterable[bytes] | BodyFactory

_FORM_TYPE: Final = "application/x-www-form-urlencoded"
_JSON_TYPE: Final = "application/json"


class IterableStream(httpx.AsyncByteStream):
    """A one-shot async-iterable request body that records whether sending began."""

    def __init__(self, source: AsyncIterable[bytes]) -> None:
        self._source = source
        self.started = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.started:
            raise httpx.StreamConsumed()
        self.started = True
        async for chunk in self._source:
            yield chunk


class Body:
    """An encoded request body: bytes, a one-shot stream, or a factory of streams."""

    __slots__ = ("content", "content_type", "factory", "stream")

    def __init__(
        self,
        content: bytes | None = None,
        content_type: str | None = None,
        stream: IterableStream | None = None,
        factory: BodyFactory | None = None,
    ) -> None:
        self.content = content
        self.content_type = content_type
        self.stream = stream
        self.factory = factory

    @property
    def streamed(self) -> bool:
        """Whether the body is sent as a stream (not bytes)."""
        return self.stream is not None or self.factory is not None

    @property
    def replayable(self) -> bool:
        """Whether the body can be sent (again) on the next attempt."""
        return self.stream is None or not self.stream.started

    def next_stream(self) -> IterableStream | None:
        """The stream to send on this attempt (a fresh one from the factory, if any)."""
        if self.factory is not None:
            return IterableStream(self.factory())
        return self.stream


NO_BODY: Final = Body()


def encode_body(json: Any, data: Mapping[str, Any] | None, content: Content | None) -> Body:
    """Encode exactly one of ``json`` / ``data`` (a form) / ``content``."""
    if json is not None:
        encoded = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return Body(encoded.encode("utf-8"), _JSON_TYPE)
    if data is not None:
        return Body(urlencode(dict(data)).encode("ascii"), _FORM_TYPE)
    if content is None:
        return NO_BODY
    if isinstance(content, bytes | bytearray | memoryview):
        return Body(bytes(content))
    if callable(content):  # a factory (checked first: a factory may also be iterable)
        return Body(factory=content)
    if isinstance(content, AsyncIterable):
        return Body(stream=IterableStream(content))
    raise TypeError(f"unsupported request content type {type(content).__name__}")
