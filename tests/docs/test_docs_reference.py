"""The API reference covers every public module, and the docs link only to real files."""

from __future__ import annotations

import re
from pathlib import Path

from .snippets import ROOT, doc_files

PACKAGE = ROOT / "intralinks_async"
REFERENCE = ROOT / "docs" / "reference"
_DIRECTIVE = re.compile(r"^:::\s*(\S+)", re.MULTILINE)
_LINK = re.compile(r"\]\((?!https?://|mailto:|#)([^)\s]+)\)")


def public_modules() -> set[str]:
    """Dotted names of every module whose path has no private part."""
    out: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts):
            continue
        out.add(".".join(parts))
    return out


def documented() -> set[str]:
    """Every object named by a ``::: name`` directive under docs/reference/."""
    return {m for page in REFERENCE.glob("*.md") for m in _DIRECTIVE.findall(page.read_text())}


def test_every_public_module_is_in_the_reference() -> None:
    missing = public_modules() - documented()
    assert not missing, f"add to docs/reference/: {sorted(missing)}"


def test_the_generated_resources_are_in_the_reference() -> None:
    assert "intralinks_async._generated.api" in documented()


def test_reference_directives_name_existing_modules() -> None:
    for name in documented():
        module = name
        while module and not _module_path(module).exists():
            module = module.rpartition(".")[0]  # a class or function inside a module
        assert module, f"docs/reference names {name!r}, which does not exist"


def _module_path(dotted: str) -> Path:
    base = ROOT.joinpath(*dotted.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_relative_links_point_to_files_in_the_repository() -> None:
    broken: list[str] = []
    for page in doc_files():
        for target in _LINK.findall(page.read_text(encoding="utf-8")):
            path = target.split("#", 1)[0]
            if path and not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken
