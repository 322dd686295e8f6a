"""A journal that cannot be broken: one migration at a time, typed failures with a report."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from intralinks_async.transfers import journal as journal_module
from intralinks_async.transfers.errors import JournalError, JournalLockedError
from intralinks_async.transfers.journal import Journal

from .conftest import connect, duplicates, new_workspace, remote_documents, served

_CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from intralinks_async import IntralinksClient
    from intralinks_async.transfers.errors import JournalLockedError

    async def main(url, ws, src, journal):
        async with IntralinksClient(url, client_id="demo", client_secret="demo-secret") as c:
            try:
                report = await c.transfers.upload_tree(src, ws, concurrency=2, journal=journal)
            except JournalLockedError as exc:
                print(json.dumps({"locked": str(exc)}))
                return
            print(json.dumps(report.to_dict()))

    asyncio.run(main(*sys.argv[1:]))
    """
)


def _tree(root: Path, files: int) -> Path:
    root.mkdir()
    for i in range(files):
        (root / f"f{i:03}.txt").write_bytes(f"file {i}".encode() * (i + 1))
    return root


def _child(url: str, ws: str, src: Path, journal: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, url, ws, str(src), str(journal)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_second_opener_is_refused_and_lock_is_released(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    first = Journal(path, kind="upload", scope="s")
    with pytest.raises(JournalLockedError, match="in use"):
        Journal(path, kind="upload", scope="s")
    first.close()
    Journal(path, kind="upload", scope="s").close()  # free again


async def test_two_processes_on_one_journal_never_duplicate(tmp_path: Path) -> None:
    import json

    src = _tree(tmp_path / "room", 50)
    journal = tmp_path / "migration.db"
    with served(latency=0.05) as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
        emu = app.state.emulator
        first = _child(url, ws, src, journal)
        while emu.requests["uploadDocument"] == 0 and first.poll() is None:
            time.sleep(0.01)
        second = _child(url, ws, src, journal)  # while the first one is uploading
        out1, err1 = first.communicate(timeout=300)
        out2, err2 = second.communicate(timeout=300)
        assert first.returncode == 0, err1
        assert second.returncode == 0, err2
        one, two = json.loads(out1), json.loads(out2)
        assert one["succeeded"] == 50 and one["failed"] == 0
        # The second run was refused (or, had the first already finished, skipped all).
        assert "locked" in two or (two["skipped"] == 50 and two["succeeded"] == 0), two
        assert len(remote_documents(app, ws)) == 50
        assert duplicates(app, ws) == []


def _tiny_disk(monkeypatch: pytest.MonkeyPatch, pages: int) -> None:
    """Make every journal database refuse to grow beyond ``pages`` pages (a full disk)."""
    real = journal_module._connect

    def limited(path: str) -> sqlite3.Connection:
        db = real(path)
        db.execute(f"PRAGMA max_page_count={pages}")
        return db

    monkeypatch.setattr(journal_module, "_connect", limited)


async def test_full_disk_ends_the_run_with_journal_error_and_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "room"
    src.mkdir()
    for i in range(400):
        (src / f"{'long-name-' * 8}{i:04}.txt").write_bytes(b"x" * (i % 50))
    journal = tmp_path / "migration.db"
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            _tiny_disk(monkeypatch, pages=6)
            with pytest.raises(JournalError, match="full") as caught:
                await client.transfers.upload_tree(src, ws, concurrency=8, journal=journal)
            report = caught.value.report
            assert report is not None and report.aborted is not None
            assert "JournalError" in report.aborted
            assert 0 < report.succeeded < 400
            assert not isinstance(caught.value.__cause__, sqlite3.Error)
            monkeypatch.undo()
            # Disk space back: the rerun resumes and nothing is stored twice.
            again = await client.transfers.upload_tree(src, ws, concurrency=8, journal=journal)
            assert again.ok, again.failures[:3]
            assert len(remote_documents(app, ws)) == 400
            assert duplicates(app, ws) == []


async def test_corrupt_journal_is_a_journal_error_with_report(tmp_path: Path) -> None:
    src = _tree(tmp_path / "room", 60)
    journal = tmp_path / "migration.db"
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            first = await client.transfers.upload_tree(src, ws, journal=journal)
            assert first.ok and first.succeeded == 60
            with open(journal, "r+b") as fh:  # overwrite every page after the first
                size = fh.seek(0, os.SEEK_END)
                for offset in range(4096, size, 4096):
                    fh.seek(offset)
                    fh.write(os.urandom(4096))
            with pytest.raises(JournalError) as caught:
                await client.transfers.upload_tree(src, ws, journal=journal)
            assert "malformed" in str(caught.value) or "not a usable" in str(caught.value)
            assert caught.value.report is not None
            assert caught.value.report.to_dict()["succeeded"] == 0
            assert len(remote_documents(app, ws)) == 60


async def test_undecodable_name_is_journaled_and_the_rest_goes_on(tmp_path: Path) -> None:
    if sys.platform == "darwin" or os.name == "nt":
        pytest.skip("this file system refuses names that are not valid UTF-8")
    src = tmp_path / "room"
    src.mkdir()
    (src / "good.txt").write_bytes(b"good")
    with open(os.path.join(os.fsencode(src), b"bad\xff.txt"), "wb") as fh:
        fh.write(b"bad bytes in the name")
    journal = tmp_path / "migration.db"
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws, journal=journal)
            names = sorted(d["name"] for d in remote_documents(app, ws))
            assert "good.txt" in names
            bad = [f for f in report.failures if "bad" in f.path]
            stored_bad = [n for n in names if n.startswith("bad")]
            # Uploaded under a visible, reported replacement name, or reported as failed.
            assert len(bad) + len(stored_bad) == 1
            if stored_bad:
                assert any(local.startswith("bad") for local, _ in report.renamed)
            shown = [f["path"] for f in report.to_dict()["failures"]]
            shown += [r["local"] for r in report.to_dict()["renamed"]]
            assert "bad\\xff.txt" in shown
            assert not any(isinstance(f.error, UnicodeError) for f in report.failures)
    with Journal(journal, kind="upload", scope=_scope(ws, src)) as j:
        keys = {e.key for e in j.entries()}
    assert "good.txt" in keys and "bad\udcff.txt" in keys


def _scope(ws: str, src: Path) -> str:
    return f"{ws}::{src.resolve()}"
