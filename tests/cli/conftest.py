"""Helpers for the command-line tests: an emulator on loopback, the CLI in or out of process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from intralinks_async import IntralinksClient
from intralinks_async.testing import create_app, serve_in_thread

#: Extras' modules made unimportable (``sys.modules[name] = None``) by :func:`without`.
EMULATOR_MODULES = ("starlette", "uvicorn", "multipart", "python_multipart", "httptools")
CLI_MODULES = ("rich",)


@contextmanager
def served(**options: Any) -> Iterator[tuple[Any, str]]:
    """An emulator app served on loopback in a thread: ``(app, base_url)``."""
    options.setdefault("retry_after", 0)
    app = create_app(**options)
    try:
        with serve_in_thread(app) as url:
            yield app, url
    finally:
        app.state.emulator.close()


def credentials_env(url: str) -> dict[str, str]:
    """The environment variables pointing the CLI at the emulator at ``url``."""
    return {
        "INTRALINKS_BASE_URL": url,
        "INTRALINKS_CLIENT_ID": "demo",
        "INTRALINKS_CLIENT_SECRET": "demo-secret",
    }


@pytest.fixture
def emulator_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """A served emulator, with the CLI's credential variables set for it."""
    with served() as (app, url):
        for key, value in credentials_env(url).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("INTRALINKS_ACCESS_TOKEN", raising=False)
        yield app, url


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    blocked: tuple[str, ...] = (),
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python -m intralinks_async ARGS`` in a child process (``blocked`` modules unimportable)."""
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from intralinks_async._cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
    )


def write_tree(root: Path, files: Mapping[str, bytes]) -> dict[str, str]:
    """Write ``{relative path: bytes}`` under ``root``; returns ``{path: sha256}``."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def tree_hashes(root: Path) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file under ``root``."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def remote_documents(url: str, workspace_id: str) -> list[tuple[str, str]]:
    """``(folder id, document name)`` of every document in the workspace, through the SDK."""

    async def fetch() -> list[tuple[str, str]]:
        async with IntralinksClient(url, client_id="demo", client_secret="demo-secret") as client:
            out: list[tuple[str, str]] = []
            for folder in await client.folders.list(workspace_id):
                assert isinstance(folder.id, str)
                docs = await client.documents.list(workspace_id, folder_id=folder.id)
                out += [(folder.id, str(d.name)) for d in docs]
            return out

    return anyio.run(fetch)


def remote_folders(url: str, workspace_id: str) -> dict[str, tuple[str | None, str]]:
    """``{folder id: (parent id, name)}`` of the workspace, through the SDK."""

    async def fetch() -> dict[str, tuple[str | None, str]]:
        async with IntralinksClient(url, client_id="demo", client_secret="demo-secret") as client:
            folders = await client.folders.list(workspace_id)
        return {
            str(f.id): (f.parent_id if isinstance(f.parent_id, str) else None, str(f.name))
            for f in folders
        }

    return anyio.run(fetch)
