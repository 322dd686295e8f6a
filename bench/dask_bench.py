"""Scaling of a distributed migration with 1, 2 and 4 Dask worker processes.

The workload is one where the work of each process is the bottleneck: a resume pass over
a tree of large files that already landed, with ``on_conflict="new_version"``, so each
worker reads and SHA-1-hashes every file of its shards to recognise it (one folder listing
per shard is all the server sees). ``concurrency=1`` per worker, so one process hashes one
file at a time. The emulator runs in a child process; the tree is uploaded once,
single-process, before the timed runs.

For each worker count a ``LocalCluster`` of that many single-threaded worker processes is
started (not timed), then ``distributed.upload_tree`` is timed ``--repeat`` times (median).
The table gives the hashing rate and the ratio of each median to the one-process median of
the same run. The ratio cannot exceed the cores free on the machine.

Usage: ``python bench/dask_bench.py [--files 48] [--size-mb 16] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from distributed import Client, LocalCluster  # noqa: E402

from intralinks_async import IntralinksClient  # noqa: E402
from intralinks_async.distributed import upload_tree  # noqa: E402
from intralinks_async.models import Workspace  # noqa: E402
from intralinks_async.testing import serve_in_subprocess  # noqa: E402

MiB = 1024 * 1024
CREDS = {"client_id": "demo", "client_secret": "demo-secret"}


def make_tree(root: Path, files: int, size: int) -> None:
    """``files`` files of ``size`` random bytes in 4 folders."""
    for i in range(files):
        folder = root / f"part-{i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file-{i:04d}.bin").write_bytes(os.urandom(size))


async def seed(url: str, src: Path) -> str:
    """Create a workspace and upload the tree once (single process)."""
    async with IntralinksClient(url, **CREDS) as client:
        ws = await client.workspaces.create(body=Workspace(name="Bench", type="ATC"))
        assert isinstance(ws.id, str)
        report = await client.transfers.upload_tree(src, ws.id, concurrency=4)
        assert report.ok, report.to_dict()
        return ws.id


async def timed_pass(url: str, src: Path, ws: str, address: str, files: int) -> float:
    start = time.perf_counter()
    report = await upload_tree(
        src,
        ws,
        dask=address,
        base_url=url,
        concurrency=1,
        on_conflict="new_version",
        shard_files=2,
        **CREDS,
    )
    elapsed = time.perf_counter() - start
    assert report.ok and report.skipped == files and report.succeeded == 0, report.to_dict()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=48)
    parser.add_argument("--size-mb", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="dask-bench-"))
    try:
        src = work / "room"
        make_tree(src, args.files, args.size_mb * MiB)
        total = args.files * args.size_mb * MiB
        with serve_in_subprocess(data_dir=str(work / "emulator")) as url:
            ws = asyncio.run(seed(url, src))
            medians: dict[int, float] = {}
            for n in counts:
                with (
                    LocalCluster(
                        n_workers=n, processes=True, threads_per_worker=1, dashboard_address=":0"
                    ) as cluster,
                    Client(cluster) as client,
                ):
                    client.wait_for_workers(n)
                    runs = [
                        asyncio.run(timed_pass(url, src, ws, cluster.scheduler_address, args.files))
                        for _ in range(args.repeat)
                    ]
                medians[n] = statistics.median(runs)
        cores = os.cpu_count()
        load = os.getloadavg()[0]
        print(
            f"resume pass, {args.files} files x {args.size_mb} MiB already landed, "
            f"SHA-1 on the workers; {cores} cores, load average {load:.1f} at the end"
        )
        print(f"{'workers':>8} {'median s':>9} {'MiB/s':>8} {'ratio vs 1':>11}")
        base = medians[counts[0]]
        for n in counts:
            rate = total / MiB / medians[n]
            print(f"{n:>8} {medians[n]:>9.2f} {rate:>8.0f} {base / medians[n]:>10.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
