"""Version, ``python -m``, the dispatcher, missing extras and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import intralinks_async
from intralinks_async._cli import build_parser, main

from .conftest import CLI_MODULES, EMULATOR_MODULES, credentials_env, run_cli, served

COMMANDS = ["emulator", "workspace", "mkdir", "upload", "download", "verify", "ls", "demo"]


def test_version_everywhere() -> None:
    from intralinks_async._version import __version__

    assert intralinks_async.__version__ == __version__
    for module in ("intralinks_async", "intralinks_async.cli"):
        proc = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"intralinks-async {__version__}"


def test_every_command_is_registered() -> None:
    help_text = build_parser().format_help()
    for command in COMMANDS:
        assert command in help_text


@pytest.mark.parametrize(
    "argv",
    [
        ["emulator", "--port", "0"],
        ["demo", "--files", "3"],
        ["demo", "--json"],
    ],
)
def test_missing_emulator_extra_is_one_line(argv: list[str]) -> None:
    proc = run_cli(*argv, blocked=EMULATOR_MODULES)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "intralinks-async: error: this command needs the emulator extra: "
        "pip install 'intralinks-async[emulator]'"
    ]
    assert proc.stdout == ""


def test_emulator_help_needs_no_extra_to_be_listed() -> None:
    proc = run_cli("--help", blocked=EMULATOR_MODULES + CLI_MODULES)
    assert proc.returncode == 0
    assert "emulator" in proc.stdout and "invalid choice" not in proc.stderr


def test_quiet_and_json_need_no_rich(tmp_path: Path) -> None:
    (tmp_path / "room").mkdir()
    (tmp_path / "room" / "a.txt").write_text("a")
    with served() as (_app, url):
        env = credentials_env(url)
        ws = run_cli("workspace", "create", "W", env=env, blocked=CLI_MODULES)
        assert ws.returncode == 0, ws.stderr
        ws_id = ws.stdout.strip()
        for argv in (
            ["upload", str(tmp_path / "room"), ws_id, "-q"],
            ["upload", str(tmp_path / "room"), ws_id, "--json"],
            ["download", ws_id, str(tmp_path / "mirror"), "-q"],
            ["ls", ws_id],
            ["ls", "--json"],
            ["mkdir", ws_id, "a/b", "--json"],
        ):
            proc = run_cli(*argv, env=env, blocked=CLI_MODULES)
            assert proc.returncode == 0, (argv, proc.stderr)
            assert "Traceback" not in proc.stderr
        assert (tmp_path / "mirror" / "room" / "a.txt").read_text() == "a"
        # Drawing progress does need rich: said before anything is sent.
        proc = run_cli("upload", str(tmp_path / "room"), ws_id, env=env, blocked=CLI_MODULES)
        assert proc.returncode == 2
        assert proc.stderr.strip() == (
            "intralinks-async: error: this command needs the cli extra: "
            "pip install 'intralinks-async[cli]'"
        )


def test_missing_credentials_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("INTRALINKS_CLIENT_ID", "INTRALINKS_CLIENT_SECRET", "INTRALINKS_ACCESS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    assert main(["ls", "--base-url", "http://127.0.0.1:9"]) == 2
    assert "credentials needed" in capsys.readouterr().err


def test_flags_override_the_environment(
    emulator_env: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _app, url = emulator_env
    monkeypatch.setenv("INTRALINKS_CLIENT_SECRET", "wrong")
    monkeypatch.setenv("INTRALINKS_BASE_URL", "http://127.0.0.1:9")
    flags = ["--base-url", url, "--client-secret", "demo-secret"]
    assert main(["workspace", "create", "W", *flags]) == 0
    assert capsys.readouterr().out.strip()


def test_access_token_from_the_environment(
    emulator_env: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("INTRALINKS_ACCESS_TOKEN", "not-a-token")
    assert main(["ls"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("intralinks-async: AuthenticationError: ")
    assert "not-a-token" not in err


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["ls", "999999"], "NotFoundError"),
        (["download", "999999", "mirror", "-q"], "NotFoundError"),
        (["mkdir", "999999", "a/b"], "NotFoundError"),
        (["ls", "--client-secret", "wrong"], "AuthenticationError"),
    ],
)
def test_sdk_errors_are_one_line(argv: list[str], error: str, tmp_path: Path) -> None:
    with served() as (_app, url):
        proc = run_cli(*argv, env=credentials_env(url), cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"intralinks-async: {error}: "), proc.stderr
    assert "demo-secret" not in proc.stderr


def test_unreachable_server_is_one_line(tmp_path: Path) -> None:
    env = credentials_env("http://127.0.0.1:9")
    proc = run_cli("ls", "--json", env=env, timeout=180)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("intralinks-async: APIConnectionError"), lines


def test_unknown_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["ls", "--bogus"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
