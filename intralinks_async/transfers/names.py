"""Name mapping between local file systems and the data room: the one owner of it.

Exact, reversible mappings (up and back is byte-identical):

- :func:`to_remote` / :func:`from_remote`: characters the service forbids
  (``/ \\ : * " < > ? |``, plus control characters, undecodable bytes and whole names
  such as ``""``, ``.`` or blanks) become visible lookalikes (FULLWIDTH COLON for ``:`` ...).
- :func:`to_local` / :func:`from_local`: what the local file system forbids (on POSIX
  ``/`` and NUL; on Windows also control characters, trailing dots and spaces and device
  names such as ``CON``) likewise.
- :func:`remote_to_local` / :func:`local_to_remote`: the two composed, as tree and file
  transfers use them.

Every mapping escapes names that already contain a lookalike with :data:`ESCAPE` (U+201B), so
that it is a bijection; a name that was never encoded (say, made in the web interface)
decodes to itself unless it holds a lookalike. Helpers for case-insensitive destinations
(:func:`fs_is_case_insensitive`, :class:`CaseCollisionAllocator`) and for names that are
not valid UTF-8 (:func:`journal_key`, :func:`display_name`) complete it.

Lossy, defensive helpers kept for callers that want them: :func:`sanitize_name` turns
any remote name into a single, harmless path component; :class:`NameAllocator` keeps
sanitised siblings distinct; :func:`safe_join` is the last line of defence, refusing any
path that would leave its root.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "ESCAPE",
    "IS_WINDOWS",
    "MAX_NAME_BYTES",
    "REMOTE_FORBIDDEN",
    "WINDOWS_FORBIDDEN",
    "CaseCollisionAllocator",
    "InvalidJournalKeyError",
    "NameAllocator",
    "UnsafePathError",
    "display_name",
    "from_journal_key",
    "from_local",
    "from_remote",
    "fs_is_case_insensitive",
    "is_temp_name",
    "is_undecodable",
    "journal_key",
    "local_to_remote",
    "remote_to_local",
    "safe_child",
    "safe_join",
    "sanitize_name",
    "temp_name_for",
    "to_local",
    "to_remote",
]

#: Longest sanitised name, in UTF-8 bytes; leaves room for the temporary-file affixes
#: within the usual 255-byte limit of file systems.
MAX_NAME_BYTES = 200

_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{n}" for p in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")]
)
_TEMP_RE = re.compile(r"^\..+\.part-[0-9a-f]{8}$", re.DOTALL)
_MAX_EXT_CHARS = 16


class UnsafePathError(ValueError):
    """A computed local path would fall outside its destination directory."""


def is_temp_name(name: str) -> bool:
    """Return whether ``name`` has the shape of a transfer's temporary file."""
    return bool(_TEMP_RE.match(name))


def temp_name_for(name: str, token: str) -> str:
    """Temporary file name used while ``name`` is being written (``token``: 8 hex digits)."""
    return f".{name}.part-{token}"


def _truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def _split_ext(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > _MAX_EXT_CHARS:
        return name, ""
    return stem, "." + ext


def _fit(name: str, limit: int = MAX_NAME_BYTES) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, ext = _split_ext(name)
    room = limit - len(ext.encode("utf-8"))
    if room < 1:
        return _truncate_utf8(name, limit)
    return _truncate_utf8(stem, room) + ext


def sanitize_name(name: str) -> str:
    """Return a single safe path component for the remote ``name``.

    The result is never empty, ``.`` or ``..``; contains no separator, NUL, control or
    Windows-reserved character; does not end in a dot or space; is not a Windows device
    name; is NFC-normalised and at most :data:`MAX_NAME_BYTES` UTF-8 bytes long.
    """
    text = unicodedata.normalize("NFC", name)
    # Lone surrogates cannot be encoded to a file name.
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    text = _FORBIDDEN.sub("_", text)
    text = text.strip(" ")
    text = text.rstrip(". ")
    if not text or set(text) <= {"."}:
        text = "_" + text.replace(".", "_")
    stem = text.split(".", 1)[0].rstrip(" ").upper()
    if stem in _WINDOWS_RESERVED:
        text = "_" + text
    if is_temp_name(text):
        text = text + "_"
    text = _fit(text)
    text = text.rstrip(". ") or "_"
    return text


def _key(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


class NameAllocator:
    """Hand out distinct sanitised names within one directory.

    Names are compared case-insensitively, so that a mirror is also correct on
    case-insensitive file systems; a clash gets `` (2)``, `` (3)``... before the extension.
    """

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def reserve(self, name: str) -> None:
        """Mark an already-sanitised ``name`` as used."""
        self._taken.add(_key(name))

    def allocate(self, remote_name: str) -> str:
        """Return a sanitised, not yet used name for ``remote_name`` and mark it used."""
        base = sanitize_name(remote_name)
        candidate = base
        counter = 1
        while _key(candidate) in self._taken:
            counter += 1
            stem, ext = _split_ext(base)
            suffix = f" ({counter}){ext}"
            candidate = _truncate_utf8(stem, MAX_NAME_BYTES - len(suffix.encode())) + suffix
        self._taken.add(_key(candidate))
        return candidate


def _check_component(part: str) -> None:
    if (
        not part
        or part in (".", "..")
        or "/" in part
        or "\\" in part
        or "\x00" in part
        or os.sep in part
        or (os.altsep is not None and os.altsep in part)
    ):
        raise UnsafePathError(f"unsafe path component {part!r}")


def safe_child(directory: str, name: str) -> Path:
    """``directory/name`` for an absolute ``directory`` already known to be safe.

    The one-component case of :func:`safe_join` (each file of a tree under its
    directory): ``name`` is checked the same way, with no path normalisation to redo.
    """
    _check_component(name)
    return Path((directory if directory.endswith(os.sep) else directory + os.sep) + name)


def safe_join(root: str | os.PathLike[str], *parts: str) -> Path:
    """Join sanitised ``parts`` under ``root``, refusing anything that escapes it."""
    base = os.path.abspath(root)
    for part in parts:
        _check_component(part)
    joined = os.path.abspath(os.path.join(base, *parts))
    if os.path.commonpath([base, joined]) != base or (joined == base and parts):
        raise UnsafePathError(f"path escapes {base!r}")
    return Path(joined)


# --- reversible mappings --------------------------------------------------------------

#: The escape character (U+201B SINGLE HIGH-REVERSED-9 QUOTATION MARK).
ESCAPE = "\u201b"
#: Characters the Intralinks service refuses in document and folder names.
REMOTE_FORBIDDEN = '/\\:*"<>?|'
#: Characters Windows refuses in file names (control characters aside).
WINDOWS_FORBIDDEN = '<>:"/\\|?*'
#: Whether this process runs on Windows (the default for ``windows=`` arguments).
IS_WINDOWS = os.name == "nt"

_EMPTY_LOOKALIKE = "\u2205"  # EMPTY SET stands for an empty name
_BLANK_MARK = "\u2420"  # SYMBOL FOR SPACE prefixes a name made only of whitespace
_DEVICE_NAMES = _WINDOWS_RESERVED | {"COM0", "LPT0"}
_FULLWIDTH_OFFSET = 0xFEE0  # printable ASCII + offset = its FULLWIDTH form
_CONTROL_SYMBOLS = 0x2400  # control character + offset = its SYMBOL FOR ... form
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_HEX_PAIR = re.compile("[89A-F][0-9A-F]")


def _fullwidth(char: str) -> str:
    return chr(ord(char) + _FULLWIDTH_OFFSET)


class _CharRules:
    """Per-character rules of one name space; :meth:`encode` and :meth:`decode` invert.

    A run of ``k`` escapes before a character that must be replaced is written ``2k``
    escapes + its lookalike; before a literal lookalike, ``2k + 1`` escapes + it. With
    ``hex_bytes``, an undecodable byte (surrogate-escaped, U+DC80..U+DCFF) is written as
    ``2k + 1`` escapes + two upper-case hex digits, and literal such digits after ``k > 0``
    escapes as ``2k`` escapes + them. Everything else is copied.
    """

    def __init__(self, forward: dict[str, str], tail: dict[str, str], *, hex_bytes: bool) -> None:
        self.forward = forward
        self.tail = tail  # replaced only as the last character of a name
        self.hex_bytes = hex_bytes
        self.backward = {v: k for k, v in forward.items()}
        self.tail_backward = {v: k for k, v in tail.items()}
        chars = set(forward) | set(self.backward) | {ESCAPE}
        pattern = "[" + "".join(re.escape(c) for c in sorted(chars))
        pattern += "\udc80-\udcff]" if hex_bytes else "]"
        self._special = re.compile(pattern)
        self._tail_special = set(tail) | set(self.tail_backward)

    def _plain(self, name: str) -> bool:
        return self._special.search(name) is None and not (name and name[-1] in self._tail_special)

    def _pair_at(self, name: str, index: int) -> bool:
        return self.hex_bytes and _HEX_PAIR.match(name, index) is not None

    def encode(self, name: str) -> str:
        """Replace every forbidden character; escape literal lookalikes."""
        if self._plain(name):
            return name
        out: list[str] = []
        i, n = 0, len(name)
        while i < n:
            j = i
            while j < n and name[j] == ESCAPE:
                j += 1
            k = j - i
            if j == n:
                out.append(ESCAPE * k)
                break
            c, last = name[j], j == n - 1
            mapped = self.forward.get(c) or (self.tail.get(c) if last else None)
            i = j + 1
            if mapped is not None:
                out += [ESCAPE * (2 * k), mapped]
            elif c in self.backward or (last and c in self.tail_backward):
                out += [ESCAPE * (2 * k + 1), c]
            elif self.hex_bytes and "\udc80" <= c <= "\udcff":
                out += [ESCAPE * (2 * k + 1), f"{ord(c) - 0xDC00:02X}"]
            elif k and self._pair_at(name, j):
                out += [ESCAPE * (2 * k), name[j : j + 2]]
                i = j + 2
            else:
                out += [ESCAPE * k, c]
        return "".join(out)

    def decode(self, name: str) -> str:
        """The exact inverse of :meth:`encode`; copies what it does not recognise."""
        if self._plain(name):
            return name
        out: list[str] = []
        i, n = 0, len(name)
        while i < n:
            j = i
            while j < n and name[j] == ESCAPE:
                j += 1
            m = j - i
            if j == n:
                out.append(ESCAPE * m)
                break
            c, last = name[j], j == n - 1
            original = self.backward.get(c)
            if original is None and last:
                original = self.tail_backward.get(c)
            i = j + 1
            if original is not None:
                out += [ESCAPE * (m // 2), c if m % 2 else original]
            elif m and self._pair_at(name, j):
                pair = name[j : j + 2]
                out += [ESCAPE * (m // 2), chr(0xDC00 + int(pair, 16)) if m % 2 else pair]
                i = j + 2
            else:
                out += [ESCAPE * m, c]
        return "".join(out)


class _WholeRules:
    """Rules for whole names (``""``, ``.``, ``CON``...); :meth:`encode`/:meth:`decode` invert.

    A bad name (no leading escape) becomes its lookalike; a name that, leading escapes
    stripped, looks like a lookalike gets one more leading escape.
    """

    def __init__(
        self,
        to_lookalike: Callable[[str], str | None],
        from_lookalike: Callable[[str], str | None],
    ) -> None:
        self._to = to_lookalike  # None unless the name is bad
        self._from = from_lookalike  # None unless the name is a lookalike

    def encode(self, name: str) -> str:
        """Replace a bad name; escape one that looks like a replacement."""
        rest = name.lstrip(ESCAPE)
        if rest == name:
            lookalike = self._to(name)
            if lookalike is not None:
                return lookalike
        if self._from(rest) is not None:
            return ESCAPE + name
        return name

    def decode(self, name: str) -> str:
        """The exact inverse of :meth:`encode`."""
        rest = name.lstrip(ESCAPE)
        original = self._from(rest)
        if original is None:
            return name
        return original if rest == name else name[1:]


_DOT_NAMES = {"": _EMPTY_LOOKALIKE, ".": _fullwidth("."), "..": _fullwidth(".") * 2}
_DOT_LOOKALIKES = {v: k for k, v in _DOT_NAMES.items()}


def _remote_bad(name: str) -> str | None:
    if name in _DOT_NAMES:
        return _DOT_NAMES[name]
    return _BLANK_MARK + name if not name.strip() else None


def _remote_lookalike(name: str) -> str | None:
    if name in _DOT_LOOKALIKES:
        return _DOT_LOOKALIKES[name]
    if name.startswith(_BLANK_MARK) and len(name) > 1 and not name[1:].strip():
        return name[1:]
    return None


def _is_device_name(name: str) -> bool:
    return name.split(".", 1)[0].rstrip(" ").upper() in _DEVICE_NAMES


def _windows_bad(name: str) -> str | None:
    if name == "":
        return _EMPTY_LOOKALIKE
    if name[0].isascii() and name[0].isalpha() and _is_device_name(name):
        return _fullwidth(name[0]) + name[1:]
    return None


def _windows_lookalike(name: str) -> str | None:
    if name == _EMPTY_LOOKALIKE:
        return ""
    if name and ("\uff21" <= name[0] <= "\uff3a" or "\uff41" <= name[0] <= "\uff5a"):
        ascii_name = chr(ord(name[0]) - _FULLWIDTH_OFFSET) + name[1:]
        if _is_device_name(ascii_name):
            return ascii_name
    return None


_CONTROLS = {chr(c): chr(_CONTROL_SYMBOLS + c) for c in range(0x20)}
_REMOTE_CHARS = _CharRules(
    {c: _fullwidth(c) for c in REMOTE_FORBIDDEN} | _CONTROLS | {"\x7f": "\u2421"},
    {},
    hex_bytes=True,
)
_REMOTE_WHOLE = _WholeRules(_remote_bad, _remote_lookalike)
_POSIX_CHARS = _CharRules({"/": _fullwidth("/"), "\x00": "\u2400"}, {}, hex_bytes=False)
_POSIX_WHOLE = _WholeRules(_DOT_NAMES.get, _DOT_LOOKALIKES.get)
_WINDOWS_CHARS = _CharRules(
    {c: _fullwidth(c) for c in WINDOWS_FORBIDDEN} | _CONTROLS,
    {".": _fullwidth("."), " ": _BLANK_MARK},
    hex_bytes=True,
)
_WINDOWS_WHOLE = _WholeRules(_windows_bad, _windows_lookalike)


def to_remote(name: str) -> str:
    """The data-room name for the (decoded) name ``name``; :func:`from_remote` inverts it.

    ``/ \\ : * " < > ? |`` become their FULLWIDTH forms, control characters
    their SYMBOL FOR forms, an undecodable byte :data:`ESCAPE` + two hex digits; ``""``,
    ``.``, ``..`` and blank names a visible stand-in. Lookalikes already in ``name`` are
    escaped with :data:`ESCAPE`.
    """
    return _REMOTE_WHOLE.encode(_REMOTE_CHARS.encode(name))


def from_remote(name: str) -> str:
    """The decoded name of the data-room name ``name`` (inverse of :func:`to_remote`).

    A name made by another tool stays as it is unless it holds a lookalike (FULLWIDTH COLON
    reads as ``:``), and ``to_remote`` gives it back unchanged.
    """
    return _REMOTE_CHARS.decode(_REMOTE_WHOLE.decode(name))


def to_local(name: str, *, windows: bool) -> str:
    """The local file name for the decoded name ``name``; :func:`from_local` inverts it.

    POSIX: ``/`` and NUL become FULLWIDTH SOLIDUS and SYMBOL FOR NULL; ``""``, ``.``, ``..`` a stand-in.
    Windows (``windows=True``): also ``< > : " \\ | ? *``, control characters, a trailing
    dot or space, undecodable bytes and device names (``CON``, ``COM1.txt``...).
    """
    if windows:
        return _WINDOWS_WHOLE.encode(_WINDOWS_CHARS.encode(name))
    return _POSIX_WHOLE.encode(_POSIX_CHARS.encode(name))


def from_local(name: str, *, windows: bool) -> str:
    """The decoded name of the local file name ``name`` (inverse of :func:`to_local`)."""
    if windows:
        return _WINDOWS_CHARS.decode(_WINDOWS_WHOLE.decode(name))
    return _POSIX_CHARS.decode(_POSIX_WHOLE.decode(name))


def local_to_remote(name: str, *, windows: bool = IS_WINDOWS) -> str:
    """The data-room name for the local file name ``name`` (what uploads use)."""
    return to_remote(from_local(name, windows=windows))


def remote_to_local(name: str, *, windows: bool = IS_WINDOWS) -> str:
    """The local file name for the data-room name ``name`` (what downloads use).

    The result is one path component: never empty, ``.``, ``..``, nor holding a
    separator or NUL (nor, on Windows, anything Windows refuses).
    """
    return to_local(from_remote(name), windows=windows)


# --- names that are not valid UTF-8 ---------------------------------------------------

_JOURNAL_MARK = "/"  # relative paths never start with it: marks an escaped key
_JOURNAL_ESCAPE = re.compile(r"\\(?:\\|x[89a-f][0-9a-f]|u[dD][89a-fA-F][0-9a-fA-F]{2})")


class InvalidJournalKeyError(ValueError):
    """A journal key that :func:`journal_key` cannot have produced."""


def is_undecodable(name: str) -> bool:
    """Whether ``name`` holds bytes that are not valid UTF-8 (lone surrogates in ``str``)."""
    return any("\ud800" <= c <= "\udfff" for c in name)


def _escape_surrogate(char: str) -> str:
    code = ord(char)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def journal_key(name: str) -> str:
    """A lossless, valid-UTF-8 form of the (relative) path ``name`` for the journal.

    Decodable names that do not start with ``/`` are returned unchanged; the others are
    ``/`` + the name with ``\\`` doubled and each undecodable byte written ``\\xff``.
    """
    if not name.startswith(_JOURNAL_MARK) and not is_undecodable(name):
        return name
    body = "".join(
        "\\\\" if c == "\\" else _escape_surrogate(c) if "\ud800" <= c <= "\udfff" else c
        for c in name
    )
    return _JOURNAL_MARK + body


def from_journal_key(key: str) -> str:
    """The name :func:`journal_key` was given (raises :class:`InvalidJournalKeyError`)."""
    if not key.startswith(_JOURNAL_MARK):
        return key
    body = key[len(_JOURNAL_MARK) :]

    def unescape(match: re.Match[str]) -> str:
        text = match.group()
        return (
            "\\" if text == "\\\\" else chr(int(text[2:], 16) + (0xDC00 if text[1] == "x" else 0))
        )

    decoded = _JOURNAL_ESCAPE.sub(unescape, body)
    if journal_key(decoded) != key:
        raise InvalidJournalKeyError(f"not a journal key: {key!r}")
    return decoded


def display_name(name: str) -> str:
    """A visible, valid-UTF-8 stand-in for ``name``: each undecodable byte as ``\\xff``."""
    if not is_undecodable(name):
        return name
    return "".join(_escape_surrogate(c) if "\ud800" <= c <= "\udfff" else c for c in name)


# --- case-insensitive destinations ----------------------------------------------------

_CASE_PROBES: dict[tuple[int, int], bool] = {}


def fs_is_case_insensitive(directory: str | os.PathLike[str]) -> bool:
    """Whether ``directory`` treats ``a`` and ``A`` as one name.

    Probes once per directory (creates, stats and removes a temporary file in
    ``directory``; blocking: call it in a worker thread): on one file system, Linux
    ``casefold`` directories sit next to case-sensitive ones. When the probe cannot run
    (a read-only directory...), answers the platform's usual default without caching it.
    """
    st = os.stat(directory)
    device = (st.st_dev, st.st_ino)
    cached = _CASE_PROBES.get(device)
    if cached is not None:
        return cached
    try:
        fd, probe = tempfile.mkstemp(prefix=".intralinks-case-", dir=directory)
    except OSError:
        return sys.platform in ("darwin", "win32")
    try:
        os.close(fd)
        head, tail = os.path.split(probe)
        try:
            result = os.path.samefile(probe, os.path.join(head, tail.swapcase()))
        except OSError:
            result = False
    finally:
        os.unlink(probe)
    _CASE_PROBES[device] = result
    return result


class CaseCollisionAllocator:
    """Keep local names of one directory distinct on a case-insensitive file system.

    With ``case_insensitive=False`` every name is returned unchanged. Otherwise a name
    equal to an earlier one but for case (or Unicode normalisation) gets `` (2)``,
    `` (3)``... before its extension; :attr:`renames` maps each new name to the original.
    """

    def __init__(self, *, case_insensitive: bool) -> None:
        self.case_insensitive = case_insensitive
        self._taken: set[str] = set()
        #: ``{allocated name: name asked for}`` for every name that had to change.
        self.renames: dict[str, str] = {}

    def reserve(self, name: str) -> None:
        """Mark ``name`` (say, a file already in the directory) as used."""
        self._taken.add(_key(name) if self.case_insensitive else name)

    def allocate(self, name: str) -> str:
        """Return ``name``, or a renamed variant if a case-only twin was allocated before."""
        if not self.case_insensitive:
            return name
        candidate, counter = name, 1
        while _key(candidate) in self._taken:
            counter += 1
            stem, ext = _split_ext(name)
            candidate = f"{stem} ({counter}){ext}"
        self._taken.add(_key(candidate))
        if candidate != name:
            self.renames[candidate] = name
        return candidate
