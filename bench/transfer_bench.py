"""Transfer benchmarks, each against a baseline measured in the same run.

1. Peak RSS of a 512 MiB upload and a 512 MiB download (SDK in a child process, the
   emulator in another), above the child's own baseline (interpreter + SDK imported +
   client connected). Target: <= 64 MiB. For scale, a naive ``httpx`` ``response.content``
   download of the same document is measured too.
2. Wall time of a 128 MiB ``download_file`` (8 connections, default 8 MiB chunks) from
   nginx with ``limit_rate 16m`` per connection, against ``aria2c -x8 -s8`` and ``curl``.
   nginx serves the document's metadata as static JSON and its bytes with Range support;
   the client uses a static token. Target: within 1.2x of aria2c.
3. Documents per second uploading 2,000 files of 32 KiB to the emulator (child process):
   ``upload_tree`` at concurrency 32 against a raw aiohttp script posting the same
   multipart bodies at concurrency 32.

Medians over ``--repeat`` runs (default 3; at least 5 for the upload rate, which is noisy). Usage: ``python bench/transfer_bench.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from _nginx import Location, Nginx  # noqa: E402

from intralinks_async import IntralinksClient  # noqa: E402
from intralinks_async.models import Workspace  # noqa: E402
from intralinks_async.testing import serve_in_subprocess as emulator_process  # noqa: E402

MiB = 1024 * 1024
SECRET = "demo-secret"


def _write_random(path: Path, size: int) -> None:
    block = os.urandom(4 * MiB)
    with open(path, "wb") as fh:
        left = size
        while left > 0:
            n = min(left, len(block))
            fh.write(block[:n])
            left -= n
            block = block[17:] + block[:17]  # vary content between blocks cheaply


def _peak_mib() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited across fork+exec)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- 1. memory ------------------------------------------------------------------------------


async def _child(mode: str, url: str, ws: str, arg1: str, arg2: str) -> dict[str, float]:
    async with IntralinksClient(url, client_id="demo", client_secret=SECRET) as client:
        await client.workspaces.get(ws)  # connected, token fetched, models imported
        base = _peak_mib()
        if mode == "upload":
            await client.transfers.upload_file(ws, arg1, arg2, name="big.bin")
        elif mode == "download":
            await client.transfers.download_file(ws, arg1, arg2)
        else:  # naive: the whole body in memory, as the stock generated client does
            import httpx

            token = (
                await client.http.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "demo",
                        "client_secret": SECRET,
                    },
                )
            ).json()["access_token"]
            async with httpx.AsyncClient(base_url=url, timeout=None) as raw:
                r = await raw.get(
                    f"/workspaces/{ws}/documents/{arg1}/download",
                    headers={"Authorization": f"Bearer {token}"},
                )
                Path(arg2).write_bytes(r.content)
        return {"baseline_mib": base, "peak_mib": _peak_mib()}


def _run_child(mode: str, url: str, ws: str, arg1: str, arg2: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, url, ws, arg1, arg2],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_memory(tmp: Path, repeat: int) -> list[dict[str, Any]]:
    src = tmp / "big.bin"
    _write_random(src, 512 * MiB)
    bare = float(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))/1024)",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    rows: list[dict[str, Any]] = []
    with emulator_process() as url:

        async def setup() -> tuple[str, str]:
            async with IntralinksClient(url, client_id="demo", client_secret=SECRET) as c:
                ws = await c.workspaces.create(body=Workspace(name="bench", type="ATC"))
                from intralinks_async.models import Folder

                folder = await c.folders.create(ws.id, body=Folder(name="big"))
                return str(ws.id), str(folder.id)

        ws, folder = anyio.run(setup)
        ups, downs, naive = [], [], []
        doc_id = ""
        for _ in range(repeat):
            r = _run_child("upload", url, ws, folder, str(src))
            ups.append(r)

        async def first_doc() -> str:
            async with IntralinksClient(url, client_id="demo", client_secret=SECRET) as c:
                docs = await c.documents.list(ws, folder_id=folder)
                return str(docs[0].id)

        doc_id = anyio.run(first_doc)
        for _ in range(repeat):
            dest = tmp / "down.bin"
            downs.append(_run_child("download", url, ws, doc_id, str(dest)))
            assert dest.stat().st_size == 512 * MiB
            dest.unlink()
        dest = tmp / "naive.bin"
        naive.append(_run_child("naive", url, ws, doc_id, str(dest)))
        dest.unlink()

    def summarise(name: str, runs: list[dict[str, float]]) -> dict[str, Any]:
        delta = statistics.median(r["peak_mib"] - r["baseline_mib"] for r in runs)
        return {
            "name": name,
            "baseline": statistics.median(r["baseline_mib"] for r in runs),
            "peak": statistics.median(r["peak_mib"] for r in runs),
            "delta": delta,
            "bare": bare,
        }

    rows.append(summarise("upload 512 MiB (SDK)", ups))
    rows.append(summarise("download 512 MiB (SDK)", downs))
    rows.append(summarise("download 512 MiB (naive httpx .content)", naive))
    return rows


# -- 2. nginx ranged download ------------------------------------------------------------


def bench_nginx(tmp: Path, repeat: int) -> dict[str, float]:
    for tool in ("aria2c", "curl"):
        if shutil.which(tool) is None:
            subprocess.run(
                ["apt-get", "install", "-y", "-q", "aria2" if tool == "aria2c" else "curl"],
                capture_output=True,
                check=True,
            )
    size = 128 * MiB
    src = tmp / "doc128.bin"
    _write_random(src, size)
    meta = json.dumps({"id": "d1", "name": "doc128.bin", "folderId": "f1", "fileSize": size})
    locations = [
        Location(
            "= /workspaces/w1/documents/d1",
            default_type="application/json",
            directives=[f"return 200 '{meta}'"],
        ),
        Location(
            "= /workspaces/w1/documents/d1/download", limit_rate="16m", directives=[f"alias {src}"]
        ),
    ]
    times: dict[str, list[float]] = {"sdk": [], "aria2c": [], "aria2c-k1M": [], "curl": []}
    with Nginx(tmp, locations=locations) as server:
        file_url = server.url("/workspaces/w1/documents/d1/download")

        async def sdk(dest: Path) -> float:
            t0 = time.perf_counter()
            async with IntralinksClient(server.base_url, access_token="bench-token") as c:
                await c.transfers.download_file("w1", "d1", dest, concurrency=8)
            return time.perf_counter() - t0

        for _ in range(repeat):
            # Interleave the tools so drift hits them alike.
            dest = tmp / "out-sdk.bin"
            times["sdk"].append(anyio.run(sdk, dest))
            assert dest.stat().st_size == size
            dest.unlink()
            for key, extra in (("aria2c", []), ("aria2c-k1M", ["-k1M"])):
                dest = tmp / "out-aria.bin"
                t0 = time.perf_counter()
                subprocess.run(
                    [
                        "aria2c",
                        "-q",
                        "-x8",
                        "-s8",
                        *extra,
                        "--allow-overwrite=true",
                        "--file-allocation=none",
                        "-d",
                        str(tmp),
                        "-o",
                        dest.name,
                        file_url,
                    ],
                    check=True,
                )
                times[key].append(time.perf_counter() - t0)
                assert dest.stat().st_size == size
                dest.unlink()
            dest = tmp / "out-curl.bin"
            t0 = time.perf_counter()
            subprocess.run(["curl", "-s", "-o", str(dest), file_url], check=True)
            times["curl"].append(time.perf_counter() - t0)
            assert dest.stat().st_size == size
            dest.unlink()
    return {k: statistics.median(v) for k, v in times.items()}


# -- 3. many small uploads ------------------------------------------------------------------


def _multipart(folder_id: str, name: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n",
        f'--{boundary}\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{folder_id}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n{name}\r\n'.encode(),
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), boundary


async def _raw_aiohttp(
    url: str, ws: str, folder: str, files: list[tuple[str, bytes]], conc: int
) -> float:
    bodies = [_multipart(folder, n, d) for n, d in files]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=conc)) as session:
        async with session.post(
            f"{url}/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "demo",
                "client_secret": SECRET,
            },
        ) as r:
            token = (await r.json())["access_token"]
        queue = iter(bodies)
        t0 = time.perf_counter()

        async def worker() -> None:
            for body, boundary in queue:
                async with session.post(
                    f"{url}/workspaces/{ws}/documents",
                    data=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": f"multipart/form-data; boundary={boundary}",
                    },
                ) as resp:
                    await resp.read()
                    assert resp.status == 201, resp.status

        await asyncio.gather(*(worker() for _ in range(conc)))
        return time.perf_counter() - t0


def bench_small_uploads(
    tmp: Path, repeat: int, count: int = 2000, conc: int = 32
) -> dict[str, float]:
    room = tmp / "small"
    room.mkdir()
    files = []
    for i in range(count):
        data = os.urandom(32 * 1024)
        (room / f"doc-{i:05d}.bin").write_bytes(data)
        files.append((f"doc-{i:05d}.bin", data))
    rates: dict[str, list[float]] = {"sdk": [], "direct": [], "aiohttp": []}
    with emulator_process() as url:

        async def sdk_run() -> float:
            async with IntralinksClient(url, client_id="demo", client_secret=SECRET) as c:
                ws = await c.workspaces.create(body=Workspace(name="bench", type="ATC"))
                await c.workspaces.get(ws.id)
                t0 = time.perf_counter()
                report = await c.transfers.upload_tree(room, ws.id, concurrency=conc)
                elapsed = time.perf_counter() - t0
                assert report.ok and report.succeeded == count, report.to_dict()
                return elapsed

        async def direct_run() -> float:
            # The generated operation alone (no transfer layer), from bytes in memory.
            from intralinks_async._generated.models import UploadDocumentBody
            from intralinks_async._generated.types import File
            from intralinks_async.models import Folder

            async with IntralinksClient(url, client_id="demo", client_secret=SECRET) as c:
                ws = await c.workspaces.create(body=Workspace(name="bench", type="ATC"))
                folder = await c.folders.create(ws.id, body=Folder(name="small"))
                queue = iter(files)
                t0 = time.perf_counter()

                async def worker() -> None:
                    for name, data in queue:
                        body = UploadDocumentBody(
                            file=File(payload=data, file_name=name, size=len(data)),
                            folder_id=str(folder.id),
                            name=name,
                        )
                        await c.documents.upload(str(ws.id), body=body)

                async with anyio.create_task_group() as tg:
                    for _ in range(conc):
                        tg.start_soon(worker)
                return time.perf_counter() - t0

        async def raw_run() -> float:
            async with IntralinksClient(url, client_id="demo", client_secret=SECRET) as c:
                from intralinks_async.models import Folder

                ws = await c.workspaces.create(body=Workspace(name="bench", type="ATC"))
                folder = await c.folders.create(ws.id, body=Folder(name="small"))
            return await _raw_aiohttp(url, str(ws.id), str(folder.id), files, conc)

        ratios: list[float] = []
        for _ in range(repeat):
            # Interleaved rounds; the ratio is taken within each round (paired), since
            # the emulator's speed drifts as it fills up and with machine load.
            raw = count / anyio.run(raw_run)
            rates["aiohttp"].append(raw)
            rates["direct"].append(count / anyio.run(direct_run))
            rates["sdk"].append(count / anyio.run(sdk_run))
            ratios.append(rates["sdk"][-1] / raw)
    out = {k: statistics.median(v) for k, v in rates.items()}
    out["paired_ratio"] = statistics.median(ratios)
    out["direct_ratio"] = statistics.median(
        d / r for d, r in zip(rates["direct"], rates["aiohttp"], strict=True)
    )
    return out


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["memory", "nginx", "uploads"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["memory", "nginx", "uploads"])
    tmp = Path(tempfile.mkdtemp(prefix="transfer-bench-"))
    lines: list[str] = []
    try:
        if "memory" in only:
            mem = bench_memory(tmp, args.repeat)
            lines.append("Peak RSS (MiB), child process; delta = peak - baseline (target <= 64)")
            lines.append(f"{'case':44} {'bare py':>8} {'baseline':>9} {'peak':>8} {'delta':>8}")
            for r in mem:
                lines.append(
                    f"{r['name']:44} {r['bare']:8.1f} {r['baseline']:9.1f} {r['peak']:8.1f} {r['delta']:8.1f}"
                )
            lines.append("")
        if "nginx" in only:
            t = bench_nginx(tmp, args.repeat)
            lines.append("128 MiB from nginx, limit_rate 16m per connection (median seconds)")
            lines.append(f"{'client':44} {'seconds':>8} {'vs aria2c':>10} {'vs -k1M':>8}")
            for name, key in (
                ("SDK download_file (8 connections)", "sdk"),
                ("aria2c -x8 -s8", "aria2c"),
                ("aria2c -x8 -s8 -k1M (8 real splits)", "aria2c-k1M"),
                ("curl (1 connection)", "curl"),
            ):
                lines.append(
                    f"{name:44} {t[key]:8.2f} {t[key] / t['aria2c']:9.2f}x "
                    f"{t[key] / t['aria2c-k1M']:7.2f}x"
                )
            lines.append("")
        if "uploads" in only:
            u = bench_small_uploads(tmp, max(args.repeat, 5))  # noisy: emulator-bound
            lines.append("2,000 x 32 KiB uploads to the emulator, concurrency 32 (median docs/s;")
            lines.append("ratio = median of per-round ratios to raw aiohttp)")
            lines.append(f"{'client':44} {'docs/s':>8} {'vs raw':>10}")
            lines.append(
                f"{'SDK upload_tree (files on disk)':44} {u['sdk']:8.0f} {u['paired_ratio']:9.2f}x"
            )
            lines.append(
                f"{'SDK documents.upload (bytes, no transfer layer)':44} {u['direct']:8.0f} "
                f"{u['direct_ratio']:9.2f}x"
            )
            lines.append(
                f"{'raw aiohttp (same multipart bodies)':44} {u['aiohttp']:8.0f} {1.0:9.2f}x"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(anyio.run(_child, *sys.argv[2:7])))
    else:
        main()
