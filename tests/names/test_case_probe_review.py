"""Case-insensitivity is a property of a directory, not of a device: Linux ext4/f2fs
``casefold`` directories (``chattr +F``) sit next to case-sensitive ones on one file
system. A probe cached per device would let ``A.txt`` overwrite ``a.txt`` (review finding).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intralinks_async.transfers import names


def test_probe_answers_per_directory_on_one_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sensitive, folded = tmp_path / "plain", tmp_path / "casefold"
    sensitive.mkdir()
    folded.mkdir()
    assert os.stat(sensitive).st_dev == os.stat(folded).st_dev
    real_samefile = os.path.samefile

    def samefile(a: str, b: str) -> bool:  # what a casefold directory answers
        if os.path.dirname(a) == str(folded):
            return os.path.basename(a).lower() == os.path.basename(b).lower()
        return real_samefile(a, b)

    monkeypatch.setattr(names, "_CASE_PROBES", {})
    monkeypatch.setattr(os.path, "samefile", samefile)
    assert names.fs_is_case_insensitive(sensitive) is False
    assert names.fs_is_case_insensitive(folded) is True
    assert names.fs_is_case_insensitive(sensitive) is False
    assert list(folded.iterdir()) == [] and list(sensitive.iterdir()) == []
