"""The ``intralinks-async demo``: a whole data room up to the emulator and back, verified.

It starts the emulator on loopback (in a child process, so that server and client do not
share one interpreter lock), throttled and faulty, generates a sample data room (nested
folders, unicode names, mostly small files plus a few large ones), migrates it up with
``upload_tree``, mirrors it back with ``download_tree``, and checks every file's SHA-256
and that the server holds exactly one document per local file.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx

from intralinks_async._cli._common import rate_control_state
from intralinks_async._client import IntralinksClient
from intralinks_async.models import Workspace
from intralinks_async.transfers.progress import ProgressCallback
from intralinks_async.transfers.report import TransferReport

__all__ = ["DemoResult", "generate_data_room", "run_demo", "verify_mirror"]

MiB = 1024 * 1024
_DEMO_SECRET = "demo-secret"  # noqa: S105 (the emulator's built-in demo client)

_FOLDERS = [
    "01 Corporate",
    "01 Corporate/Board Minutes",
    "01 Corporate/Board Minutes/2024",
    "02 Financials",
    "02 Financials/Audited Statements",
    "02 Financials/Prognosen für 2026",
    "03 Legal/Contracts/契約書",
    "03 Legal/Litigation",
    "04 HR/Personnel (confidential)",
    "05 IP/Patents & Brevets",
    "06 Технические данные",
    "07 Ångström Project/CAD",
    "08 Q&A ✓",
]
_STEMS = [
    "Annual Report",
    "Résumé",
    "Bilanz",
    "合意書",
    "Договор",
    "Cap Table",
    "NDA signed",
    "Due Diligence Checklist",
    "Ünïcödé 📄",
    "Schedule 4.2(b)",
]
_EXTS = ["pdf", "docx", "xlsx", "pptx", "txt", "csv", "zip"]


def _size(rng: random.Random, index: int, files: int, large: int) -> int:
    if index < large:
        return (8 + 8 * (index % 3)) * MiB  # 8, 16, 24 MiB
    if index < large + max(1, files // 30):
        return rng.randint(1 * MiB, 4 * MiB)
    return int(2 ** rng.uniform(6, 18))  # 64 B .. 256 KiB, log-uniform


def generate_data_room(
    root: Path, files: int, *, seed: int = 2026, large: int = 3
) -> dict[str, str]:
    """Write ``files`` files under ``root``; returns ``{relative posix path: sha256 hex}``."""
    rng = random.Random(seed)  # noqa: S311 (sample data)
    large = min(large, max(0, files // 50))
    dirs = ["", *_FOLDERS]
    out: dict[str, str] = {}
    for i in range(files):
        folder = dirs[i % len(dirs)]
        name = f"{_STEMS[i % len(_STEMS)]} {i:04d}.{_EXTS[i % len(_EXTS)]}"
        rel = f"{folder}/{name}" if folder else name
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rng.randbytes(_size(rng, i, files, large))
        path.write_bytes(data)
        out[rel] = hashlib.sha256(data).hexdigest()
    return out


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(MiB):
            sha.update(block)
    return sha.hexdigest()


def verify_mirror(expected: dict[str, str], mirror: Path) -> tuple[int, list[str]]:
    """(identical files, problems) comparing ``mirror`` with the expected hashes."""
    problems: list[str] = []
    found = {p.relative_to(mirror).as_posix(): p for p in sorted(mirror.rglob("*")) if p.is_file()}
    same = 0
    for rel, digest in expected.items():
        path = found.pop(rel, None)
        if path is None:
            problems.append(f"missing: {rel}")
        elif _sha256(path) != digest:
            problems.append(f"SHA-256 differs: {rel}")
        else:
            same += 1
    problems.extend(f"unexpected: {rel}" for rel in found)
    return same, problems


@dataclass
class DemoResult:
    """What the demo did and found."""

    files: int
    bytes: int
    upload: TransferReport
    download: TransferReport
    identical: int
    server_documents: int
    problems: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    workdir: str = ""
    #: The client's rate-control state at the end (what it learned), when it has one.
    rate_control: dict[str, Any] | None = None
    #: The emulator's rate limit (requests/s), None when unthrottled.
    rate_limit: float | None = None
    #: The emulator's own counters (``/_emulator/stats``): requests, 429s, duplicates.
    server: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every file came back identical, once, with no failed transfer."""
        return (
            not self.problems
            and self.identical == self.files
            and self.server_documents == self.files
            and not self.server.get("duplicates")
            and self.upload.ok
            and self.download.ok
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary."""
        return {
            "ok": self.ok,
            "files": self.files,
            "bytes": self.bytes,
            "identical": self.identical,
            "server_documents": self.server_documents,
            "elapsed_seconds": round(self.elapsed, 3),
            "upload": self.upload.to_dict(),
            "download": self.download.to_dict(),
            "problems": self.problems[:50],
            "workdir": self.workdir,
            "rate_limit": self.rate_limit,
            "rate_control": self.rate_control,
            "server": self.server,
        }


async def _server_stats(url: str) -> dict[str, Any]:
    """The emulator's counters: total requests, 429s it answered, duplicates."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        stats: dict[str, Any] = (await http.get("/_emulator/stats")).raise_for_status().json()
    return {
        "total_requests": stats.get("total_requests"),
        "throttled": stats.get("throttled"),
        "duplicates": stats.get("duplicates", []),
    }


async def run_demo(
    *,
    files: int = 300,
    fault_rate: float = 0.05,
    concurrency: int = 16,
    seed: int = 2026,
    workdir: str | None = None,
    keep: bool = False,
    rate_limit: float | None = None,
    upload_progress: ProgressCallback | None = None,
    download_progress: ProgressCallback | None = None,
    on_client: Callable[[IntralinksClient], None] | None = None,
) -> DemoResult:
    """Run the whole demo and return its result (see the module docstring).

    ``rate_limit`` (requests/s) throttles the emulator; ``on_client`` is called with the
    client once it exists (a progress display can show its rate control).
    """
    from intralinks_async.testing import serve_in_subprocess  # needs the emulator extra

    options: dict[str, Any] = {"fault_rate": fault_rate, "fault_seed": seed, "retry_after": 1}
    if rate_limit is not None:
        options["rate_limit"] = rate_limit

    started = time.monotonic()
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="intralinks-demo-"))
    try:
        source = base / "Project Falcon"
        expected = await anyio.to_thread.run_sync(
            lambda: generate_data_room(source, files, seed=seed)
        )
        total = sum((source / rel).stat().st_size for rel in expected)
        with serve_in_subprocess(**options) as url:
            async with IntralinksClient(
                url, client_id="demo", client_secret=_DEMO_SECRET
            ) as client:
                if on_client is not None:
                    on_client(client)
                ws = await client.workspaces.create(
                    body=Workspace(name="Project Falcon", type="ATC")
                )
                assert isinstance(ws.id, str)
                up = await client.transfers.upload_tree(
                    source,
                    ws.id,
                    concurrency=concurrency,
                    journal=base / "upload-journal.db",
                    progress=upload_progress,
                )
                mirror = base / "mirror"
                down = await client.transfers.download_tree(
                    ws.id,
                    mirror,
                    concurrency=concurrency,
                    journal=base / "download-journal.db",
                    progress=download_progress,
                )
                learned = rate_control_state(client)
            server = await _server_stats(url)
        identical, problems = await anyio.to_thread.run_sync(
            verify_mirror, expected, mirror / source.name
        )
        return DemoResult(
            files=len(expected),
            bytes=total,
            upload=up,
            download=down,
            identical=identical,
            server_documents=down.items_total,
            problems=problems,
            elapsed=time.monotonic() - started,
            workdir=str(base),
            rate_control=learned,
            rate_limit=rate_limit,
            server=server,
        )
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
