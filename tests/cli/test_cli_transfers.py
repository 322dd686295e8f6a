"""``upload``, ``download``, ``ls`` and ``demo`` end to end against a loopback emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from intralinks_async._cli import main

from .conftest import credentials_env, remote_documents, served, tree_hashes, write_tree

FILES = {
    "Financials/Q3 report.pdf": b"%PDF" + bytes(range(256)) * 40,
    "Financials/2026/budget.xlsx": b"numbers" * 500,
    "Legal/NDA signed.docx": b"nda" * 100,
    "readme.txt": b"hello",
    "empty.bin": b"",
}


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def _workspace(capsys: pytest.CaptureFixture[str], name: str = "Project Falcon") -> str:
    assert main(["workspace", "create", name]) == 0
    return capsys.readouterr().out.strip()


def test_upload_download_ls_round_trip(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    expected = write_tree(tmp_path / "room", FILES)
    ws = _workspace(capsys)
    journal = tmp_path / "j.db"
    assert main(["upload", str(tmp_path / "room"), ws, "--journal", str(journal), "--json"]) == 0
    up = _json(capsys)["upload"]
    assert (up["succeeded"], up["failed"]) == (len(FILES), 0)
    assert main(["upload", str(tmp_path / "room"), ws, "--journal", str(journal), "--json"]) == 0
    assert _json(capsys)["upload"]["skipped"] == len(FILES)

    assert main(["download", ws, str(tmp_path / "mirror"), "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert tree_hashes(tmp_path / "mirror" / "room") == expected

    assert main(["ls", ws, "--json"]) == 0
    rows = _json(capsys)
    docs = {r["path"]: r["size"] for r in rows if r["size"] is not None}
    assert docs == {f"room/{rel}": len(data) for rel, data in FILES.items()}
    assert main(["ls", "--json"]) == 0
    assert [(w["id"], w["name"]) for w in _json(capsys)] == [(ws, "Project Falcon")]
    assert main(["ls"]) == 0
    assert capsys.readouterr().out.split() == [ws, "ATC", "Project", "Falcon"]


def test_single_file_up_and_down(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    one = tmp_path / "one.bin"
    one.write_bytes(os.urandom(70_000))
    ws = _workspace(capsys)
    assert main(["mkdir", ws, "Inbox"]) == 0
    folder = capsys.readouterr().out.strip()
    assert main(["upload", str(one), ws, "--folder", folder, "--name", "single.bin", "--json"]) == 0
    doc = _json(capsys)
    assert doc["name"] == "single.bin"
    assert (
        main(["download", ws, str(tmp_path / "copy.bin"), "--document", doc["id"], "--json"]) == 0
    )
    assert _json(capsys)["size"] == 70_000
    assert (tmp_path / "copy.bin").read_bytes() == one.read_bytes()


def test_single_file_needs_a_folder(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("a")
    assert main(["upload", str(tmp_path / "a.txt"), "100001", "-q"]) == 2
    assert "--folder" in capsys.readouterr().err


def test_progress_and_tables_are_drawn(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "room", FILES)
    ws = _workspace(capsys)
    assert main(["upload", str(tmp_path / "room"), ws]) == 0
    out = capsys.readouterr().out
    assert "Summary" in out and "upload" in out and "failures" in out


def test_demo_small_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "intralinks_async", "demo", "--files", "40", "--json",
         "--fault-rate", "0.1"],
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ok"] is True
    assert summary["identical"] == summary["files"] == summary["server_documents"] == 40
    assert summary["rate_limit"] == 100  # throttled by default
    assert summary["server"]["duplicates"] == []
    assert summary["server"]["total_requests"] >= 80
    assert "rate_control" in summary


def test_demo_summary_shows_throttling(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "intralinks_async", "demo", "--files", "30", "--rate-limit", "20",
         "--fault-rate", "0"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "30/30" in out and "20 req/s" in out and "OK" in out
    line = next(line for line in out.splitlines() if "emulator answered" in line)
    throttled = int(line.split(" over the rate limit")[0].rsplit(",", 1)[1])
    assert throttled > 0  # ~100 requests at concurrency 16 do not fit in a 20 req/s bucket
    learned = next(line for line in out.splitlines() if "rate the client learned" in line)
    assert "(adaptive, learned" in learned  # the client slowed down to the limit


def test_rate_control_line() -> None:
    from intralinks_async._cli._ui import rate_text

    state = {"rate": 87.5, "mode": "adaptive", "throttled": 12, "requests": 3456, "learned": 90}
    assert (
        rate_text(state) == "rate 87.5 req/s (adaptive, learned 90.0 req/s), 12 throttled of 3,456"
    )
    assert rate_text({"rate": None, "mode": "off", "throttled": 0, "requests": 5}) == (
        "rate unlimited (off), 0 throttled of 5"
    )
    assert rate_text(None) == ""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_stops_and_journal_resumes(tmp_path: Path) -> None:
    files = {f"d{i % 5}/f{i}.txt": f"file {i}".encode() * 50 for i in range(120)}
    write_tree(tmp_path / "room", files)
    journal = tmp_path / "j.db"
    with served(latency=0.02) as (_app, url):
        env = {**os.environ, **credentials_env(url)}
        ws = subprocess.run(
            [sys.executable, "-m", "intralinks_async", "workspace", "create", "W"],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()  # fmt: skip
        cmd = [sys.executable, "-m", "intralinks_async", "upload", str(tmp_path / "room"), ws,
               "--journal", str(journal), "--concurrency", "4", "--quiet"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while len(remote_documents(url, ws)) < 20:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "interrupted" in err and "--journal" in err and "Traceback" not in err
        assert len(remote_documents(url, ws)) < 120

        again = subprocess.run(
            [*cmd[:-1], "--json"], env=env, capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["upload"]["skipped"] >= 20
        names = remote_documents(url, ws)
        assert len(names) == len(set(names)) == 120
