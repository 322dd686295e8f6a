"""Undecodable names (journal keys, display names) and case-insensitive destinations."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intralinks_async.transfers import names as names_module
from intralinks_async.transfers.names import (
    CaseCollisionAllocator,
    InvalidJournalKeyError,
    display_name,
    from_journal_key,
    fs_is_case_insensitive,
    is_undecodable,
    journal_key,
)

paths = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("/\\x80ffud8\udc80\udcff\ud800\udfffé")),
        st.characters(exclude_categories=()),
    ),
    max_size=30,
)


@settings(max_examples=1000, deadline=None)
@given(paths)
def test_journal_key_is_lossless_and_valid_utf8(name: str) -> None:
    key = journal_key(name)
    key.encode("utf-8")
    assert from_journal_key(key) == name


@settings(max_examples=300, deadline=None)
@given(st.lists(paths, max_size=20, unique=True))
def test_journal_keys_are_distinct(names: list[str]) -> None:
    assert len({journal_key(n) for n in names}) == len(names)


def test_ordinary_relative_paths_are_their_own_keys() -> None:
    for name in ["a/b.txt", "データ/報告.pdf", "back\\slash", "x"]:
        assert journal_key(name) == name


def test_undecodable_name_stored_in_sqlite_and_read_back(tmp_path: Path) -> None:
    name = os.fsdecode(b"dir/bad\xff.txt") if os.name != "nt" else "dir/bad\udcff.txt"
    assert is_undecodable(name)
    db = sqlite3.connect(tmp_path / "j.db")
    with pytest.raises(UnicodeEncodeError):
        db.execute("SELECT ?", (name,))
    db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    db.execute("INSERT INTO t VALUES (?)", (journal_key(name),))
    (stored,) = db.execute("SELECT k FROM t").fetchone()
    db.close()
    assert stored == "/dir/bad\\xff.txt"
    assert from_journal_key(stored) == name


@pytest.mark.parametrize("bad", ["/\\q", "/\\x7f", "/\\", "/\\xFF", "/a\\"])
def test_malformed_keys_raise_a_typed_error(bad: str) -> None:
    with pytest.raises(InvalidJournalKeyError):
        from_journal_key(bad)


def test_display_name_is_visible_and_valid() -> None:
    assert display_name("ok.txt") == "ok.txt"
    shown = display_name("bad\udcff\udcfe.txt")
    assert shown == "bad\\xff\\xfe.txt"
    shown.encode("utf-8")
    assert not is_undecodable(shown)
    assert display_name("\ud800") == "\\ud800"
    assert not is_undecodable("résumé")


def test_probe_on_this_file_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names_module, "_CASE_PROBES", {})
    probe = tmp_path / "Probe"
    probe.write_text("x")
    expected = (tmp_path / "pROBE").exists()
    probe.unlink()
    assert fs_is_case_insensitive(tmp_path) is expected
    assert list(tmp_path.iterdir()) == []  # the probe file is gone


def test_probe_detects_a_case_insensitive_system_and_caches_per_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(names_module, "_CASE_PROBES", {})
    calls: list[tuple[str, str]] = []

    def samefile(a: str, b: str) -> bool:  # emulates a file system that folds case
        calls.append((a, b))
        return os.path.exists(a) and a.casefold() == b.casefold()

    monkeypatch.setattr(names_module.os.path, "samefile", samefile)
    assert fs_is_case_insensitive(tmp_path) is True
    assert fs_is_case_insensitive(tmp_path) is True  # cached
    assert len(calls) == 1
    (tmp_path / "sub").mkdir()  # same device, but casefold is per directory: probed
    assert fs_is_case_insensitive(tmp_path / "sub") is True
    assert len(calls) == 2
    a, b = calls[0]
    assert a != b and a.casefold() == b.casefold()


def test_probe_in_unwritable_directory_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(names_module, "_CASE_PROBES", {})

    def refuse(**_: object) -> tuple[int, str]:
        raise PermissionError("read-only")

    monkeypatch.setattr(names_module.tempfile, "mkstemp", refuse)
    assert isinstance(fs_is_case_insensitive(tmp_path), bool)
    assert names_module._CASE_PROBES == {}


def test_case_collisions_renamed_only_when_insensitive() -> None:
    sensitive = CaseCollisionAllocator(case_insensitive=False)
    assert [sensitive.allocate(n) for n in ["A.txt", "a.txt"]] == ["A.txt", "a.txt"]
    assert sensitive.renames == {}

    folding = CaseCollisionAllocator(case_insensitive=True)
    folding.reserve("existing.pdf")
    out = [folding.allocate(n) for n in ["A.txt", "a.txt", "a (2).TXT", "EXISTING.pdf", "b"]]
    assert out == ["A.txt", "a (2).txt", "a (2) (2).TXT", "EXISTING (2).pdf", "b"]
    assert folding.renames == {
        "a (2).txt": "a.txt",
        "a (2) (2).TXT": "a (2).TXT",
        "EXISTING (2).pdf": "EXISTING.pdf",
    }


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="aAéÉßS. ()2\u0301", max_size=6), max_size=30))
def test_allocated_names_never_fold_together(names: list[str]) -> None:
    alloc = CaseCollisionAllocator(case_insensitive=True)
    out = [alloc.allocate(n) for n in names]
    keys = [names_module._key(n) for n in out]
    assert len(set(keys)) == len(keys)
    for new, old in alloc.renames.items():
        assert new in out and new != old
