"""Templates hold no library code, and the README records every template's difference from stock."""

from __future__ import annotations

import re

import pytest

from .helpers import ROOT

TEMPLATES = ROOT / "generator-templates"
README = (TEMPLATES / "README.md").read_text(encoding="utf-8")
ALL = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.jinja"))
#: The re-export templates: nothing but imports and __all__.
REEXPORTS = ["client.py.jinja", "types.py.jinja", "errors.py.jinja"]


def test_templates_found() -> None:
    assert len(ALL) >= 15


@pytest.mark.parametrize("name", REEXPORTS)
def test_reexport_templates_define_nothing(name: str) -> None:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(async\s+def|def|class)\s", text, re.M), name
    assert "from intralinks_async." in text


@pytest.mark.parametrize("name", ALL)
def test_no_template_carries_static_library_code(name: str) -> None:
    """Functions and classes rendered by templates are spec-shaped (they use the spec's data)."""
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    blocks = re.split(r"^(?=(?:async\s+def|def|class)\s)", text, flags=re.M)[1:]
    for block in blocks:
        body = "\n".join(block.splitlines()[:40])
        assert "{{" in body or "{%" in body, f"{name}: static code: {block.splitlines()[0]}"


@pytest.mark.parametrize("name", ALL)
def test_readme_records_each_template(name: str) -> None:
    names = re.findall(r"^\| `([^|]+)`", README, re.M)
    listed = {n.strip("`") for row in names for n in row.split("`, `")}
    assert name in listed, f"{name} has no row in generator-templates/README.md"
