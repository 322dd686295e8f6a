"""Per-file speed of tree transfers against raw aiohttp clients, measured in the same run.

The emulator runs in its own process (its CLI, through ``serve_in_subprocess``) so the
server does not share this process's GIL. For each tree size (files of 1-8 KiB, 100
files per folder), after an untimed warm-up upload, and for each repetition (the two
clients taking turns going first):

* ``upload_tree`` (concurrency 32, with a journal) and the raw aiohttp uploader of
  ``bench/_raw_tree.py``, each into a fresh workspace;
* ``download_tree`` (concurrency 32, with a journal) and the raw "durable" downloader
  (temporary file, fsync, rename, SHA-1 check) of the tree the SDK uploaded.

And, with ``--latency`` seconds added to every request (default 0.05), a 2,000-file
``upload_tree`` in 100 folders (20 files each) against its ideal ``levels x latency + files x latency /
concurrency`` (the raw uploader's ratio too). That case runs first: the throughput cases
delete hundreds of thousands of files when they end, and on some file systems (ext4
without a journal) creating files is then slow for a while (recently freed inodes are
stepped over one by one), which would charge the latency case for the previous cases.

Printed: files/s (medians of ``--repeat``, default 3), the SDK/raw ratios, the SDK's
files/s at the largest size over the smallest (flatness) and the latency ratios. Usage:
``python bench/tree_bench.py [--sizes 2000,10000,40000] [--repeat 3] [--only-latency]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _raw_tree import raw_download, raw_upload  # noqa: E402

from intralinks_async import IntralinksClient  # noqa: E402
from intralinks_async.models import Workspace  # noqa: E402
from intralinks_async.testing import serve_in_subprocess  # noqa: E402

CONCURRENCY = 32
PER_FOLDER = 100


def make_tree(root: Path, files: int, seed: int = 7, per_folder: int = PER_FOLDER) -> None:
    """``files`` files of 1-8 KiB, ``per_folder`` per folder."""
    rng = random.Random(seed)
    for i in range(files):
        folder = root / f"folder {i // per_folder:04}"
        if i % per_folder == 0:
            folder.mkdir(parents=True)
        (folder / f"doc {i:06}.bin").write_bytes(rng.randbytes(rng.randint(1024, 8192)))


async def _client(url: str) -> IntralinksClient:
    return IntralinksClient(url, client_id="demo", client_secret="demo-secret")


async def _workspace(url: str, name: str) -> str:
    async with await _client(url) as client:
        ws = await client.workspaces.create(body=Workspace(name=name, type="ATC"))
        assert isinstance(ws.id, str)
        return ws.id


async def _timed(call: Awaitable[int], expected: int) -> float:
    started = time.perf_counter()
    done = await call
    elapsed = time.perf_counter() - started
    if done != expected:
        raise RuntimeError(f"transferred {done} of {expected}")
    return elapsed


async def sdk_upload(url: str, ws: str, src: Path, journal: Path) -> int:
    async with await _client(url) as client:
        report = await client.transfers.upload_tree(
            src, ws, concurrency=CONCURRENCY, journal=journal
        )
    if not report.ok:
        raise RuntimeError(f"upload_tree failed: {report.failures[:3]}")
    return report.succeeded


async def sdk_download(url: str, ws: str, dest: Path, journal: Path) -> int:
    async with await _client(url) as client:
        report = await client.transfers.download_tree(
            ws, dest, concurrency=CONCURRENCY, journal=journal
        )
    if not report.ok:
        raise RuntimeError(f"download_tree failed: {report.failures[:3]}")
    return report.succeeded


def _fresh(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    return path


async def bench_size(tmp: Path, files: int, repeat: int) -> dict[str, Any]:
    src = tmp / f"src-{files}" / "room"
    make_tree(src, files)
    runs: dict[str, list[float]] = {"up": [], "raw_up": [], "down": [], "raw_down": []}
    with serve_in_subprocess() as url:
        # Warm-up (not timed): a fresh emulator's first thousands of documents cost it
        # more than the later ones, which would charge whichever client ran first.
        warm_ws = await _workspace(url, f"warm-up {files}")
        await raw_upload(url, warm_ws, src, CONCURRENCY)
        sdk_ws = ""
        for r in range(repeat):
            # The two clients take turns going first.
            for kind in ("sdk", "raw") if r % 2 == 0 else ("raw", "sdk"):
                ws = await _workspace(url, f"{kind} {files} {r}")
                if kind == "sdk":
                    journal = tmp / f"up-{files}-{r}.db"
                    runs["up"].append(await _timed(sdk_upload(url, ws, src, journal), files))
                    sdk_ws = sdk_ws or ws
                else:
                    up = raw_upload(url, ws, src, CONCURRENCY)
                    runs["raw_up"].append(await _timed(up, files))
        for r in range(repeat):
            for kind in ("sdk", "raw") if r % 2 == 0 else ("raw", "sdk"):
                dest = _fresh(tmp / "mirror")
                if kind == "sdk":
                    journal = tmp / f"down-{files}-{r}.db"
                    down = sdk_download(url, sdk_ws, dest, journal)
                    runs["down"].append(await _timed(down, files))
                else:
                    down = raw_download(url, sdk_ws, dest, CONCURRENCY)
                    runs["raw_down"].append(await _timed(down, files))
        _fresh(tmp / "mirror")
    shutil.rmtree(src.parent)
    rates = {k: files / statistics.median(v) for k, v in runs.items()}
    return {"files": files, **rates}


async def bench_latency(
    tmp: Path, latency: float, repeat: int, files: int = 2000
) -> dict[str, Any]:
    src = tmp / "src-latency" / "room"
    per_folder = files // 100  # 100 folders
    make_tree(src, files, per_folder=per_folder)
    folders = -(-files // per_folder)
    ideal = 2 * latency + files * latency / CONCURRENCY  # levels: the top folder, its children
    sdk: list[float] = []
    raw: list[float] = []
    with serve_in_subprocess(latency=latency) as url:
        for r in range(repeat):
            for kind in ("sdk", "raw") if r % 2 == 0 else ("raw", "sdk"):
                ws = await _workspace(url, f"lat {kind} {r}")
                if kind == "sdk":
                    journal = tmp / f"lat-{r}.db"
                    sdk.append(await _timed(sdk_upload(url, ws, src, journal), files))
                else:
                    raw.append(await _timed(raw_upload(url, ws, src, CONCURRENCY), files))
    shutil.rmtree(src.parent)
    return {
        "files": files,
        "folders": folders,
        "ideal": ideal,
        "sdk": statistics.median(sdk),
        "raw": statistics.median(raw),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000,40000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--only-latency", action="store_true", help="run the latency case only")
    args = parser.parse_args()
    sizes = [] if args.only_latency else [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="tree-bench-", dir=os.environ.get("BENCH_TMP")) as d:
        tmp = Path(d)
        lat = asyncio.run(bench_latency(tmp, args.latency, args.repeat))
        rows = [asyncio.run(bench_size(tmp, n, args.repeat)) for n in sizes]
    if rows:
        _print_sizes(rows, args.repeat)
    print(
        f"latency {args.latency * 1000:.0f} ms, {lat['files']} files in {lat['folders']} "
        f"folders: ideal {lat['ideal']:.2f}s, upload_tree {lat['sdk']:.2f}s "
        f"({lat['sdk'] / lat['ideal']:.2f}x), raw {lat['raw']:.2f}s "
        f"({lat['raw'] / lat['ideal']:.2f}x)"
    )


def _print_sizes(rows: list[dict[str, Any]], repeat: int) -> None:
    print(f"tree transfers, files of 1-8 KiB, concurrency {CONCURRENCY}, journal on, "
          f"medians of {repeat} (files/s)")  # fmt: skip
    print(f"{'files':>7} {'upload':>8} {'raw up':>8} {'ratio':>6} "
          f"{'download':>9} {'raw down':>9} {'ratio':>6}")  # fmt: skip
    for row in rows:
        print(
            f"{row['files']:>7} {row['up']:>8.0f} {row['raw_up']:>8.0f} "
            f"{row['up'] / row['raw_up']:>6.2f} {row['down']:>9.0f} {row['raw_down']:>9.0f} "
            f"{row['down'] / row['raw_down']:>6.2f}"
        )
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(
            f"flatness ({last['files']} vs {first['files']} files): upload "
            f"{last['up'] / first['up']:.2f}, download {last['down'] / first['down']:.2f}"
        )


if __name__ == "__main__":
    main()
