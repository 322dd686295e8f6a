"""The README's command-line walkthrough, verbatim, against a fresh emulator process."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from docs.snippets import DOC_PORT, ROOT, blocks  # tests/docs (the package beside this one)

MARKER = "<!-- walkthrough:"


def _walkthrough() -> str:
    readme = ROOT / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines()
    marker = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    block = next(b for b in blocks(readme) if b.line == marker + 2)
    assert block.language == "sh"
    return block.code


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[int]:
    """``intralinks-async emulator --port N`` in its own process, as the README starts it."""
    port = _free_port()
    cmd = [sys.executable, "-m", "intralinks_async", "emulator", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the emulator did not start"
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr:
            proc.stderr.close()


def test_the_readme_starts_the_emulator_on_the_documented_port() -> None:
    commands = [b.code for b in blocks(ROOT / "README.md") if b.language == "sh"]
    assert any(f"intralinks-async emulator --port {DOC_PORT}" in code for code in commands)


def test_walkthrough_runs_on_a_fresh_emulator(emulator_process: int, tmp_path: Path) -> None:
    script = _walkthrough().replace(DOC_PORT, str(emulator_process))
    command = f"{shlex.quote(sys.executable)} -m intralinks_async"
    prelude = f'set -euo pipefail\nintralinks-async() {{ {command} "$@"; }}\n'
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTRALINKS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        ["bash", "-c", prelude + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "migration.db").exists() and (tmp_path / "mirror.db").exists()
    local = {p.relative_to(tmp_path / "dataroom") for p in (tmp_path / "dataroom").rglob("*")}
    mirrored = tmp_path / "mirror" / "Deals" / "2026"  # --folder: the tree goes into it
    assert {p.relative_to(mirrored) for p in mirrored.rglob("*")} == local
    for rel in local:
        if (tmp_path / "dataroom" / rel).is_file():
            assert (mirrored / rel).read_bytes() == (tmp_path / "dataroom" / rel).read_bytes()
