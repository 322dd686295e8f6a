"""The ``intralinks-async emulator`` command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

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
