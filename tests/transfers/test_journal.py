"""The SQLite journal: states, persistence, mismatch detection, consistency after a kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from intralinks_async.transfers.errors import JournalMismatchError
from intralinks_async.transfers.journal import Journal


def test_plan_done_failed_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    with Journal(path, kind="upload", scope="ws:root") as j:
        j.plan("a.txt", size=3)
        j.plan("b.txt", size=4)
        j.done("a.txt", remote_id="D1", size=3, sha1="abc=")
        j.failed("b.txt", "boom")
        assert j.get("a.txt") is not None and j.get("a.txt").state == "done"  # type: ignore[union-attr]
        assert j.get("missing") is None
    with Journal(path, kind="upload", scope="ws:root") as j:
        a = j.get("a.txt")
        assert a is not None and (a.state, a.remote_id, a.size, a.sha1) == ("done", "D1", 3, "abc=")
        b = j.get("b.txt")
        assert b is not None and b.state == "failed" and b.error == "boom"
        assert j.counts() == {"done": 1, "failed": 1}


def test_done_is_never_downgraded(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.db", kind="upload", scope="s") as j:
        j.done("a", remote_id="D", size=1, sha1=None)
        j.plan("a", size=1)
        j.failed("a", "late failure")
        entry = j.get("a")
        assert entry is not None and entry.state == "done" and entry.remote_id == "D"


def test_one_flush_of_interleaved_records_leaves_each_key_as_recorded(tmp_path: Path) -> None:
    """Records of many keys in one transaction (a plan a later done supersedes is not
    written): each key ends as its last record says, sizes of plans kept."""
    with Journal(tmp_path / "j.db", kind="upload", scope="s") as j:
        j.done("old", remote_id="D0", size=9, sha1="x=")
        j.flush()
        for i in range(30):
            j.plan(f"k{i}", size=i)
        for i in range(0, 30, 3):
            j.done(f"k{i}", remote_id=f"D{i}", size=i, sha1=f"{i}=")
        for i in range(1, 30, 3):
            j.failed(f"k{i}", f"boom {i}")
        j.plan("old", size=9)  # a done entry is left alone
        j.failed("old", "late")
        j.flush()
        got = {e.key: e for e in j.entries()}
    assert got["old"].state == "done" and got["old"].remote_id == "D0"
    for i in range(30):
        entry = got[f"k{i}"]
        assert entry.size == i
        if i % 3 == 0:
            assert (entry.state, entry.remote_id, entry.sha1) == ("done", f"D{i}", f"{i}=")
        elif i % 3 == 1:
            assert (entry.state, entry.error) == ("failed", f"boom {i}")
        else:
            assert entry.state == "planned"


def test_journal_of_another_migration_is_refused(tmp_path: Path) -> None:
    Journal(tmp_path / "j.db", kind="upload", scope="ws1:dir").close()
    with pytest.raises(JournalMismatchError):
        Journal(tmp_path / "j.db", kind="upload", scope="ws2:dir")
    with pytest.raises(JournalMismatchError):
        Journal(tmp_path / "j.db", kind="download", scope="ws1:dir")


def test_consistent_after_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "j.db"
    script = textwrap.dedent(
        f"""
        import os, sys
        from intralinks_async.transfers.journal import Journal
        j = Journal({str(path)!r}, kind="upload", scope="s")
        for i in range(200):
            j.plan(f"f{{i}}", size=i)
            j.done(f"f{{i}}", remote_id=f"D{{i}}", size=i, sha1=None)
        j.plan("in-flight", size=1)
        j.flush()
        j.plan("never-written", size=1)  # buffered: lost with the process
        print("ready", flush=True)
        sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Journal(path, kind="upload", scope="s") as j:
        assert j.counts() == {"done": 200, "planned": 1}
        entry = j.get("f199")
        assert entry is not None and entry.remote_id == "D199"


def test_unusable_journal_paths_are_named(tmp_path: Path) -> None:
    from intralinks_async.transfers.errors import JournalError

    with pytest.raises(FileNotFoundError, match="nowhere"):
        Journal(tmp_path / "nowhere" / "j.db", kind="upload", scope="s")
    not_a_db = tmp_path / "report.pdf"
    not_a_db.write_bytes(b"%PDF-1.7 definitely not sqlite" * 100)
    with pytest.raises(JournalError, match="report.pdf"):
        Journal(not_a_db, kind="upload", scope="s")
    assert not_a_db.read_bytes() == b"%PDF-1.7 definitely not sqlite" * 100
