"""Remote names become safe, distinct local names; nothing escapes the destination."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intralinks_async.transfers.names import (
    MAX_NAME_BYTES,
    NameAllocator,
    UnsafePathError,
    is_temp_name,
    safe_join,
    sanitize_name,
    temp_name_for,
)

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)
}

nasty_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list('./\\\x00\x01\x1f\x7f<>:"|?* .\u202e\u0301é中')),
        st.characters(),
    ),
    max_size=300,
)


def _assert_safe(name: str) -> None:
    assert name and name not in (".", "..")
    assert not any(c in name for c in '/\\\x00<>:"|?*')
    assert not any(ord(c) < 32 or ord(c) == 127 for c in name)
    assert not name.endswith((".", " "))
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.split(".", 1)[0].rstrip(" ").upper() not in _WINDOWS_RESERVED
    assert not is_temp_name(name)


@settings(max_examples=400, deadline=None)
@given(nasty_text)
def test_sanitized_names_are_single_safe_components(name: str) -> None:
    _assert_safe(sanitize_name(name))


@settings(max_examples=200, deadline=None)
@given(st.lists(nasty_text, max_size=40))
def test_allocator_names_are_distinct_case_insensitively(names: list[str]) -> None:
    alloc = NameAllocator()
    out = [alloc.allocate(n) for n in names]
    for name in out:
        _assert_safe(name)
    assert len({n.casefold() for n in out}) == len(out)


@settings(max_examples=200, deadline=None)
@given(st.lists(nasty_text, min_size=1, max_size=5))
def test_safe_join_of_sanitized_parts_stays_inside(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    root = tmp_path_factory.getbasetemp() / "root"
    joined = safe_join(root, *[sanitize_name(p) for p in parts])
    assert os.path.commonpath([str(root.resolve()), str(joined)]) == str(root.resolve())
    assert joined != root.resolve()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("..", "_"),
        (".", "_"),
        ("...", "_"),
        ("", "_"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("a/b\\c", "a_b_c"),
        ("nul\x00byte", "nul_byte"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT1.log", "_LPT1.log"),
        ("report. ", "report"),
        ("what?.pdf", "what_.pdf"),
        ("Résumé.pdf", "Résumé.pdf"),
    ],
)
def test_examples(raw: str, expected: str) -> None:
    assert sanitize_name(raw) == expected


def test_long_name_keeps_extension() -> None:
    name = "é" * 300 + ".pdf"
    out = sanitize_name(name)
    assert out.endswith(".pdf")
    assert len(out.encode()) <= MAX_NAME_BYTES


def test_temp_names_are_never_produced_for_remote_names() -> None:
    tmp = temp_name_for("x.pdf", "0123abcd")
    assert is_temp_name(tmp)
    assert sanitize_name(tmp) != tmp
    assert not is_temp_name(sanitize_name(tmp))


def test_duplicates_get_numbered() -> None:
    alloc = NameAllocator()
    assert alloc.allocate("a/b.txt") == "a_b.txt"
    assert alloc.allocate("a\\b.txt") == "a_b.txt".replace(".txt", " (2).txt")
    assert alloc.allocate("A_B.TXT") == "A_B (3).TXT"


@pytest.mark.parametrize("part", ["..", ".", "", "a/b", "a\\b", "x\x00"])
def test_safe_join_refuses_unsafe_components(tmp_path: Path, part: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, "ok", part)
