"""Finding the prism binary: skip locally when absent, fail in CI (CI_REQUIRE_PRISM=1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from . import prism


@pytest.fixture
def no_prism(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(prism, "LOCAL_BIN", tmp_path / "missing" / "prism")
    monkeypatch.delenv("PRISM_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))


def test_absent_prism_skips_with_the_install_command(
    no_prism: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI_REQUIRE_PRISM", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"npm install --prefix \.ci/node"):
        prism.prism_binary()


def test_absent_prism_fails_when_ci_requires_it(
    no_prism: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI_REQUIRE_PRISM", "1")
    with pytest.raises(pytest.fail.Exception, match="CI_REQUIRE_PRISM=1"):
        prism.prism_binary()


def test_ci_installs_the_pinned_version() -> None:
    script = (prism.ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pins = re.findall(r"@stoplight/prism-cli@([0-9.]+)", script)
    assert pins == [prism.PRISM_VERSION]
    assert "CI_REQUIRE_PRISM=1" in script
