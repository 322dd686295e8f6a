"""``verify`` (marks, summary, exit status, --json, --html) and ``--dry-run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from intralinks_async._cli import main

from .conftest import remote_documents, remote_folders, write_tree

ROOM = {
    "keep.txt": b"unchanged",
    "Financials/Q3.csv": b"revenue,costs\n10,7\n",
    "Financials/old name.pdf": b"%PDF renamed later",
    "Legal/NDA.docx": b"signed",
    "Legal/remove me.txt": b"deleted locally later",
}


def _uploaded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    write_tree(tmp_path / "room", ROOM)
    assert main(["workspace", "create", "W"]) == 0
    ws = capsys.readouterr().out.strip()
    assert main(["upload", str(tmp_path / "room"), ws, "-q"]) == 0
    return tmp_path / "room", ws


def test_identical_trees_verify_clean(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    room, ws = _uploaded(tmp_path, capsys)
    assert main(["verify", str(room), ws, "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == [f"= {p}" for p in sorted(ROOM)]
    assert lines[-1].startswith(f"{len(ROOM)} same, 0 missing remotely")
    assert main(["verify", str(room), ws, "--download", "-q"]) == 0


def test_differences_are_marked_and_fail(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    room, ws = _uploaded(tmp_path, capsys)
    (room / "Financials" / "Q3.csv").write_bytes(b"revenue,costs\n11,7\n")  # same size
    (room / "Financials" / "old name.pdf").rename(room / "Financials" / "new name.pdf")
    (room / "Legal" / "remove me.txt").unlink()
    (room / "extra.txt").write_bytes(b"only here")
    html = tmp_path / "signoff.html"

    assert main(["verify", str(room), ws, "--html", str(html)]) == 1
    out = capsys.readouterr().out.splitlines()
    marks = {line.split(" ", 1)[1].split("  (")[0]: line[0] for line in out[:-1]}
    assert marks == {
        "keep.txt": "=",
        "Legal/NDA.docx": "=",
        "Financials/Q3.csv": "*",  # the server's hash differs
        "Financials/new name.pdf": "-",
        "extra.txt": "-",
        "Financials/old name.pdf": "+",
        "Legal/remove me.txt": "+",
    }
    assert "differences found" in out[-1]
    page = html.read_text(encoding="utf-8")
    assert "new name.pdf" in page and "differences found" in page

    assert main(["verify", str(room), ws, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["counts"] == {
        "same": 2,
        "missing_remotely": 2,
        "only_remote": 2,
        "differs": 1,
        "errors": 0,
    }


def test_verify_of_a_missing_directory_is_one_line(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(tmp_path / "nope"), "100001"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("intralinks-async: ")


def test_dry_run_prints_the_plan_and_changes_nothing(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _app, url = emulator_env
    write_tree(tmp_path / "room", ROOM)
    assert main(["workspace", "create", "W"]) == 0
    ws = capsys.readouterr().out.strip()
    assert main(["upload", str(tmp_path / "room"), ws, "--dry-run", "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"dry run: {len(out) - 1} actions planned, nothing was sent"
    assert sum("Q3.csv" in line for line in out) == 1
    assert remote_folders(url, ws) == {} and remote_documents(url, ws) == []

    assert main(["upload", str(tmp_path / "room"), ws, "--dry-run", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)["upload"]
    assert plan["dry_run"] is True and len(plan["planned"]) == len(out) - 1

    assert main(["upload", str(tmp_path / "room"), ws, "-q"]) == 0
    assert main(["download", ws, str(tmp_path / "mirror"), "--dry-run", "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("dry run:") and any("NDA.docx" in line for line in out)
    assert not (tmp_path / "mirror").exists() or not any((tmp_path / "mirror").rglob("*"))


def test_dry_run_of_a_single_file_is_refused(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("a")
    assert main(["upload", str(tmp_path / "a.txt"), "1", "--folder", "2", "--dry-run"]) == 2
    assert "--dry-run" in capsys.readouterr().err


def test_manifest_and_html_summary(
    tmp_path: Path, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path / "room", ROOM)
    assert main(["workspace", "create", "W"]) == 0
    ws = capsys.readouterr().out.strip()
    manifest, html = tmp_path / "up.jsonl", tmp_path / "up.html"
    argv = ["upload", str(tmp_path / "room"), ws, "-q", "--manifest", str(manifest)]
    assert main([*argv, "--html", str(html)]) == 0
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    files = [r for r in records if r.get("sha256")]
    assert sorted(Path(r["local_path"]).name for r in files) == sorted(Path(p).name for p in ROOM)
    page = html.read_text(encoding="utf-8")
    assert "NDA.docx" in page and ws in page

    # --html alone: the manifest is temporary, the page is kept.
    down_html = tmp_path / "down.html"
    argv = ["download", ws, str(tmp_path / "mirror"), "-q", "--html", str(down_html)]
    assert main(argv) == 0
    assert "Q3.csv" in down_html.read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["room", "up.jsonl", "up.html", "down.html", "mirror"]
    )
