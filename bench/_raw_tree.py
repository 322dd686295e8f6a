"""Raw baselines for ``tree_bench.py``: what a careful script would do with aiohttp alone.

* :func:`raw_upload`: token, the folders level by level, then one multipart POST per file
  through ``concurrency`` workers (each file read whole, in the worker, on the loop).
* :func:`raw_download`: token, listFolders, listDocuments per folder, then per document
  one GET, and in one worker-thread hop a "durable" write: temporary file, write, fsync,
  rename; the SHA-1 is checked against ``fileHash`` before anything is written.

No retries, no journal, no name mapping, no progress: the floor the SDK is measured against.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp

__all__ = ["raw_download", "raw_upload"]


async def _token(session: aiohttp.ClientSession, url: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo-secret"}
    async with session.post(f"{url}/oauth/token", data=form) as r:
        r.raise_for_status()
        body = await r.json()
    return {"Authorization": f"Bearer {body['access_token']}"}


async def _pool(items: Iterable[Any], worker: Callable[[Any], Awaitable[None]], n: int) -> None:
    it = iter(items)

    async def run() -> None:
        for item in it:
            await worker(item)

    await asyncio.gather(*(run() for _ in range(n)))


async def raw_upload(url: str, ws: str, root: Path, concurrency: int) -> int:
    """Upload every file under ``root`` into a new top-level folder; returns files sent."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        auth = await _token(session, url)
        folders_url = f"{url}/workspaces/{ws}/folders"
        dirs: dict[str, list[Path]] = {}
        for dirpath, _subdirs, files in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            dirs[rel] = [Path(dirpath) / f for f in files]
        ids: dict[str, str] = {}

        async def mkdir(rel: str) -> None:
            parent = os.path.dirname(rel) if rel != "." else None
            body: dict[str, str] = {"name": root.name if rel == "." else os.path.basename(rel)}
            if parent is not None:
                body["parentId"] = ids[parent or "."]
            async with session.post(folders_url, json=body, headers=auth) as r:
                r.raise_for_status()
                ids[rel] = (await r.json())["id"]

        by_depth: dict[int, list[str]] = {}
        for rel in dirs:
            by_depth.setdefault(0 if rel == "." else rel.count(os.sep) + 1, []).append(rel)
        for depth in sorted(by_depth):
            await _pool(by_depth[depth], mkdir, concurrency)
        docs_url = f"{url}/workspaces/{ws}/documents"
        sent = 0

        async def send(item: tuple[str, Path]) -> None:
            nonlocal sent
            rel, path = item
            with open(path, "rb") as fh:
                data = fh.read()
            form = aiohttp.FormData()
            form.add_field("folderId", ids[rel])
            form.add_field("name", path.name)
            form.add_field("file", data, filename=path.name)
            async with session.post(docs_url, data=form, headers=auth) as r:
                r.raise_for_status()
                await r.read()
            sent += 1

        work = [(rel, p) for rel, paths in dirs.items() for p in paths]
        await _pool(work, send, concurrency)
    return sent


def _durable_write(dest: Path, data: bytes) -> None:
    temp = dest.with_name(f".{dest.name}.tmp-{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, dest)


async def raw_download(url: str, ws: str, dest: Path, concurrency: int) -> int:
    """Mirror every document of the workspace under ``dest``; returns files written."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        auth = await _token(session, url)
        async with session.get(f"{url}/workspaces/{ws}/folders", headers=auth) as r:
            folders = (await r.json())["folder"]
        by_id = {f["id"]: f for f in folders}

        def local_dir(fid: str) -> Path:
            parts: list[str] = []
            while fid in by_id:
                parts.append(by_id[fid]["name"])
                fid = by_id[fid].get("parentId") or ""
            return dest.joinpath(*reversed(parts))

        for fid in by_id:
            local_dir(fid).mkdir(parents=True, exist_ok=True)
        docs: list[tuple[dict[str, Any], Path]] = []

        async def listing(fid: str) -> None:
            params = {"folderId": fid}
            async with session.get(
                f"{url}/workspaces/{ws}/documents", params=params, headers=auth
            ) as r:
                r.raise_for_status()
                docs.extend((d, local_dir(fid)) for d in (await r.json())["document"])

        await _pool(list(by_id), listing, concurrency)
        written = 0

        async def fetch(item: tuple[dict[str, Any], Path]) -> None:
            nonlocal written
            doc, where = item
            async with session.get(
                f"{url}/workspaces/{ws}/documents/{doc['id']}/download", headers=auth
            ) as r:
                r.raise_for_status()
                data = await r.read()
            digest = base64.b64encode(hashlib.sha1(data).digest()).decode()
            if doc.get("fileHash") not in (None, digest):
                raise RuntimeError(f"hash mismatch for {doc['name']}")
            await asyncio.to_thread(_durable_write, where / doc["name"], data)
            written += 1

        await _pool(docs, fetch, concurrency)
    return written
