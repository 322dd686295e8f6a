"""``intralinks-async upload/download --dask-scheduler/--dask-workers`` in child processes."""

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
from dask_helpers import (
    CLIENT_ID,
    SECRET,
    build_tree,
    connect_as,
    duplicates,
    new_workspace,
    remote_documents,
    served,
    tree_hashes,
)

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTRALINKS_")}
    env.update(
        PYTHONPATH=os.fspath(ROOT),
        INTRALINKS_BASE_URL=url,
        INTRALINKS_CLIENT_ID=CLIENT_ID,
        INTRALINKS_CLIENT_SECRET=SECRET,
    )
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "intralinks_async", *args]


async def test_cli_migrates_a_few_hundred_files_exactly_once_through_a_worker_kill(
    tmp_path: Path, two_workers: Any
) -> None:
    src = tmp_path / "room"
    expected = build_tree(src, 300, big=0)
    journal = tmp_path / "migration.db"
    address = two_workers.scheduler.address
    victim = sorted(two_workers.run(os.getpid).items())[0]
    with served(latency=0.01, clients={CLIENT_ID: SECRET}) as (app, url):
        async with connect_as(url) as client:
            ws = await new_workspace(client)
        emulator = app.state.emulator
        command = _cli(
            "upload", str(src), ws, "--dask-scheduler", address, "--journal", str(journal),
            "--concurrency", "4", "--json",
        )  # fmt: skip
        proc = subprocess.Popen(
            command, env=_env(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        killed_at = None
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if killed_at is None and emulator.requests["uploadDocument"] >= 60:
                os.kill(victim[1], signal.SIGKILL)
                killed_at = emulator.requests["uploadDocument"]
            time.sleep(0.01)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert killed_at is not None and killed_at < 300
        summary = json.loads(out)["upload"]
        assert summary["failed"] == 0 and summary["aborted"] is None
        assert summary["succeeded"] + summary["adopted"] + summary["skipped"] == 300
        assert duplicates(app, ws) == []
        docs = remote_documents(app, ws)
        assert len(docs) == 300

        uploads = emulator.requests["uploadDocument"]
        again = subprocess.run(
            [*command[:-1], "-q"], env=_env(url), capture_output=True, text=True, timeout=240
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout == ""
        assert emulator.requests["uploadDocument"] == uploads  # nothing sent again

        mirror = tmp_path / "mirror"
        down = subprocess.run(
            _cli("download", ws, str(mirror), "--dask-workers", "1", "--json"),
            env=_env(url), capture_output=True, text=True, timeout=240,
        )  # fmt: skip
        assert down.returncode == 0, down.stderr
        assert json.loads(down.stdout)["download"]["succeeded"] == 300
        assert tree_hashes(mirror / "room") == expected


def test_cli_without_the_extra_prints_the_install_hint(tmp_path: Path) -> None:
    (tmp_path / "room").mkdir()
    code = (
        "import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
        "from intralinks_async._cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "upload", str(tmp_path / "room"), "ws", "--dask-workers",
         "2", "-q"],
        env=_env("http://127.0.0.1:9"), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2  # the CLI's status for a missing extra
    assert "pip install 'intralinks-async[distributed]'" in proc.stderr
