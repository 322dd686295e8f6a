"""The upload/download/ls/demo subcommands, end to end over loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from intralinks_async.cli import main

from .conftest import build_tree, connect, new_workspace, served, tree_hashes


def test_demo_small_json() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "intralinks_async.cli",
            "demo",
            "--files",
            "40",
            "--json",
            "--fault-rate",
            "0.1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ok"] is True
    assert summary["identical"] == summary["files"] == summary["server_documents"] == 40


def test_upload_download_ls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "room"
    expected = build_tree(src, 25, seed=4, big=1)
    with served() as (app, url):

        async def make_ws() -> str:
            async with connect(url) as client:
                return await new_workspace(client)

        ws = anyio.run(make_ws)
        monkeypatch.setenv("INTRALINKS_BASE_URL", url)
        monkeypatch.setenv("INTRALINKS_CLIENT_ID", "demo")
        monkeypatch.setenv("INTRALINKS_CLIENT_SECRET", "demo-secret")
        journal = tmp_path / "j.db"
        assert main(["upload", str(src), ws, "--journal", str(journal), "--json"]) == 0
        up = json.loads(capsys.readouterr().out)["upload"]
        assert up["succeeded"] == 25 and up["failed"] == 0
        assert main(["upload", str(src), ws, "--journal", str(journal), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["upload"]["skipped"] == 25

        assert main(["download", ws, str(tmp_path / "mirror"), "--quiet"]) == 0
        capsys.readouterr()
        assert tree_hashes(tmp_path / "mirror" / "room") == expected

        assert main(["ls", ws, "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert sum(1 for r in rows if r["size"] is not None) == 25
        assert main(["ls", "--json"]) == 0
        assert [w["id"] for w in json.loads(capsys.readouterr().out)] == [ws]

        one = next(p for p in src.rglob("*") if p.is_file())
        folder = next(r["id"] for r in rows if r["size"] is None)
        assert (
            main(["upload", str(one), ws, "--folder", folder, "--name", "single.bin", "--json"])
            == 0
        )
        doc = json.loads(capsys.readouterr().out)
        assert (
            main(["download", ws, str(tmp_path / "single.bin"), "--document", doc["id"], "--json"])
            == 0
        )
        capsys.readouterr()
        assert (tmp_path / "single.bin").read_bytes() == one.read_bytes()


def test_missing_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for var in ("INTRALINKS_CLIENT_ID", "INTRALINKS_CLIENT_SECRET", "INTRALINKS_ACCESS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(SystemExit, match="credentials needed"):
        main(["ls", "--base-url", "http://127.0.0.1:9"])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_stops_and_journal_resumes(tmp_path: Path) -> None:
    import os
    import signal
    import time

    from .conftest import duplicates, remote_documents

    src = tmp_path / "room"
    build_tree(src, 120, seed=8, big=0)
    journal = tmp_path / "j.db"
    with served(latency=0.02) as (app, url):

        async def make_ws() -> str:
            async with connect(url) as client:
                return await new_workspace(client)

        ws = anyio.run(make_ws)
        env = dict(
            os.environ,
            INTRALINKS_BASE_URL=url,
            INTRALINKS_CLIENT_ID="demo",
            INTRALINKS_CLIENT_SECRET="demo-secret",
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "intralinks_async.cli",
                "upload",
                str(src),
                ws,
                "--journal",
                str(journal),
                "--concurrency",
                "4",
                "--quiet",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while len(remote_documents(app, ws)) < 20:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
        assert proc.returncode == 130, err
        assert "interrupted" in err and "--journal" in err
        assert len(remote_documents(app, ws)) < 120

        async def resume() -> None:
            async with connect(url) as client:
                report = await client.transfers.upload_tree(src, ws, journal=journal)
                assert report.ok, report.failures
                assert report.skipped >= 20

        anyio.run(resume)
        assert len(remote_documents(app, ws)) == 120
        assert duplicates(app, ws) == []
