"""Emulator memory and throughput for a large document over loopback HTTP.

Starts the emulator (``intralinks-async emulator``) in a subprocess, uploads a document
of ``--size`` bytes (generated on disk, streamed by the client as multipart), downloads
it back (streamed, counted), and reads the server process's peak RSS (``VmHWM`` from
``/proc/<pid>/status``). The baseline, in the same run, is a stock Starlette server doing
the same job the textbook way (``await request.form()`` + copy to disk, ``FileResponse``).
Each repeat uses fresh server processes; the table shows medians and ratios.

    .venv/bin/python bench/emulator_rss.py [--size-mib 1024] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BOUNDARY = "benchboundary7c1e"
CHUNK = 1024 * 1024

BASELINE_APP = r"""
import os, shutil, sys, uuid
import uvicorn
from starlette.applications import Starlette
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Route

DATA = sys.argv[2]

async def upload(request):
    form = await request.form()
    upload = form["file"]
    path = os.path.join(DATA, uuid.uuid4().hex)
    with open(path, "wb") as out:
        shutil.copyfileobj(upload.file, out, 1024 * 1024)
    await form.close()
    return JSONResponse({"id": os.path.basename(path), "fileSize": os.path.getsize(path)}, status_code=201)

async def download(request):
    return FileResponse(os.path.join(DATA, request.path_params["doc"]))

app = Starlette(routes=[Route("/upload", upload, methods=["POST"]), Route("/download/{doc}", download)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def current_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def make_source(path: Path, size: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as fh:
        remaining = size
        while remaining > 0:
            n = min(CHUNK, remaining)
            fh.write(block[:n])
            remaining -= n


def multipart_body(path: Path, size: int, folder_id: str | None) -> tuple[Iterator[bytes], int]:
    head = b""
    if folder_id is not None:
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n{folder_id}\r\n'
        ).encode()
    head += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def gen() -> Iterator[bytes]:
        yield head
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
        yield tail

    return gen(), len(head) + size + len(tail)


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def run_once(kind: str, source: Path, size: int, data_dir: str) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if kind == "emulator":
        cmd = [sys.executable, "-m", "intralinks_async.cli", "emulator", "--port", str(port),
               "--data-dir", data_dir, "--log-level", "warning"]  # fmt: skip
    else:
        cmd = [sys.executable, "-c", BASELINE_APP, str(port), data_dir]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_up(base + "/", proc)
        idle = current_rss_mib(proc.pid)
        headers: dict[str, str] = {}
        folder_id = None
        with httpx.Client(base_url=base, timeout=600) as http:
            if kind == "emulator":
                tok = http.post(
                    "/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": "demo",
                        "client_secret": "demo-secret",
                    },
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {tok}"}
                ws = http.post("/workspaces", json={"name": "bench"}, headers=headers).json()["id"]
                folder_id = http.post(
                    f"/workspaces/{ws}/folders", json={"name": "F"}, headers=headers
                ).json()["id"]
                up_url = f"/workspaces/{ws}/documents"
            else:
                up_url = "/upload"
            body, length = multipart_body(source, size, folder_id)
            t0 = time.perf_counter()
            r = http.post(
                up_url,
                content=body,
                headers={
                    **headers,
                    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                    "Content-Length": str(length),
                },
            )
            upload_s = time.perf_counter() - t0
            assert r.status_code == 201, r.text
            doc = r.json()
            assert doc["fileSize"] == size, doc
            dl_url = (
                f"/workspaces/{ws}/documents/{doc['id']}/download"
                if kind == "emulator"
                else f"/download/{doc['id']}"
            )
            t0 = time.perf_counter()
            got = 0
            with http.stream("GET", dl_url, headers=headers) as resp:
                assert resp.status_code == 200
                for chunk in resp.iter_raw(CHUNK):
                    got += len(chunk)
            download_s = time.perf_counter() - t0
            assert got == size, (got, size)
        peak = peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    mib = size / 2**20
    return {"idle": idle, "peak": peak, "up": mib / upload_s, "down": mib / download_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * 2**20
    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as tmp:
        source = Path(tmp) / "source.bin"
        make_source(source, size)
        results: dict[str, list[dict[str, float]]] = {"emulator": [], "baseline": []}
        for i in range(args.repeat):
            for kind in ("emulator", "baseline"):
                data_dir = tempfile.mkdtemp(dir=tmp, prefix=f"{kind}-{i}-")
                res = run_once(kind, source, size, data_dir)
                results[kind].append(res)
                print(f"run {i + 1}/{args.repeat} {kind:8s} peak RSS {res['peak']:7.1f} MiB  "
                      f"up {res['up']:7.1f} MiB/s  down {res['down']:7.1f} MiB/s", file=sys.stderr)  # fmt: skip
                subprocess.run(["rm", "-rf", data_dir], check=True)

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    print(f"\nDocument: {args.size_mib} MiB, {args.repeat} runs each, medians "
          "(baseline: stock Starlette request.form() + FileResponse)\n")  # fmt: skip
    print(f"{'metric':28s} {'emulator':>12s} {'baseline':>12s} {'ratio':>8s}")
    rows = [
        ("server RSS idle (MiB)", "idle"),
        ("server peak RSS (MiB)", "peak"),
        ("upload throughput (MiB/s)", "up"),
        ("download throughput (MiB/s)", "down"),
    ]
    for label, key in rows:
        e, b = med("emulator", key), med("baseline", key)
        print(f"{label:28s} {e:12.1f} {b:12.1f} {e / b:8.2f}x")
    peak = med("emulator", "peak")
    verdict = "OK" if peak < 200 else "OVER"
    print(f"\nemulator peak RSS target < 200 MiB: {verdict} ({peak:.1f} MiB)")


if __name__ == "__main__":
    main()
