"""The public API contract type-checks under ``mypy --strict`` as users write it.

``typing_cases/contract.py`` is the contract snippet (plus documents and groups) and must
have no error; ``typing_cases/wrong.py`` is a negative control whose ``# error`` lines must
be exactly the reported errors, so the check cannot pass by seeing ``Any``. Both are
checked in one mypy run against the installed package; the mypy cache lives in pytest's
cache directory, so only the first run is cold.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "typing_cases"
ROOT = Path(__file__).parents[2]


def _marked_lines(path: Path) -> set[int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {number for number, line in enumerate(lines, 1) if line.endswith("# error")}


@pytest.mark.slow
def test_contract_is_mypy_strict_clean(pytestconfig: pytest.Config) -> None:
    contract, wrong = CASES / "contract.py", CASES / "wrong.py"
    cache = getattr(pytestconfig, "cache", None)  # absent under `-p no:cacheprovider`
    cache_dir = cache.mkdir("codegen-contract-mypy") if cache is not None else None
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version",
            "3.11",
            "--no-error-summary",
            "--show-error-codes",
            *(["--cache-dir", str(cache_dir)] if cache_dir else ["--no-incremental"]),
            str(contract.relative_to(ROOT)),
            str(wrong.relative_to(ROOT)),
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "MYPYPATH"},
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    errors = re.findall(r"^(\S+?\.py):(\d+): error: ", output, flags=re.MULTILINE)
    by_file: dict[str, set[int]] = {}
    for file, line in errors:
        by_file.setdefault(Path(file).name, set()).add(int(line))
    assert by_file.get("contract.py", set()) == set(), output
    assert by_file.get("wrong.py", set()) == _marked_lines(wrong), output
    assert len(errors) == len(_marked_lines(wrong)), output  # nothing elsewhere either
