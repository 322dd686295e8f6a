"""``workspace create`` and ``mkdir`` (nested, idempotent, like ``mkdir -p``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from intralinks_async._cli import main

from .conftest import remote_folders


def test_workspace_create_prints_the_id(
    emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["workspace", "create", "Project Falcon"]) == 0
    ws = capsys.readouterr().out.strip()
    assert main(["workspace", "create", "Project Osprey", "--type", "DEAL", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert (made["name"], made["type"]) == ("Project Osprey", "DEAL")
    assert main(["ls", "--json"]) == 0
    listed = {w["id"]: (w["name"], w["type"]) for w in json.loads(capsys.readouterr().out)}
    assert listed == {ws: ("Project Falcon", "ATC"), made["id"]: ("Project Osprey", "DEAL")}


def test_mkdir_creates_missing_parents_and_reuses_existing(
    emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _app, url = emulator_env
    assert main(["workspace", "create", "W"]) == 0
    ws = capsys.readouterr().out.strip()
    assert main(["mkdir", ws, "Deals/2026/Q3"]) == 0
    q3 = capsys.readouterr().out.strip()
    folders = remote_folders(url, ws)
    deals = next(fid for fid, (parent, name) in folders.items() if name == "Deals")
    year = next(fid for fid, (parent, name) in folders.items() if name == "2026")
    assert folders == {deals: (None, "Deals"), year: (deals, "2026"), q3: (year, "Q3")}

    assert main(["mkdir", ws, "/Deals//2026/./Q4/", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(f["name"], f["created"]) for f in out["folders"]] == [
        ("Deals", False),
        ("2026", False),
        ("Q4", True),
    ]
    assert out["folders"][1]["id"] == year and out["id"] == out["folders"][-1]["id"]
    assert main(["mkdir", ws, "Deals/2026/Q3"]) == 0
    assert capsys.readouterr().out.strip() == q3
    assert len(remote_folders(url, ws)) == 4

    assert main(["mkdir", ws, "Inside", "--parent", q3]) == 0
    inside = capsys.readouterr().out.strip()
    assert remote_folders(url, ws)[inside] == (q3, "Inside")


@pytest.mark.parametrize("path", ["", "/", "./.", "a/../b"])
def test_mkdir_refuses_paths_naming_no_folder(
    path: str, emulator_env: tuple[Any, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["mkdir", "100001", path]) == 2
    assert "folder path" in capsys.readouterr().err
