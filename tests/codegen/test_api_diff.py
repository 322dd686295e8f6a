"""`make api-diff`: a changed spec's public API changes are listed with the right severity."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import GENERATED, ROOT, load_spec, render

sys.path.insert(0, str(ROOT / "tools"))
import api_diff

pytestmark = pytest.mark.slow


def _changed_spec() -> dict:
    spec = copy.deepcopy(load_spec())
    paths = spec["paths"]
    del paths["/workspaces/{workspaceId}/groups/{groupId}"]["delete"]  # deleteGroup
    folder = spec["components"]["schemas"]["Folder"]["properties"]
    folder["parentFolderId"] = folder.pop("parentId")  # a field renamed
    paths["/workspaces/{workspaceId}/folders"]["get"]["parameters"].append(
        {"name": "includeDeleted", "in": "query", "schema": {"type": "boolean"}}
    )
    paths["/workspaces/{workspaceId}/groups"]["get"]["parameters"].append(
        {"name": "region", "in": "query", "required": True, "schema": {"type": "string"}}
    )
    return spec


@pytest.fixture(scope="module")
def changed_render(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("apidiff")
    spec_file = tmp / "spec.json"
    spec_file.write_text(json.dumps(_changed_spec()), encoding="utf-8")
    render(spec_file, tmp / "_generated")
    return tmp / "_generated"


def test_each_change_is_reported_with_its_severity(changed_render: Path) -> None:
    changes = api_diff.compare(api_diff.load_api(GENERATED), api_diff.load_api(changed_render))
    found = {(c.kind, c.what, c.path, c.breaking) for c in changes}
    assert found == {
        ("removed", "method", "client.groups.delete", True),
        ("renamed", "field", "Folder.parent_id -> Folder.parent_folder_id", True),
        ("added", "parameter", "client.folders.list(include_deleted)", False),
        ("added", "parameter", "client.groups.list(region)", True),
    }


def test_the_command_line_flags_breaking_changes(
    changed_render: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(GENERATED), str(changed_render), "--fail-on-breaking"]
    assert api_diff.main(argv) == 1
    report = capsys.readouterr().out.splitlines()
    assert "BREAKING  removed  method      client.groups.delete" in report
    assert any(
        line.startswith("ok") and "client.folders.list(include_deleted)" in line for line in report
    )
    assert report[-1] == "4 changes, 3 breaking"
    assert api_diff.main([str(GENERATED), str(GENERATED), "--fail-on-breaking"]) == 0


def test_a_spec_unchanged_reports_no_change() -> None:
    changes = api_diff.compare(api_diff.load_api(GENERATED), api_diff.load_api(GENERATED))
    assert changes == []
    snapshot = api_diff.load_api(GENERATED)
    assert "delete" in snapshot.resources["groups"] and "parent_id" in snapshot.models["Folder"]


def test_model_and_enum_changes_are_classified() -> None:
    field = api_diff.Field
    old = api_diff.Api(
        models={"M": {"a": field("str", False), "b": field("int", False)}},
        enums={"E": {"X", "Y"}},
    )
    new = api_diff.Api(
        models={"M": {"a": field("int", False), "c": field("str", True), "d": field("str", False)}},
        enums={"E": {"X", "Z"}},
    )
    found = {(c.kind, c.what, c.path, c.breaking) for c in api_diff.compare(old, new)}
    assert found == {
        ("changed", "field", "M.a", True),
        ("removed", "field", "M.b", True),
        ("added", "field", "M.c", True),
        ("added", "field", "M.d", False),
        ("removed", "enum member", "E.Y", True),
        ("added", "enum member", "E.Z", False),
    }


def test_make_api_diff_runs_against_a_git_ref() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["make", "--no-print-directory", "api-diff", f"PY={sys.executable}", "REF=HEAD"],
        cwd=ROOT,
        env=dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("public API: intralinks_async/_generated at HEAD -> ")
