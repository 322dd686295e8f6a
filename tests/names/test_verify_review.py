"""verify_tree must never say ``=`` without proof (review findings): a document the server
gives no hash for, and a local file that changes while it is being hashed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from intralinks_async import IntralinksClient
from intralinks_async.transfers import verify as verify_module
from intralinks_async.transfers.progress import ProgressEvent
from intralinks_async.transfers.verify import verify_tree

from .test_verify import _mirror, env

__all__ = ["env"]


async def test_same_size_other_bytes_without_server_hash_is_not_same(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, client, ws = env
    root = tmp_path / "dataroom"
    root.mkdir()
    (root / "contract.pdf").write_bytes(b"signed v1")
    (root / "kept.txt").write_bytes(b"unchanged")
    await _mirror(client, ws, root)
    (root / "contract.pdf").write_bytes(b"signed v2")  # same size, other bytes
    monkeypatch.setattr(verify_module, "doc_hash", lambda doc: None)  # a server without fileHash
    events: list[ProgressEvent] = []
    report = await verify_tree(client, root, ws, progress=events.append)
    marks = {e.path: (e.mark, e.detail) for e in report.entries}
    assert marks["contract.pdf"][0] == "*", marks
    assert marks["kept.txt"][0] == "=" and "downloaded" in marks["kept.txt"][1]
    assert not report.ok
    assert events[-1].bytes_done == events[-1].bytes_total  # the fallback download counted


async def test_local_file_changed_while_hashed_is_not_same(
    env: tuple[Any, IntralinksClient, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, client, ws = env
    root = tmp_path / "dataroom"
    root.mkdir()
    big = root / "big.bin"
    big.write_bytes(bytes(range(256)) * 12_000)  # > 2 hashing chunks
    await _mirror(client, ws, root)
    changed: list[bool] = []
    real_checkpoint = verify_module.thread_checkpoint

    def checkpoint() -> None:
        # After the first chunk was hashed, something rewrites bytes already hashed.
        import sys

        if not changed and sys._getframe(1).f_code.co_name == "_sha1_file":
            with open(big, "r+b") as f:
                f.write(b"TAMPERED")
            st = big.stat()
            os.utime(big, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
            changed.append(True)
        real_checkpoint()

    monkeypatch.setattr(verify_module, "thread_checkpoint", checkpoint)
    report = await verify_tree(client, root, ws)
    assert changed
    (entry,) = report.entries
    assert entry.mark == "!", entry
    assert "changed" in entry.detail
