"""Distributed migrations on a real 2-process LocalCluster against a loopback emulator."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from dask_helpers import (
    CLIENT_ID,
    SECRET,
    build_tree,
    connect,
    connect_as,
    creds,
    duplicates,
    new_workspace,
    remote_documents,
    served,
    tree_hashes,
)

from intralinks_async.testing import create_app, serve_in_thread
from intralinks_async.transfers.journal import Journal

dd = pytest.importorskip("intralinks_async.distributed")

pytestmark = pytest.mark.slow


def _sha1_b64(path: Path) -> str:
    return base64.b64encode(hashlib.sha1(path.read_bytes()).digest()).decode()


def _assert_landed_once(app: Any, ws: str, src: Path) -> None:
    """Every local file is stored exactly once, with its content's SHA-1."""
    docs = remote_documents(app, ws)
    assert duplicates(app, ws) == []
    local = {p.name: _sha1_b64(p) for p in src.rglob("*") if p.is_file()}
    assert sorted(d["name"] for d in docs) == sorted(local)
    for doc in docs:
        assert doc["fileHash"] == local[doc["name"]], doc["name"]


def _progress_events(client: Any) -> dict[str, list[dict[str, Any]]]:
    events = client.get_events()
    return {
        topic: [msg for _ts, msg in items]
        for topic, items in events.items()
        if topic.startswith("intralinks-progress-")
    }


async def test_upload_lands_once_on_the_workers_and_mirrors_back(
    tmp_path: Path, emulator_server: tuple[Any, str], two_workers: Any
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    expected = build_tree(src, 40, big=2)
    async with connect(url) as client:
        ws = await new_workspace(client)
    before = set(_progress_events(two_workers))
    seen: list[Any] = []
    report = await dd.upload_tree(
        src, ws, dask=two_workers.scheduler.address, shard_files=6, concurrency=3,
        progress=seen.append, **creds(url),
    )  # fmt: skip
    assert report.ok, report.to_dict()
    assert (report.succeeded, report.items_total, report.folders_created) == (40, 40, 13)
    _assert_landed_once(app, ws, src)
    assert seen[-1].items_done == 40
    assert (
        seen[-1].bytes_done
        == seen[-1].bytes_total
        == sum(p.stat().st_size for p in src.rglob("*") if p.is_file())
    )
    # The files were moved by the worker processes (their progress messages say so).
    (topic,) = set(_progress_events(two_workers)) - before
    messages = _progress_events(two_workers)[topic]
    senders = {msg["worker"] for msg in messages}
    assert senders and senders <= set(two_workers.scheduler_info()["workers"])
    assert {msg["shard"] for msg in messages} == set(range(1, 8))  # 40 files, 6 per shard

    mirror = tmp_path / "mirror"
    down = await dd.download_tree(ws, mirror, dask=two_workers, shard_files=7, **creds(url))
    assert down.ok, down.to_dict()
    assert down.succeeded == 40
    assert tree_hashes(mirror / "room") == expected
    again = await dd.download_tree(ws, mirror, dask=two_workers, **creds(url))
    assert (again.succeeded, again.skipped) == (0, 40)


async def test_sigkilled_worker_shard_reruns_without_duplicates(
    tmp_path: Path, two_workers: Any
) -> None:
    src = tmp_path / "room"
    build_tree(src, 60, big=0)
    pids = two_workers.run(os.getpid)
    victim = sorted(pids.items())[0]
    killed: list[int] = []

    def progress(event: Any) -> None:
        if not killed and event.items_done >= 15:
            os.kill(victim[1], signal.SIGKILL)
            killed.append(victim[1])

    with served(latency=0.02, clients={"dask-tester": SECRET}) as (app, url):
        async with connect_as(url) as client:
            ws = await new_workspace(client)
        before = set(_progress_events(two_workers))
        report = await dd.upload_tree(
            src, ws, dask=two_workers.scheduler.address, shard_files=5, concurrency=2,
            progress=progress, **creds(url),
        )  # fmt: skip
        assert killed, "the worker was not killed"
        assert report.ok, report.to_dict()
        assert report.succeeded + report.adopted + report.skipped == 60
        _assert_landed_once(app, ws, src)
    # A shard really was running on the killed worker and ran again elsewhere.
    (topic,) = set(_progress_events(two_workers)) - before
    attempts: dict[int, set[str]] = {}
    workers: dict[int, set[str]] = {}
    for msg in _progress_events(two_workers)[topic]:
        attempts.setdefault(msg["shard"], set()).add(msg["attempt"])
        workers.setdefault(msg["shard"], set()).add(msg["worker"])
    rerun = [n for n, a in attempts.items() if len(a) > 1]
    assert rerun, attempts
    assert any(victim[0] in workers[n] for n in rerun)


async def test_coordinator_stopped_midway_resumes_from_its_journal(
    tmp_path: Path, emulator_server: tuple[Any, str], two_workers: Any
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    build_tree(src, 50, big=0)
    journal = tmp_path / "migration.db"
    async with connect(url) as client:
        ws = await new_workspace(client)
    with anyio.CancelScope() as scope:

        def progress(event: Any) -> None:
            if event.items_done >= 20:
                scope.cancel()

        await dd.upload_tree(
            src, ws, dask=two_workers.scheduler.address, journal=journal, shard_files=5,
            concurrency=2, progress=progress, **creds(url),
        )  # fmt: skip
    assert scope.cancelled_caught
    stored_first = len(remote_documents(app, ws))
    assert 0 < stored_first < 50
    report = await dd.upload_tree(
        src, ws, dask=two_workers.scheduler.address, journal=journal, shard_files=5, **creds(url)
    )
    assert report.ok, report.to_dict()
    assert report.skipped >= 1 and report.succeeded + report.skipped + report.adopted == 50
    _assert_landed_once(app, ws, src)
    with Journal(journal, kind="upload", scope=f"{ws}::{src.resolve()}") as jrnl:
        assert jrnl.counts() == {"done": 50}


async def test_rerun_with_the_journal_sends_nothing(
    tmp_path: Path, emulator_server: tuple[Any, str], two_workers: Any
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    build_tree(src, 30, big=0)
    journal = tmp_path / "j.db"
    async with connect(url) as client:
        ws = await new_workspace(client)
    address = two_workers.scheduler.address
    first = await dd.upload_tree(src, ws, dask=address, journal=journal, **creds(url))
    assert first.succeeded == 30
    requests = Counter(app.state.emulator.requests)
    again = await dd.upload_tree(src, ws, dask=address, journal=journal, **creds(url))
    assert (again.succeeded, again.skipped, again.failed) == (0, 30, 0)
    new = Counter(app.state.emulator.requests) - requests
    assert new["uploadDocument"] == 0 and new["listDocuments"] == 0
    assert duplicates(app, ws) == []


async def test_no_secret_in_keys_task_names_events_logs_or_report(
    tmp_path: Path,
    emulator_server: tuple[Any, str],
    two_workers: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app, url = emulator_server
    src = tmp_path / "room"
    build_tree(src, 12, big=0)
    (src / "link").symlink_to(src / "nowhere")  # one failure in the report
    async with connect(url) as client:
        ws = await new_workspace(client)
    report = await dd.upload_tree(src, ws, dask=two_workers, shard_files=4, **creds(url))
    assert report.succeeded == 12 and report.failed == 1

    def scheduler_view(dask_scheduler: Any) -> dict[str, Any]:
        return {
            "keys": [str(entry[0]) for entry in dask_scheduler.transition_log],
            "log": repr(list(dask_scheduler.transition_log)),
            "prefixes": list(dask_scheduler.task_prefixes),
            "groups": [str(g) for g in dask_scheduler.task_groups],
        }

    view = two_workers.run_on_scheduler(scheduler_view)
    shard_keys = {k for k in view["keys"] if k.startswith("intralinks-shard-")}
    assert shard_keys and "intralinks-shard" in view["prefixes"]
    texts = [
        json.dumps(view),
        repr(two_workers.get_events()),
        json.dumps(two_workers.get_worker_logs(n=10_000)),
        json.dumps(two_workers.get_scheduler_logs(n=10_000)),
        caplog.text,
        json.dumps(report.to_dict()),
        repr(dd.Credentials.create(**creds(url))),
    ]
    for text in texts:
        assert SECRET not in text


async def test_worker_side_failures_are_per_file_results(
    tmp_path: Path, emulator_server: tuple[Any, str], two_workers: Any
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    (src / "docs").mkdir(parents=True)
    for i in range(6):
        (src / "docs" / f"f{i}.txt").write_text(f"content {i}")
    async with connect(url) as client:
        ws = await new_workspace(client)
    first = await dd.upload_tree(src, ws, dask=two_workers, **creds(url))
    assert first.succeeded == 6
    (src / "docs" / "f2.txt").write_text("changed since")
    (src / "docs" / "f4.txt").write_text("changed too")
    report = await dd.upload_tree(
        src, ws, dask=two_workers, on_conflict="error", shard_files=3, **creds(url)
    )
    assert (report.skipped, report.failed, report.succeeded) == (4, 2, 0)
    failures = {f.path: f.error for f in report.failures}
    assert set(failures) == {"docs/f2.txt", "docs/f4.txt"}
    for error in failures.values():
        assert isinstance(error, dd.WorkerTransferError)
        assert error.error_type == "RemoteConflictError"
        assert error.worker in two_workers.scheduler_info()["workers"]
    assert "RemoteConflictError" in report.to_dict()["failures"][0]["error"]
    assert duplicates(app, ws) == []


async def test_a_local_cluster_started_for_the_run_downloads_one_folder(
    tmp_path: Path, emulator_server: tuple[Any, str]
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    expected = build_tree(src, 12, big=0)
    async with connect(url) as client:
        ws = await new_workspace(client)
        await client.transfers.upload_tree(src, ws)
        folders = {f.name: f.id for f in await client.folders.list(ws)}
    report = await dd.download_tree(
        ws, tmp_path / "mirror", dask=1, folder_id=folders["report 3"], **creds(url)
    )
    assert report.ok, report.to_dict()
    got = tree_hashes(tmp_path / "mirror")
    assert got and report.succeeded == len(got)
    assert all(expected[key] == digest for key, digest in _under(expected, got).items())


def _under(expected: dict[str, str], got: dict[str, str]) -> dict[str, str]:
    """``got`` keyed like ``expected`` (the mirrored folder's path inside the room)."""
    out: dict[str, str] = {}
    for rel, digest in got.items():
        matches = [k for k in expected if k.endswith("/" + rel)]
        assert len(matches) == 1, (rel, matches)
        out[matches[0]] = digest
    return out


async def test_refused_credentials_stop_the_run_resumably(
    tmp_path: Path, emulator_server: tuple[Any, str], two_workers: Any
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    build_tree(src, 40, big=0)
    journal = tmp_path / "j.db"
    async with connect(url) as client:
        ws = await new_workspace(client)
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
            },
        )
        token = answer.json()["access_token"]
    emulator = app.state.emulator

    def progress(event: Any) -> None:
        if event.items_done >= 8:
            emulator.revoke_all_tokens()

    report = await dd.upload_tree(
        src, ws, dask=two_workers, base_url=url, access_token=token, journal=journal,
        shard_files=4, concurrency=2, progress=progress,
    )  # fmt: skip
    assert getattr(report, "aborted", "no such field") is not None
    assert 8 <= report.succeeded < 40 and report.failed == 0
    # Every file that landed before the stop is in the report (and so in the journal).
    assert report.succeeded == len(remote_documents(app, ws))
    again = await dd.upload_tree(src, ws, dask=two_workers, journal=journal, **creds(url))
    assert again.ok and again.succeeded + again.skipped + again.adopted == 40
    _assert_landed_once(app, ws, src)


class _Concurrency:
    """ASGI wrapper counting the uploads in progress at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.now = 0
        self.peak = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        upload = scope["type"] == "http" and scope["method"] == "POST"
        upload = upload and scope["path"].endswith("/documents")
        if upload:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            if upload:
                self.now -= 1


async def test_cluster_concurrency_bounds_uploads_over_all_workers(
    tmp_path: Path, two_workers: Any
) -> None:
    src = tmp_path / "room"
    build_tree(src, 24, big=0)
    app = create_app(latency=0.02, retry_after=0, clients={CLIENT_ID: SECRET})
    counter = _Concurrency(app)
    try:
        with serve_in_thread(counter) as url:
            async with connect_as(url) as client:
                ws = await new_workspace(client)
                other = await new_workspace(client, "Other")
            kwargs = {"dask": two_workers, "shard_files": 3, "concurrency": 4, **creds(url)}
            bounded = await dd.upload_tree(src, ws, cluster_concurrency=1, **kwargs)
            assert bounded.succeeded == 24
            assert counter.peak == 1
            counter.peak = 0
            free = await dd.upload_tree(src, other, **kwargs)
            assert free.succeeded == 24
            assert counter.peak > 1
    finally:
        app.state.emulator.close()
    names = two_workers.run_on_scheduler(
        lambda dask_scheduler: list(dask_scheduler.extensions["semaphores"].max_leases)
    )
    assert not [n for n in names if n.startswith("intralinks-budget-")]


async def test_dry_run_plans_without_the_cluster_and_sends_nothing(
    tmp_path: Path, emulator_server: tuple[Any, str]
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    build_tree(src, 5, big=0)
    async with connect(url) as client:
        ws = await new_workspace(client)
    nowhere = "tcp://127.0.0.1:9"  # no scheduler: a dry run must not need one
    report = await dd.upload_tree(src, ws, dask=nowhere, dry_run=True, **creds(url))
    assert report.dry_run and len(report.planned) >= 5
    assert remote_documents(app, ws) == []
    down = await dd.download_tree(ws, tmp_path / "mirror", dask=nowhere, dry_run=True, **creds(url))
    assert down.dry_run and not (tmp_path / "mirror").exists()


async def test_a_shard_dask_gave_up_on_is_submitted_again(tmp_path: Path) -> None:
    """With ``allowed-failures`` 0 one death makes Dask raise KilledWorker at once."""
    import dask
    import distributed

    src = tmp_path / "room"
    build_tree(src, 40, big=0)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
        served(latency=0.02, clients={CLIENT_ID: SECRET}) as (app, url),
    ):
        victim = sorted(client.run(os.getpid).items())[0][1]
        killed: list[int] = []

        def progress(event: Any) -> None:
            if not killed and event.items_done >= 10:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        async with connect_as(url) as api:
            ws = await new_workspace(api)
        report = await dd.upload_tree(
            src, ws, dask=cluster.scheduler_address, shard_files=5, concurrency=2,
            progress=progress, **creds(url),
        )  # fmt: skip
        assert killed and report.ok, report.to_dict()
        _assert_landed_once(app, ws, src)
        keys = client.run_on_scheduler(
            lambda dask_scheduler: [str(e[0]) for e in dask_scheduler.transition_log]
        )
    numbers = Counter(k.split("-")[2] for k in set(keys) if k.startswith("intralinks-shard-"))
    assert any(n > 1 for n in numbers.values()), numbers  # one shard ran under a second key


async def test_names_and_manifest_match_a_single_process_run(
    tmp_path: Path, emulator_server: tuple[Any, str], two_workers: Any
) -> None:
    from intralinks_async.transfers.manifest import read_manifest

    app, url = emulator_server
    src = tmp_path / "room"
    (src / 'Q3 "draft"').mkdir(parents=True)
    (src / 'Q3 "draft"' / "a:b?.txt").write_bytes(b"odd name")
    (src / 'Q3 "draft"' / "plain.txt").write_bytes(b"plain")
    (src / "top.bin").write_bytes(os.urandom(2000))
    async with connect(url) as client:
        ws_single = await new_workspace(client, "Single")
        ws_dask = await new_workspace(client, "Dask")
        single = await client.transfers.upload_tree(src, ws_single, manifest=tmp_path / "s.jsonl")
    sharded = await dd.upload_tree(
        src, ws_dask, dask=two_workers, manifest=tmp_path / "d.jsonl", shard_files=1, **creds(url)
    )
    assert sharded.ok and sharded.succeeded == single.succeeded == 3
    assert sorted(sharded.renamed) == sorted(single.renamed) and sharded.renamed

    def rows(path: Path) -> list[tuple[Any, ...]]:
        records = list(read_manifest(path))
        return sorted(
            (r.local_path, r.remote_path, r.result, r.size, r.sha256, r.server_hash, r.renamed_from)
            for r in records
        )

    assert rows(tmp_path / "d.jsonl") == rows(tmp_path / "s.jsonl")
    assert all(r[4] for r in rows(tmp_path / "d.jsonl"))  # SHA-256 computed on the workers

    mirror = tmp_path / "mirror"
    down = await dd.download_tree(
        ws_dask, mirror, dask=two_workers, manifest=tmp_path / "m.jsonl", **creds(url)
    )
    assert down.ok and down.succeeded == 3
    assert tree_hashes(mirror / "room") == tree_hashes(src)  # names back exactly
    results = {r.local_path: r.result for r in read_manifest(tmp_path / "m.jsonl")}
    assert results == {f"room/{key}": "downloaded" for key in tree_hashes(src)}


async def test_a_single_process_journal_is_resumed_by_a_distributed_run(
    tmp_path: Path, emulator_server: tuple[Any, str], two_workers: Any
) -> None:
    app, url = emulator_server
    src = tmp_path / "room"
    build_tree(src, 20, big=0)
    journal = tmp_path / "j.db"
    async with connect(url) as client:
        ws = await new_workspace(client)
        first = await client.transfers.upload_tree(src, ws, journal=journal)
    assert first.succeeded == 20
    requests = Counter(app.state.emulator.requests)
    again = await dd.upload_tree(src, ws, dask=two_workers, journal=journal, **creds(url))
    assert (again.succeeded, again.skipped) == (0, 20)
    new = Counter(app.state.emulator.requests) - requests
    assert new["uploadDocument"] == 0 and new["listDocuments"] == 0
    mirror = tmp_path / "mirror"
    down_journal = tmp_path / "d.db"
    down = await dd.download_tree(ws, mirror, dask=two_workers, journal=down_journal, **creds(url))
    assert down.succeeded == 20
    async with connect(url) as client:
        back = await client.transfers.download_tree(ws, mirror, journal=down_journal)
    assert (back.succeeded, back.skipped) == (0, 20)


async def test_workers_throttled_by_the_server_still_land_everything_once(
    tmp_path: Path, two_workers: Any
) -> None:
    """Every worker's client paces itself on the server's 429s; their states are summed."""
    src = tmp_path / "room"
    build_tree(src, 40, big=0)
    with served(rate_limit=15.0, clients={CLIENT_ID: SECRET}) as (app, url):
        async with connect_as(url) as client:
            ws = await new_workspace(client)
        report = await dd.upload_tree(
            src, ws, dask=two_workers, shard_files=5, concurrency=4, **creds(url)
        )
        assert report.ok, report.to_dict()
        _assert_landed_once(app, ws, src)
        throttled = app.state.emulator.rate_limiter.throttled
    assert throttled > 0  # the server did push back
    state = report.rate_control
    assert state is not None and set(state["workers"]) <= set(
        two_workers.scheduler_info()["workers"]
    )
    assert state["throttled"] >= 1 and state["requests"] >= 40
