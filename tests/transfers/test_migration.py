"""Whole-tree migrations over loopback against the emulator, with injected faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import anyio
import pytest

from intralinks_async.transfers import ProgressEvent
from intralinks_async.transfers.names import is_temp_name

from .conftest import (
    build_tree,
    connect,
    duplicates,
    new_workspace,
    remote_documents,
    remote_folders,
    served,
    tree_hashes,
)


def _no_temp_files(root: Path) -> bool:
    return not any(is_temp_name(p.name) for p in root.rglob("*"))


async def test_300_files_up_and_down_with_faults(tmp_path: Path) -> None:
    src = tmp_path / "dataroom"
    expected = build_tree(src, 300, seed=3)
    with served(fault_rate=0.1, fault_seed=11) as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            up = await client.transfers.upload_tree(src, ws, concurrency=16)
            assert up.ok, up.failures
            assert up.succeeded + up.adopted == 300
            docs = remote_documents(app, ws)
            assert len(docs) == 300
            assert duplicates(app, ws) == []
            folder_keys = Counter((f.get("parentId"), f["name"]) for f in remote_folders(app, ws))
            assert max(folder_keys.values()) == 1

            mirror = tmp_path / "mirror"
            down = await client.transfers.download_tree(
                ws, mirror, concurrency=16, chunk_size=256 * 1024
            )
            assert down.ok, down.failures
            assert down.succeeded == 300
            assert tree_hashes(mirror / "dataroom") == expected
            assert _no_temp_files(mirror)
            injected = app.state.emulator.faults.injected
            assert sum(injected.values()) > 0
            assert up.retries + down.retries > 0
            assert up.retries > 0 and down.retries > 0

            # Reruns without a journal skip what is already there: no duplicates.
            again = await client.transfers.upload_tree(src, ws, concurrency=16)
            assert again.ok and again.skipped == 300 and again.succeeded == 0
            assert len(remote_documents(app, ws)) == 300
            again_down = await client.transfers.download_tree(ws, mirror, concurrency=16)
            assert again_down.ok and again_down.skipped == 300


async def test_cancelled_upload_and_download_resume_with_journal(tmp_path: Path) -> None:
    src = tmp_path / "room"
    expected = build_tree(src, 150, seed=5, big=2)
    journal = tmp_path / "up.db"
    with served(fault_rate=0.05, fault_seed=2) as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            done = 0
            with anyio.fail_after(30):
                with anyio.CancelScope() as scope:

                    def on_progress(event: ProgressEvent) -> None:
                        nonlocal done
                        if event.kind == "finished":
                            done += 1
                            if done == 60:
                                scope.cancel()

                    await client.transfers.upload_tree(
                        src, ws, concurrency=8, journal=journal, progress=on_progress
                    )
            assert scope.cancelled_caught
            stored = len(remote_documents(app, ws))
            assert 60 <= stored < 150
            report = await client.transfers.upload_tree(src, ws, concurrency=8, journal=journal)
            assert report.ok, report.failures
            assert report.skipped >= 60
            assert len(remote_documents(app, ws)) == 150
            assert duplicates(app, ws) == []

            mirror = tmp_path / "mirror"
            djournal = tmp_path / "down.db"
            seen = 0
            with anyio.fail_after(30):
                with anyio.CancelScope() as dscope:

                    def on_down(event: ProgressEvent) -> None:
                        nonlocal seen
                        if event.kind == "advanced":
                            seen += 1
                            if seen == 40:
                                dscope.cancel()

                    await client.transfers.download_tree(
                        ws,
                        mirror,
                        concurrency=8,
                        chunk_size=128 * 1024,
                        journal=djournal,
                        progress=on_down,
                    )
            assert dscope.cancelled_caught
            assert _no_temp_files(mirror)
            report = await client.transfers.download_tree(
                ws, mirror, concurrency=8, chunk_size=128 * 1024, journal=djournal
            )
            assert report.ok, report.failures
            assert tree_hashes(mirror / "room") == expected
            assert _no_temp_files(mirror)


_CHILD = """
import sys, anyio
from intralinks_async import IntralinksClient

async def main(url, ws, src, journal):
    async with IntralinksClient(url, client_id="demo", client_secret="demo-secret") as client:
        def progress(event):
            if event.kind == "finished":
                print("done", flush=True)
        await client.transfers.upload_tree(src, ws, concurrency=4, journal=journal, progress=progress)
    print("complete", flush=True)

anyio.run(main, *sys.argv[1:])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
async def test_killed_process_resumes_with_journal(tmp_path: Path) -> None:
    src = tmp_path / "room"
    build_tree(src, 120, seed=9, big=0)
    journal = tmp_path / "up.db"
    with served(latency=0.01) as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            proc = subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(_CHILD), url, ws, str(src), str(journal)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            finished = 0
            while finished < 30:
                line = await anyio.to_thread.run_sync(proc.stdout.readline)
                assert line, "child exited early"
                finished += line.strip() == "done"
            os.kill(proc.pid, signal.SIGKILL)
            await anyio.to_thread.run_sync(proc.wait)
            stored = len(remote_documents(app, ws))
            assert 30 <= stored < 120
            report = await client.transfers.upload_tree(src, ws, concurrency=8, journal=journal)
            assert report.ok, report.failures
            assert report.skipped >= 30
            assert len(remote_documents(app, ws)) == 120
            assert duplicates(app, ws) == []
