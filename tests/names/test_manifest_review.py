"""A manifest write that fails half-way (disk full for a moment) must not cost the
records written after it, nor duplicate those before it (review finding)."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.transfers.manifest import (
    ManifestError,
    ManifestWriter,
    read_manifest,
)

from .test_manifest import _record


class _FlakyFile:
    """A manifest file on a disk that fills up: its first write stores a part of its bytes
    (as write(2) does), the next one fails with ENOSPC; then there is room again."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self.calls = 0

    def write(self, data: Any) -> int:
        self.calls += 1
        if self.calls == 1:
            return int(self._file.write(bytes(data[: len(data) // 2 + 7])))
        if self.calls == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self._file.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


async def test_records_after_a_failed_partial_write_are_kept_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "manifest.jsonl"
    real_open = ManifestWriter._open
    monkeypatch.setattr(ManifestWriter, "_open", lambda self: _FlakyFile(real_open(self)))
    async with ManifestWriter(path, batch_size=4) as writer:
        with pytest.raises(ManifestError, match="No space left"):
            for i in range(4):
                await writer.write(_record(i))
        for i in range(4, 10):  # the disk has room again
            await writer.write(_record(i))
    damaged: list[int] = []
    ids = [r.remote_id for r in read_manifest(path, damaged=damaged)]
    assert damaged == []
    assert ids == [f"doc-{i}" for i in range(10)]
    assert writer.records_written == 10
