"""Throttled bulk work: the SDK against the emulator behind a token-bucket rate limit.

The emulator (over loopback, uvicorn in a thread) answers API requests beyond a token
bucket of ``--rate`` requests/s (burst ``--burst``) with 429 + ``Retry-After: 1``. Two
workloads run at concurrency 8, 32 and 128, each ``--runs`` times:

  upload    ``client.transfers.upload_tree`` of ``--files`` small files (one folder level
            per 100 files), into a fresh workspace
  get       a storm of ``--gets`` ``workspaces.get`` calls, all started at once and held
            to the concurrency by a semaphore

Columns: wall time / ideal (ideal = requests the server accepted / rate, i.e. the least
time the limit allows), 429s answered (total, and share of the requests sent after the
first 5 s, "once learned"), failed items, duplicate documents (same folder, same name),
and the ceiling the client learned (the rate it met at its last reduction). Medians over
the runs.
Targets: wall/ideal <= 1.2 at every concurrency, 0 failed, 0 duplicate, < 5% 429 once learned.

Usage: ``python bench/throttle_bench.py [--runs 3] [--files 3000] [--gets 3000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intralinks_async import IntralinksClient
from intralinks_async._pipeline import AttemptRecord
from intralinks_async.models import Workspace
from intralinks_async.testing import RateLimit, create_app, serve_in_thread

CONCURRENCY = (8, 32, 128)
LEARNED_AFTER = 5.0  # seconds: 429s after this are "once learned"


@dataclass
class Run:
    wall: float
    ideal: float
    throttled: int
    late_share: float
    failed: int
    duplicates: int
    learned: float | None

    @property
    def ratio(self) -> float:
        return self.wall / self.ideal


class Attempts:
    """An on_attempt hook: when each attempt ended and whether it was throttled."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.late = 0
        self.late_throttled = 0

    def __call__(self, record: AttemptRecord) -> None:
        if time.monotonic() - self.start >= LEARNED_AFTER:
            self.late += 1
            self.late_throttled += record.throttled

    @property
    def share(self) -> float:
        return self.late_throttled / self.late if self.late else 0.0


def make_tree(root: Path, files: int) -> Path:
    tree = root / "dataroom"
    for i in range(files):
        folder = tree / f"d{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file-{i:05d}.txt").write_bytes(f"document {i}\n".encode())
    return tree


async def run_upload(url: str, emu: object, tree: Path, concurrency: int, rate: float) -> Run:
    attempts = Attempts()
    async with IntralinksClient(
        url, client_id="demo", client_secret="demo-secret", on_attempt=[attempts]
    ) as client:
        ws = await client.workspaces.create(body=Workspace(name=f"bench-{concurrency}"))
        limiter = emu.rate_limiter  # type: ignore[attr-defined]
        admitted0, throttled0 = limiter.admitted, limiter.throttled
        attempts.start = start = time.monotonic()
        report = await client.transfers.upload_tree(tree, str(ws.id), concurrency=concurrency)
        wall = time.monotonic() - start
        learned = client.rate_control.snapshot().learned
    accepted = limiter.admitted - admitted0
    return Run(
        wall=wall,
        ideal=accepted / rate,
        throttled=limiter.throttled - throttled0,
        late_share=attempts.share,
        failed=report.failed,
        duplicates=sum(n - 1 for n in emu.duplicates().values()),  # type: ignore[attr-defined]
        learned=learned,
    )


async def run_gets(
    url: str, emu: object, ws_id: str, gets: int, concurrency: int, rate: float
) -> Run:
    attempts = Attempts()
    failed = 0
    async with IntralinksClient(
        url, client_id="demo", client_secret="demo-secret", on_attempt=[attempts]
    ) as client:
        await client.workspaces.get(ws_id)  # token, connection
        limiter = emu.rate_limiter  # type: ignore[attr-defined]
        admitted0, throttled0 = limiter.admitted, limiter.throttled
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            nonlocal failed
            async with gate:
                try:
                    await client.workspaces.get(ws_id)
                except Exception:
                    failed += 1

        attempts.start = start = time.monotonic()
        await asyncio.gather(*(one() for _ in range(gets)))
        wall = time.monotonic() - start
        learned = client.rate_control.snapshot().learned
    accepted = limiter.admitted - admitted0
    return Run(
        wall, accepted / rate, limiter.throttled - throttled0, attempts.share, failed, 0, learned
    )


def row(name: str, concurrency: int, runs: list[Run]) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    learned = [r.learned for r in runs if r.learned is not None]
    return (
        f"{name:<8}{concurrency:>6}{med([r.wall for r in runs]):>9.1f}{med([r.ideal for r in runs]):>9.1f}"
        f"{med([r.ratio for r in runs]):>8.2f}x{med([r.throttled for r in runs]):>8.0f}"
        f"{100 * med([r.late_share for r in runs]):>9.1f}%{max(r.failed for r in runs):>8}"
        f"{max(r.duplicates for r in runs):>6}"
        f"{(f'{med(learned):.0f}/s' if learned else '-'):>10}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--gets", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--burst", type=float, default=20.0)
    parser.add_argument("--only", choices=("upload", "get"), default=None)
    args = parser.parse_args()
    app = create_app(rate_limit=RateLimit(rate=args.rate, burst=args.burst, retry_after=1))
    emu = app.state.emulator
    [ws_id] = emu.seed_workspaces(1)
    results: dict[tuple[str, int], list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="throttle-bench-") as root, serve_in_thread(app) as url:
        tree = make_tree(Path(root), args.files)
        for run_no in range(args.runs):
            for concurrency in CONCURRENCY:
                if args.only in (None, "upload"):
                    emu.set_rate_limit(RateLimit(rate=args.rate, burst=args.burst, retry_after=1))
                    r = asyncio.run(run_upload(url, emu, tree, concurrency, args.rate))
                    results.setdefault(("upload", concurrency), []).append(r)
                    print(f"run {run_no + 1} upload c={concurrency}: {r}", file=sys.stderr)
                if args.only in (None, "get"):
                    emu.set_rate_limit(RateLimit(rate=args.rate, burst=args.burst, retry_after=1))
                    r = asyncio.run(run_gets(url, emu, ws_id, args.gets, concurrency, args.rate))
                    results.setdefault(("get", concurrency), []).append(r)
                    print(f"run {run_no + 1} get c={concurrency}: {r}", file=sys.stderr)
    print(
        f"\nemulator behind {args.rate:g} req/s (burst {args.burst:g}, 429 + Retry-After: 1); "
        f"upload_tree of {args.files} files, {args.gets} workspaces.get; medians of {args.runs} runs"
    )
    header = (
        f"{'work':<8}{'conc':>6}{'wall s':>9}{'ideal s':>9}{'ratio':>9}{'429s':>8}"
        f"{'429 late':>10}{'failed':>8}{'dups':>6}{'learned':>10}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for (name, concurrency), runs in results.items():
        print(row(name, concurrency, runs))
        ok &= statistics.median(r.ratio for r in runs) <= 1.2
        ok &= all(r.failed == 0 and r.duplicates == 0 for r in runs)
        ok &= statistics.median(r.late_share for r in runs) < 0.05
    print(
        f"\ntargets (ratio <= 1.2, 0 failed, 0 dups, < 5% 429 once learned): {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
