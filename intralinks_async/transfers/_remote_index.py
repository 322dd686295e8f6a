"""Cached views of the remote side used by tree transfers: folders and per-folder documents."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import anyio

from intralinks_async.errors import APIResponseValidationError
from intralinks_async.transfers._api import RemoteAPI, opt_str
from intralinks_async.transfers._failures import outcome_unknown

__all__ = ["DocumentIndex", "FolderIndex"]


class FolderIndex:
    """Remote folders keyed by ``(parent id or None, name)``."""

    def __init__(self, api: RemoteAPI, workspace_id: str) -> None:
        self.api = api
        self.workspace_id = workspace_id
        self.by_key: dict[tuple[str | None, str], str] = {}
        self.folders: list[Any] = []
        self._refreshes_started = 0
        self._refresh_completed = 0  # number of the last refresh that succeeded
        self._refresh_lock = anyio.Lock()

    async def refresh(self) -> None:
        """(Re)load every folder of the workspace."""
        folders = await self.api.list_folders(self.workspace_id)
        self.folders = folders
        by_key: dict[tuple[str | None, str], str] = {}
        for folder in sorted(folders, key=lambda f: opt_str(f.id) or ""):
            fid, name = opt_str(folder.id), opt_str(folder.name)
            if fid is None or name is None:
                continue
            by_key.setdefault((opt_str(folder.parent_id), name), fid)
        self.by_key = by_key

    async def _refresh_since(self, seen: int) -> None:
        """Make sure a listing that *started* after ``seen`` refreshes has completed.

        Creates whose answers were lost together share one listing of the workspace
        (the next one to start after their failure; an earlier one might predate the
        folder), instead of one full listing each.
        """
        async with self._refresh_lock:
            if self._refresh_completed > seen:
                return
            self._refreshes_started += 1
            number = self._refreshes_started
            await self.refresh()
            self._refresh_completed = number

    def require(self, argument: str, folder_id: str) -> None:
        """Raise ValueError naming ``argument`` unless ``folder_id`` is a known folder."""
        if not any(opt_str(f.id) == folder_id for f in self.folders):
            raise ValueError(
                f"{argument} {folder_id!r} is not a folder of workspace {self.workspace_id!r}"
            )

    async def ensure(self, parent_id: str | None, name: str) -> tuple[str, bool]:
        """Return ``(id, created)`` of folder ``name`` under ``parent_id``, creating it once.

        A create whose answer was lost after it was sent (``outcome_unknown``) is
        resolved by re-listing before trying again; every other failure is final (the
        client already retried what could be retried).
        """
        existing = self.by_key.get((parent_id, name))
        if existing is not None:
            return existing, False
        resends = 0
        while True:
            try:
                folder = await self.api.create_folder(self.workspace_id, name, parent_id)
            except Exception as exc:
                if not outcome_unknown(exc) or resends >= 3:
                    raise
                await self._refresh_since(self._refreshes_started)
                existing = self.by_key.get((parent_id, name))
                if existing is not None:
                    return existing, False
                resends += 1
                self.api.own_retries += 1
                continue
            fid = opt_str(folder.id)
            if fid is None:
                raise APIResponseValidationError(
                    f"createFolder answered without a folder id for {name!r}",
                    operation="createFolder",
                )
            self.by_key[(parent_id, name)] = fid
            return fid, True


class DocumentIndex:
    """Documents per folder, listed on first use; at most ``max_folders`` listings kept.

    A tree upload works through its folders one after another, so only the few folders
    with files in flight need their listing; the least recently used ones are dropped
    (and listed again if needed), so that memory does not grow with the data room.
    """

    def __init__(self, api: RemoteAPI, workspace_id: str, *, max_folders: int = 64) -> None:
        self.api = api
        self.workspace_id = workspace_id
        self.max_folders = max(1, max_folders)
        self._by_folder: OrderedDict[str, dict[str, list[Any]]] = OrderedDict()
        self._locks: dict[str, anyio.Lock] = {}
        self._fresh: set[str] = set()

    @property
    def cached_folders(self) -> int:
        """How many folder listings are held."""
        return len(self._by_folder)

    async def same_name(self, folder_id: str, name: str) -> list[Any]:
        """Documents named ``name`` in ``folder_id``."""
        if folder_id in self._fresh:
            return []
        return list((await self._folder(folder_id)).get(name, []))

    def mark_empty(self, folder_id: str) -> None:
        """Record that ``folder_id`` held no document (this run just created it).

        Kept apart from the cached listings (one id per folder), so that it is never
        listed, however many folders the run creates: a run uploads each name of a
        folder once, so its own documents need no lookup.
        """
        self._fresh.add(folder_id)

    def add(self, folder_id: str, doc: Any) -> None:
        """Remember a document just stored."""
        names = self._by_folder.get(folder_id)
        name = opt_str(doc.name)
        if names is not None and name is not None:
            names.setdefault(name, []).append(doc)

    async def _folder(self, folder_id: str) -> dict[str, list[Any]]:
        cached = self._by_folder.get(folder_id)
        if cached is not None:
            self._by_folder.move_to_end(folder_id)
            return cached
        lock = self._locks.setdefault(folder_id, anyio.Lock())
        async with lock:
            cached = self._by_folder.get(folder_id)
            if cached is not None:
                return cached
            docs = await self.api.list_documents(self.workspace_id, folder_id)
            names: dict[str, list[Any]] = {}
            for doc in docs:
                name = opt_str(doc.name)
                if name is not None:
                    names.setdefault(name, []).append(doc)
            self._by_folder[folder_id] = names
            while len(self._by_folder) > self.max_folders:
                self._by_folder.popitem(last=False)
            self._locks.pop(folder_id, None)
            return names
