"""Without the ``emulator`` extra the plugin never breaks a test run; using it says what to install.

Each case runs Python in a subprocess where starlette, uvicorn and python-multipart cannot
be imported (a meta-path blocker installed by a ``sitecustomize`` on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import intralinks_async

HINT = "pip install 'intralinks-async[emulator]'"
REPO = Path(intralinks_async.__file__).resolve().parent.parent

BLOCKER = """
import importlib.abc
import sys

BLOCKED = {"starlette", "uvicorn", "multipart", "python_multipart"}


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
"""

PLAIN_TESTS = """
import importlib

import pytest


def test_plain_arithmetic():
    assert 1 + 1 == 2


def test_the_extra_is_really_missing_and_the_plugin_loaded(request):
    with pytest.raises(ImportError):
        importlib.import_module("starlette")
    assert request.config.pluginmanager.has_plugin("intralinks_emulator")
"""

FIXTURE_TESTS = """
def test_uses_the_emulator(emulator_app):
    pass


def test_uses_the_factory(emulator_factory):
    emulator_factory()
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(shim), str(REPO)])}
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def _pytest(tmp_path: Path, name: str, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / name).write_text(source)
    ini = str(tmp_path / "pytest.ini")
    return _run(
        tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
        "-c", ini, name,
    )  # fmt: skip


def test_a_test_run_without_the_extra_passes(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "test_plain.py", PLAIN_TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_using_a_fixture_without_the_extra_names_the_extra(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "test_fixtures.py", FIXTURE_TESTS)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 error" in done.stdout  # fixture setup error, factory call failure
    assert done.stdout.count(HINT) >= 2, done.stdout


def test_importing_the_server_parts_names_the_extra(tmp_path: Path) -> None:
    code = (
        "import intralinks_async.testing as t\n"
        "from intralinks_async.testing import Outage, RateLimit\n"
        "RateLimit(rate=1); Outage(duration=1)\n"
        "try:\n    t.create_app\nexcept ImportError as e:\n    print(e)\n"
    )
    done = _run(tmp_path, "-c", code)
    assert done.returncode == 0, done.stderr
    assert HINT in done.stdout and "starlette" in done.stdout


def test_the_emulator_command_without_the_extra_is_one_line(tmp_path: Path) -> None:
    done = _run(tmp_path, "-m", "intralinks_async.testing._cli", "--port", "0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"intralinks-async emulator: error: this command needs the emulator extra: {HINT}"
    ]
