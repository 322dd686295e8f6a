"""Manifest writer/reader (JSON Lines) and the HTML sign-off summary."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import anyio
import pytest

from intralinks_async.transfers import manifest as manifest_module
from intralinks_async.transfers.manifest import (
    ManifestError,
    ManifestRecord,
    ManifestWriter,
    read_manifest,
    utc_now,
    write_html_summary,
)


def _record(i: int, **changes: object) -> ManifestRecord:
    values: dict[str, object] = {
        "local_path": f"dir/file-{i}.txt",
        "remote_path": f"Room/dir/file-{i}.txt",
        "result": "uploaded",
        "remote_id": f"doc-{i}",
        "size": i,
        "sha256": "ab" * 32,
        "server_hash": "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
        "started_at": "2026-12-01T20:00:00.000Z",
        "ended_at": "2026-12-01T20:00:01.500Z",
    }
    values.update(changes)
    return ManifestRecord(**values)  # type: ignore[arg-type]


async def test_every_record_of_a_concurrent_run_is_written(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    async with ManifestWriter(path, batch_size=64) as writer, anyio.create_task_group() as tg:
        for worker in range(20):

            async def run(w: int = worker) -> None:
                for i in range(w * 50, (w + 1) * 50):
                    await writer.write(_record(i))

            tg.start_soon(run)
    assert writer.records_written == 1000
    records = list(read_manifest(path))
    assert sorted(r.remote_id or "" for r in records) == sorted(f"doc-{i}" for i in range(1000))
    assert all(r == _record(r.size or 0) for r in records)
    assert all(line.endswith(b"\n") for line in path.read_bytes().splitlines(keepends=True))


async def test_writes_happen_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []
    original = ManifestWriter._write

    def spy(file, data, fsync, done):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        original(file, data, fsync, done)

    monkeypatch.setattr(ManifestWriter, "_write", staticmethod(spy))
    async with ManifestWriter(tmp_path / "m.jsonl", batch_size=10) as writer:
        for i in range(35):
            await writer.write(_record(i))
    assert len(threads) == 4  # 3 full batches + the rest on close (with fsync)
    assert loop_thread not in threads


async def test_truncated_last_line_is_skipped_flagged_and_appended_after(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    async with ManifestWriter(path) as writer:
        for i in range(3):
            await writer.write(_record(i))
    with path.open("ab") as f:  # a crash in the middle of a batch
        f.write(json.dumps(_record(3).to_dict()).encode()[:40])
    damaged: list[int] = []
    assert [r.size for r in read_manifest(path, damaged=damaged)] == [0, 1, 2]
    assert damaged == [4]
    with pytest.raises(ManifestError, match="line 4"):
        list(read_manifest(path, strict=True))
    async with ManifestWriter(path) as writer:  # a rerun appends on a fresh line
        await writer.write(_record(4))
    damaged.clear()
    assert [r.size for r in read_manifest(path, damaged=damaged)] == [0, 1, 2, 4]
    assert damaged == [4]


def test_lines_that_are_not_records_are_flagged(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    good = json.dumps(_record(1).to_dict())
    lines = [good, "[1, 2]", '{"result": 3}', '{"result": "uploaded", "size": "big"}', "\xff", ""]
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n\xff\xfe\n")
    damaged: list[int] = []
    assert len(list(read_manifest(path, damaged=damaged))) == 1
    assert damaged == [2, 3, 4, 5, 7]


async def test_undecodable_names_are_kept_losslessly(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    record = _record(1, local_path="dir/bad\udcff.txt", renamed_from="bad\udcff.txt")
    async with ManifestWriter(path) as writer:
        await writer.write(record)
        await writer.write(_record(2, local_path="データ.pdf"))
    raw = path.read_bytes()
    raw.decode("utf-8")  # the file stays valid UTF-8
    assert "データ".encode() in raw  # readable names are written as they are
    assert list(read_manifest(path)) == [record, _record(2, local_path="データ.pdf")]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
async def test_disk_full_is_a_manifest_error() -> None:
    with pytest.raises(ManifestError, match="cannot write manifest"):
        async with ManifestWriter("/dev/full", batch_size=1) as writer:
            await writer.write(_record(1))


async def test_unopenable_manifest_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot open"):
        async with ManifestWriter(tmp_path / "missing" / "m.jsonl"):
            pass
    with pytest.raises(ManifestError, match="cannot read"):
        list(read_manifest(tmp_path / "missing.jsonl"))


async def test_write_after_close_is_refused(tmp_path: Path) -> None:
    async with ManifestWriter(tmp_path / "m.jsonl") as writer:
        pass
    with pytest.raises(ManifestError, match="not open"):
        await writer.write(_record(1))


def test_utc_now_is_iso_8601_utc() -> None:
    from datetime import datetime

    stamp = utc_now()
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0  # type: ignore[union-attr]


HOSTILE = '<script>alert("x")</script> [bold red]markup[/] {code} & </td>'


@pytest.mark.parametrize("use_rich", [True, False])
def test_html_summary_escapes_names_and_lists_what_needs_attention(
    tmp_path: Path, use_rich: bool
) -> None:
    records = [
        _record(1),
        _record(2, result="failed", local_path=HOSTILE, error="PermissionError: <denied>"),
        _record(3, result="uploaded", renamed_from="a:b.txt"),
        _record(4, result="conflict"),
    ]
    out = tmp_path / "summary.html"
    write_html_summary(
        out,
        title=f"Migration {HOSTILE}",
        summary={"workspace": "<ws>", "succeeded": 2},
        records=iter(records),
        use_rich=use_rich,
    )
    page = out.read_text(encoding="utf-8")
    assert "<script>" not in page and "</td> " not in page
    assert page.count("&lt;script&gt;") >= 2  # in the title and in the rows
    assert "[bold red]markup[/]" in page  # shown literally, not interpreted
    assert "&lt;denied&gt;" in page and "a:b.txt" in page
    for word in ("failed", "conflict", "uploaded", "&lt;ws&gt;"):
        assert word in page


def test_html_summary_caps_rows(tmp_path: Path) -> None:
    out = tmp_path / "s.html"
    write_html_summary(
        out,
        title="t",
        summary={},
        records=(_record(i) for i in range(30)),
        max_rows=10,
        use_rich=False,
    )
    page = out.read_text()
    assert "20 more records in the manifest." in page
    assert "file-9.txt" in page and "file-10.txt" not in page


def test_html_summary_write_failure_is_typed(tmp_path: Path) -> None:
    with pytest.raises(ManifestError):
        write_html_summary(tmp_path / "no" / "s.html", title="t", summary={}, records=[])
    assert {"uploaded", "downloaded", "failed", "conflict"} <= manifest_module.RESULTS
