"""Every ```python block of README.md and docs/ runs, as written, against an emulator.

Each block is a complete program: it runs in a fresh temporary directory, in its own
interpreter, against a fresh emulator served on loopback (the docs' port 8765 is replaced
by a free one). A block that defines ``test_`` functions is run by pytest instead, and
must pass with at least one test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from intralinks_async.testing import create_app, serve_in_thread

from .snippets import DOC_PORT, ROOT, Block, python_blocks

BLOCKS = python_blocks()
TIMEOUT = 180


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for key in list(env):
        if key.startswith("INTRALINKS_"):
            del env[key]
    return env


def _run(block: Block, port: int, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = block.code.replace(DOC_PORT, str(port))
    if "def test_" in code:
        script = cwd / "test_snippet.py"
        script.write_text(code, encoding="utf-8")
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", script.name]
    else:
        script = cwd / "snippet.py"
        script.write_text(code, encoding="utf-8")
        argv = [sys.executable, script.name]
    return subprocess.run(
        argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=TIMEOUT
    )


def test_the_readme_has_python_blocks() -> None:
    assert any(b.path.name == "README.md" for b in BLOCKS)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block_runs(block: Block, tmp_path: Path) -> None:
    app = create_app()
    try:
        with serve_in_thread(app, port=0) as url:
            port = int(url.rsplit(":", 1)[1])
            proc = _run(block, port, tmp_path)
    finally:
        app.state.emulator.close()
    output = f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{block.id} failed:\n{output}"
    if "def test_" in block.code:
        assert " passed" in proc.stdout and " skipped" not in proc.stdout, output
