"""The few API calls transfers need, made through a retry-counting sender.

Transfers call the generated operations (never raw URLs) through :class:`CountingSender`,
a thin wrapper over the client's ``RequestSender`` that adds up how many extra attempts
the client's retry policy made (``response.extensions["intralinks_attempts"]``), so that
reports can show the retries that happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import httpx

from intralinks_async._generated.api import Resources
from intralinks_async._generated.api.documents import download_document
from intralinks_async._generated.models import Document, Folder, UploadDocumentBody
from intralinks_async._generated.types import File, Response

__all__ = [
    "SMALL_BODY_LIMIT",
    "CountingSender",
    "RemoteAPI",
    "doc_hash",
    "doc_size",
    "opt_str",
]

#: Documents up to this size are read whole (one request, one buffer); larger ones stream.
SMALL_BODY_LIMIT = 1024 * 1024
#: Ranges, sizes and hashes refer to the stored bytes, which a compressed
#: representation would not match.
_IDENTITY = {"Accept-Encoding": "identity"}
# Built once (with the Accept the operation would add): copied per request, not rebuilt.
_WHOLE_READ_HEADERS = httpx.Headers({**_IDENTITY, "Accept": download_document.ACCEPT})


class _Sender(Protocol):
    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response: ...

    def stream(
        self, method: str, path: str, **kwargs: Any
    ) -> AbstractAsyncContextManager[httpx.Response]: ...


def opt_str(value: object) -> str | None:
    """``value`` if it is a string (generated models use an ``UNSET`` sentinel), else None."""
    return value if isinstance(value, str) else None


def doc_size(doc: Document) -> int | None:
    """The document's ``fileSize``, if the server gave one."""
    value = doc.file_size
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def doc_hash(doc: Document) -> str | None:
    """The document's ``fileHash`` (base64 SHA-1), if the server gave one."""
    props: Mapping[str, Any] = getattr(doc, "additional_properties", {}) or {}
    value = props.get("fileHash")
    return value if isinstance(value, str) and value else None


def _extra_attempts(response: httpx.Response) -> int:
    attempts = response.extensions.get("intralinks_attempts", 1)
    return attempts - 1 if isinstance(attempts, int) and attempts > 1 else 0


class CountingSender:
    """A ``RequestSender`` that forwards to ``inner`` and counts retried attempts."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.retries = 0

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Forward a request; count its extra attempts."""
        try:
            response: httpx.Response = await self._inner.request(method, path, **kwargs)
        except Exception as exc:
            self.retries += max(0, int(getattr(exc, "attempts", 1) or 1) - 1)
            raise
        self.retries += _extra_attempts(response)
        return response

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """Forward a streamed request; count its extra attempts."""
        try:
            async with self._inner.stream(method, path, **kwargs) as response:
                self.retries += _extra_attempts(response)
                yield response
        except Exception as exc:
            self.retries += max(0, int(getattr(exc, "attempts", 1) or 1) - 1)
            raise


class RemoteAPI:
    """The operations transfers use, bound to one client and one retry counter."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sender = CountingSender(client)
        self._resources = Resources(self.sender)
        #: Retries made by the transfer logic itself (re-requested ranges, re-sent uploads).
        self.own_retries = 0
        self._small: CountingSender | None = None

    @property
    def retries(self) -> int:
        """Every retry so far: the client's and the transfer's own."""
        small = self._small.retries if self._small is not None else 0
        return self.sender.retries + small + self.own_retries

    def _small_sender(self) -> CountingSender:
        """A sender whose responses may hold at most ``SMALL_BODY_LIMIT`` bytes."""
        if self._small is None:
            with_options = getattr(self.client, "with_options", None)
            view = (
                self.client
                if with_options is None
                else with_options(max_response_bytes=SMALL_BODY_LIMIT)
            )
            self._small = CountingSender(view)
        return self._small

    async def get_document(self, workspace_id: str, document_id: str) -> Document:
        """getDocument."""
        doc: Document = await self._resources.documents.get(workspace_id, document_id)
        return doc

    async def list_documents(self, workspace_id: str, folder_id: str) -> list[Document]:
        """listDocuments filtered by folder."""
        docs: list[Document] = await self._resources.documents.list(
            workspace_id, folder_id=folder_id
        )
        return list(docs)

    async def list_folders(self, workspace_id: str) -> list[Folder]:
        """listFolders (every folder of the workspace)."""
        folders: list[Folder] = await self._resources.folders.list(workspace_id)
        return list(folders)

    async def delete_document(self, workspace_id: str, document_id: str) -> None:
        """deleteDocument."""
        await self._resources.documents.delete(workspace_id, document_id)

    async def create_folder(self, workspace_id: str, name: str, parent_id: str | None) -> Folder:
        """createFolder."""
        body = Folder(name=name) if parent_id is None else Folder(name=name, parent_id=parent_id)
        folder: Folder = await self._resources.folders.create(workspace_id, body=body)
        return folder

    async def upload(
        self,
        workspace_id: str,
        folder_id: str,
        *,
        name: str,
        note: str | None,
        payload: bytes | AsyncIterable[bytes] | Callable[[], AsyncIterable[bytes]],
        size: int | None,
    ) -> Document:
        """uploadDocument; ``payload`` bytes or a body factory (a zero-argument callable
        returning a fresh async iterator) can be re-sent by the client after a 429/503."""
        file = File(payload=payload, file_name=name, size=size)
        kwargs: dict[str, Any] = {"file": file, "folder_id": folder_id, "name": name}
        if note is not None:
            kwargs["note"] = note
        doc: Document = await self._resources.documents.upload(
            workspace_id, body=UploadDocumentBody(**kwargs)
        )
        return doc

    async def read_small(
        self, workspace_id: str, document_id: str, headers: Mapping[str, str]
    ) -> Response[bytes]:
        """downloadDocument read whole, for a document known to be at most
        ``SMALL_BODY_LIMIT`` bytes (a larger body raises ``ResponseTooLargeError``)."""
        return await download_document.read_detailed(
            client=self._small_sender(),
            workspace_id=workspace_id,
            document_id=document_id,
            headers={**_IDENTITY, **headers} if headers else _WHOLE_READ_HEADERS,
        )

    def download(
        self, workspace_id: str, document_id: str, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[Any]:
        """downloadDocument, streamed (``DownloadStream`` with status, headers, aiter_bytes).

        Asks for the identity encoding: ranges, sizes and hashes refer to the stored bytes,
        which a compressed representation would not match.
        """
        cm: AbstractAsyncContextManager[Any] = download_document.stream_detailed(
            client=self.sender,
            workspace_id=workspace_id,
            document_id=document_id,
            headers={**_IDENTITY, **headers},
        )
        return cm
