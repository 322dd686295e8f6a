"""Shared helpers for transfer tests: emulator servers, clients and sample trees."""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async.models import Workspace
from intralinks_async.testing import create_app, serve_in_thread

FAST_RETRY = RetryPolicy(max_retries=5, backoff_base=0.01, backoff_cap=0.05, retry_after_cap=0.1)
NAMES = ["résumé", "データ", "отчёт", "report", "Ünïcödé ✓", "plain", "年度 報告", "a b c"]


@contextmanager
def served(**options: Any) -> Iterator[tuple[Any, str]]:
    """An emulator app (fast Retry-After) served on loopback: ``(app, base_url)``."""
    options.setdefault("retry_after", 0)
    app = create_app(**options)
    try:
        with serve_in_thread(app) as url:
            yield app, url
    finally:
        app.state.emulator.close()


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[IntralinksClient]:
    """A client for the emulator at ``url`` with quick retries (and a short outage
    patience: tests of persistent faults end in seconds)."""
    async with IntralinksClient(
        url, client_id="demo", client_secret="demo-secret", retry=FAST_RETRY, outage_patience=2.0
    ) as client:
        yield client


async def new_workspace(client: IntralinksClient, name: str = "Project Falcon") -> str:
    """Create a workspace and return its id."""
    ws = await client.workspaces.create(body=Workspace(name=name, type="ATC"))
    assert isinstance(ws.id, str)
    return ws.id


def build_tree(root: Path, files: int, *, seed: int = 1, big: int = 3) -> dict[str, str]:
    """Write a nested sample tree; returns ``{relative posix path: sha256}``."""
    rng = random.Random(seed)
    out: dict[str, str] = {}
    dirs = [Path("")]
    for i in range(12):
        parent = rng.choice(dirs)
        dirs.append(parent / f"{NAMES[i % len(NAMES)]} {i}")
    for i in range(files):
        folder = dirs[i % len(dirs)]
        size = (
            rng.randint(300_000, 1_500_000)
            if i < big
            else rng.choice([0, 1, 100, rng.randint(1, 40_000)])
        )
        name = f"{NAMES[i % len(NAMES)]}-{i}.{rng.choice(['pdf', 'txt', 'xlsx', 'bin'])}"
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(size)
        path.write_bytes(data)
        out[(folder / name).as_posix()] = hashlib.sha256(data).hexdigest()
    return out


def tree_hashes(root: Path) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file under ``root``."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def remote_documents(app: Any, workspace_id: str) -> list[dict[str, Any]]:
    """Metadata of every document stored in the emulator's workspace."""
    ws = app.state.emulator.room.workspace(workspace_id)
    return [dict(rec.meta) for rec in ws.documents.values()]


def duplicates(app: Any, workspace_id: str) -> list[tuple[str, str]]:
    """(folderId, name) pairs held by more than one document."""
    counts = Counter((d["folderId"], d["name"]) for d in remote_documents(app, workspace_id))
    return [key for key, n in counts.items() if n > 1]


def remote_folders(app: Any, workspace_id: str) -> list[dict[str, Any]]:
    """Every folder of the emulator's workspace."""
    ws = app.state.emulator.room.workspace(workspace_id)
    return [dict(f) for f in ws.folders.values()]
