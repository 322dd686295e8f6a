# ruff: noqa: RUF001  (the lookalike characters are what these tests are about)
"""Reversible name mappings: remote (service) names, POSIX and Windows local names."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intralinks_async.transfers.names import (
    ESCAPE,
    REMOTE_FORBIDDEN,
    WINDOWS_FORBIDDEN,
    from_local,
    from_remote,
    local_to_remote,
    remote_to_local,
    to_local,
    to_remote,
)

_SPECIAL = list(
    REMOTE_FORBIDDEN
    + ESCAPE
    + "".join(chr(ord(c) + 0xFEE0) for c in REMOTE_FORBIDDEN + ".")
    + "\x00\x01\x1f\x7f\u2400\u2401\u241f\u2420\u2421\u2205 .FF8A0z\udc80\udcff\ud800"
    + "CONcon ＣＯＮｃ PRNAUXNULCOM1LPT9¹"
)
#: Text biased towards every character the mappings care about (lone surrogates included).
_special_text = st.text(alphabet=st.sampled_from(_SPECIAL), max_size=12)
_any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=12)
_TOKENS = ["CON", "con", "ＣON", "ｃon", "Ａux", "COM1", "LPT¹", "NUL", ".txt", " ", ".", "‛", "FF"]
_token_text = st.lists(st.sampled_from(_TOKENS + _SPECIAL), max_size=5).map("".join)
names = st.one_of(
    _special_text,
    _token_text,
    st.builds(lambda a, b, c: a + b + c, _special_text, _any_text, _special_text),
    st.builds(lambda a, b: a + b, _any_text, _special_text),
)
_DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in (*"0123456789", "¹", "²", "³")
}


def _remote_ok(name: str) -> bool:
    return (
        bool(name.strip())
        and name not in (".", "..")
        and not any(c in REMOTE_FORBIDDEN or ord(c) < 32 or c == "\x7f" for c in name)
        and not any("\udc80" <= c <= "\udcff" for c in name)
    )


def _posix_ok(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\x00" not in name


def _windows_ok(name: str) -> bool:
    return (
        name != ""
        and not any(c in WINDOWS_FORBIDDEN or ord(c) < 32 for c in name)
        and not name.endswith((".", " "))
        and name.split(".", 1)[0].rstrip(" ").upper() not in _DEVICES
        and not any("\udc80" <= c <= "\udcff" for c in name)
    )


@settings(max_examples=1500, deadline=None)
@given(names)
def test_remote_round_trip_and_never_forbidden(name: str) -> None:
    remote = to_remote(name)
    assert _remote_ok(remote), ascii(remote)
    assert from_remote(remote) == name


@settings(max_examples=1500, deadline=None)
@given(names)
def test_every_acceptable_remote_name_is_the_image_of_exactly_one_name(remote: str) -> None:
    """from_remote is total and to_remote inverts it on every name the service accepts."""
    if _remote_ok(remote):
        assert to_remote(from_remote(remote)) == remote


@pytest.mark.parametrize("windows", [False, True])
@settings(max_examples=1500, deadline=None)
@given(name=names)
def test_local_round_trip_and_valid(windows: bool, name: str) -> None:
    local = to_local(name, windows=windows)
    assert (_windows_ok if windows else _posix_ok)(local), ascii(local)
    assert from_local(local, windows=windows) == name
    if (_windows_ok if windows else _posix_ok)(name):
        assert to_local(from_local(name, windows=windows), windows=windows) == name


@pytest.mark.parametrize("windows", [False, True])
@settings(max_examples=1000, deadline=None)
@given(name=names)
def test_local_name_up_and_back_is_exact(windows: bool, name: str) -> None:
    """Any name the local file system can hold comes back byte-identical."""
    if not (_windows_ok if windows else _posix_ok)(name):
        return
    remote = local_to_remote(name, windows=windows)
    assert _remote_ok(remote)
    assert remote_to_local(remote, windows=windows) == name


@pytest.mark.parametrize(
    ("name", "remote"),
    [
        ("Agreement: Final.pdf", "Agreement： Final.pdf"),
        ('a"b.txt', "a＂b.txt"),
        ("Q3?.xlsx", "Q3？.xlsx"),
        ("<draft>|v2*.doc", "＜draft＞｜v2＊.doc"),
        ("a/b\\c", "a／b＼c"),
        ("CON.txt", "CON.txt"),
        ("plain name.pdf", "plain name.pdf"),
        ("already：there", "already‛：there"),
        ("‛quoted", "‛quoted"),
        ("‛：", "‛‛‛："),
        ("tab\there", "tab␉here"),
        ("bad\udcff.txt", "bad‛FF.txt"),
        ("‛FF", "‛‛FF"),
        ("", "∅"),
        (".", "．"),
        ("..", "．．"),
        ("  ", "␠  "),
    ],
)
def test_remote_examples(name: str, remote: str) -> None:
    assert to_remote(name) == remote
    assert from_remote(remote) == name


@pytest.mark.parametrize(
    "foreign",
    ["‛note", "weird‛‛name", "ends with ‛", "lowercase hex ‛ff", "‛G1", "∅ empty set", "x．"],
)
def test_names_from_other_tools_stay_readable(foreign: str) -> None:
    assert from_remote(foreign) == foreign
    assert to_remote(from_remote(foreign)) == foreign


@pytest.mark.parametrize(
    ("name", "windows", "local"),
    [
        ("a/b", False, "a／b"),
        ("nul\x00", False, "nul␀"),
        ("..", False, "．．"),
        ("Agreement: Final.pdf", False, "Agreement: Final.pdf"),
        ("Agreement: Final.pdf", True, "Agreement： Final.pdf"),
        ("CON.txt", True, "ＣON.txt"),
        ("con", True, "ｃon"),
        ("COM1.log", True, "ＣOM1.log"),
        ("ＣON.txt", True, "‛ＣON.txt"),
        ("CONTRACT.txt", True, "CONTRACT.txt"),
        ("trailing. ", True, "trailing.␠"),
        ("dots..", True, "dots.．"),
        ("..", True, ".．"),
        ("bad\udcff", True, "bad‛FF"),
        ("bad\udcff", False, "bad\udcff"),
    ],
)
def test_local_examples(name: str, windows: bool, local: str) -> None:
    assert to_local(name, windows=windows) == local
    assert from_local(local, windows=windows) == name


def test_remote_to_local_always_gives_one_component() -> None:
    for hostile in ["../../etc/passwd", "/", "a\\b", "", ".", "..", "x\x00y"]:
        local = remote_to_local(hostile, windows=False)
        assert _posix_ok(local) and os.sep not in local
        assert _windows_ok(remote_to_local(hostile, windows=True))


def test_undecodable_local_name_comes_back_byte_identical() -> None:
    raw = b"bad\xff\xfe.txt"
    name = os.fsdecode(raw) if os.name != "nt" else raw.decode("utf-8", "surrogateescape")
    remote = local_to_remote(name, windows=False)
    assert remote == "bad‛FF‛FE.txt"
    remote.encode("utf-8")  # storable and sendable
    back = remote_to_local(remote, windows=False)
    assert back.encode("utf-8", "surrogateescape") == raw
