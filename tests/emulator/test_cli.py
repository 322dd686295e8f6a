"""The ``intralinks-async emulator`` command."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from intralinks_async.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com"])
def test_non_loopback_bind_is_refused(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--host", host]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_bad_client_spec_is_refused() -> None:
    assert main(["emulator", "--client", "nosecret"]) == 2


def test_serves_with_options(tmp_path: object) -> None:
    port = _free_port()
    cmd = [
        sys.executable, "-m", "intralinks_async.cli", "emulator", "--port", str(port),
        "--token-ttl", "120", "--no-ranges", "--client", "acme:s3cret", "--data-dir", str(tmp_path),
        "--fault-rate", "0", "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        form = {"grant_type": "client_credentials", "client_id": "acme", "client_secret": "s3cret"}
        deadline = time.monotonic() + 20
        while True:
            try:
                r = httpx.post(base + "/oauth/token", data=form)
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        assert r.status_code == 200 and r.json()["expires_in"] == 120
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        ws = httpx.post(base + "/workspaces", json={"name": "cli"}, headers=h).json()["id"]
        f = httpx.post(f"{base}/workspaces/{ws}/folders", json={"name": "F"}, headers=h).json()[
            "id"
        ]
        doc = httpx.post(
            f"{base}/workspaces/{ws}/documents",
            files={"file": ("a.txt", b"0123456789")},
            data={"folderId": f},
            headers=h,
        ).json()
        r = httpx.get(
            f"{base}/workspaces/{ws}/documents/{doc['id']}/download",
            headers={**h, "Range": "bytes=0-1"},
        )
        assert r.status_code == 200 and r.content == b"0123456789"  # --no-ranges
        assert (tmp_path / "blobs").is_dir()  # type: ignore[operator]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_in_subprocess_passes_options() -> None:
    from intralinks_async.testing import serve_in_subprocess

    with serve_in_subprocess(
        token_ttl=77, ranges=False, clients={"acme": "pw"}, fault_rate=0.0
    ) as base:
        form = {"grant_type": "client_credentials", "client_id": "acme", "client_secret": "pw"}
        r = httpx.post(base + "/oauth/token", data=form)
        assert r.status_code == 200 and r.json()["expires_in"] == 77
    with pytest.raises(TypeError), serve_in_subprocess(colour="blue"):
        pass
    with pytest.raises(ValueError), serve_in_subprocess(host="0.0.0.0"):
        pass


def _token(base: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo-secret"}
    return {
        "Authorization": f"Bearer {httpx.post(base + '/oauth/token', data=form).json()['access_token']}"
    }


def test_serve_in_subprocess_rate_limit_and_outage() -> None:
    from intralinks_async.testing import Outage, RateLimit, serve_in_subprocess

    with serve_in_subprocess(
        rate_limit=RateLimit(rate=0.001, burst=2, retry_after=7),
        outage=Outage(duration=600, kind="503", operations=frozenset({"createWorkspace"})),
    ) as base:
        h = _token(base)
        assert httpx.post(base + "/workspaces", json={"name": "x"}, headers=h).status_code == 503
        codes = [httpx.get(base + "/workspaces", headers=h) for _ in range(3)]
        assert [r.status_code for r in codes] == [200, 200, 429]  # the 503 took no token
        assert codes[2].headers["retry-after"] == "7"
        stats = httpx.get(base + "/_emulator/stats").json()
        assert stats["throttled"] == 1 and stats["outage_failures"] == {"503": 1}
        assert stats["rate_limit"] == {"rate": 0.001, "burst": 2.0, "retry_after": 7}
    with (
        pytest.raises(ValueError),
        serve_in_subprocess(rate_limit=RateLimit(rate=1, retry_after=2), retry_after=3),
    ):
        pass


def test_throttling_flags_are_validated(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--rate-limit", "0"]) == 2
    assert "rate" in capsys.readouterr().err
    assert main(["emulator", "--burst", "3"]) == 2
    assert "--burst needs --rate-limit" in capsys.readouterr().err
    assert main(["emulator", "--outage-for", "-1"]) == 2
    with pytest.raises(SystemExit):
        main(["emulator", "--outage-kind", "500"])
    with pytest.raises(SystemExit):
        main(["emulator", "--retry-after", "-1"])


# -- process hygiene: signals, clean-up, a port in use -------------------------------------


def _spawn(tmp_path: Any, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """Start the emulator CLI with TMPDIR inside ``tmp_path``; returns it and its base URL."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "intralinks_async.testing._cli", "--port", "0",
           "--log-level", "warning", *extra]  # fmt: skip
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    banner = proc.stderr.readline()
    match = re.search(r"on (http://127\.0\.0\.1:\d+) ", banner)
    assert match, banner
    return proc, match.group(1)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_quietly_and_remove_temporary_data(tmp_path: Any, sig: int) -> None:
    proc, base = _spawn(tmp_path)
    try:
        h = _token(base)
        assert httpx.post(base + "/workspaces", json={"name": "x"}, headers=h).status_code == 201
        assert len(list((tmp_path / "tmp").iterdir())) == 1  # the temporary data dir
        # a client holding a keep-alive connection does not keep the server up
        held = httpx.Client(base_url=base, headers=h)
        held.get("/workspaces")
        proc.send_signal(sig)
        rc = proc.wait(timeout=15)
        held.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    assert rc == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert list((tmp_path / "tmp").iterdir()) == []


def test_sigterm_during_an_upload_in_flight(tmp_path: Any) -> None:
    proc, base = _spawn(tmp_path)
    try:
        h = _token(base)
        ws = httpx.post(base + "/workspaces", json={"name": "x"}, headers=h).json()["id"]
        folder = httpx.post(f"{base}/workspaces/{ws}/folders", json={"name": "F"}, headers=h)
        host, port = base.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)))
        boundary = "b0undary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="folderId"\r\n\r\n'
            f"{folder.json()['id']}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="big.bin"\r\n\r\n'
        ).encode()
        sock.sendall(
            f"POST /workspaces/{ws}/documents HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {h['Authorization']}\r\nContent-Length: 100000000\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode()
            + head
            + b"x" * 100_000
        )  # ... and never finished
        deadline = time.monotonic() + 10
        while not any((tmp_path / "tmp").glob("*/tmp/*.part")) and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
        sock.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    assert rc == 0 and "Traceback" not in err, err
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_given_data_dir_is_kept_on_sigint(tmp_path: Any) -> None:
    data = tmp_path / "rooms"
    proc, base = _spawn(tmp_path, "--data-dir", str(data))
    try:
        httpx.post(base + "/workspaces", json={"name": "kept"}, headers=_token(base))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert b"kept" in (data / "state" / "snapshot.jsonl").read_bytes()


def test_port_in_use_is_one_line_before_any_banner(tmp_path: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "TMPDIR": str(tmp_path)}
        cmd = [sys.executable, "-m", "intralinks_async.testing._cli", "--port", str(port)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in lines[0] and "in use" in lines[0]
    assert list(tmp_path.iterdir()) == []  # the temporary data dir was removed


def test_console_script_subcommand_binds_before_the_banner(tmp_path: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = "import sys; from intralinks_async.cli import main; sys.exit(main(sys.argv[1:]))"
        cmd = [sys.executable, "-c", code, "emulator", "--port", str(port)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Intralinks emulator on" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_data_dir_in_use_or_unusable_is_one_line(tmp_path: Any) -> None:
    data = tmp_path / "rooms"
    proc, _ = _spawn(tmp_path, "--data-dir", str(data))
    try:
        cmd = [sys.executable, "-m", "intralinks_async.testing._cli", "--port", "0",
               "--data-dir", str(data)]  # fmt: skip
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert second.returncode == 2
    assert second.stderr.strip().splitlines() == [
        f"cannot use --data-dir: data dir {data} is in use by another emulator"
    ]
    a_file = tmp_path / "file"
    a_file.write_text("not a directory")
    cmd = [sys.executable, "-m", "intralinks_async.testing._cli", "--data-dir", str(a_file)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"cannot use --data-dir {a_file}: ")
