"""Map remote names onto safe local file names.

A remote name can hold anything: ``../../x``, ``/``, ``\\``, NUL, control characters,
characters Windows forbids, reserved device names such as ``CON``, or more bytes than a
file system allows. :func:`sanitize_name` turns any of them into a single, harmless path
component; :class:`NameAllocator` keeps sanitised siblings distinct; :func:`safe_join`
is the last line of defence, refusing any path that would leave its root.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

__all__ = [
    "MAX_NAME_BYTES",
    "NameAllocator",
    "UnsafePathError",
    "is_temp_name",
    "safe_join",
    "sanitize_name",
    "temp_name_for",
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


def safe_join(root: str | os.PathLike[str], *parts: str) -> Path:
    """Join sanitised ``parts`` under ``root``, refusing anything that escapes it."""
    base = os.path.abspath(root)
    for part in parts:
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
    joined = os.path.abspath(os.path.join(base, *parts))
    if os.path.commonpath([base, joined]) != base or (joined == base and parts):
        raise UnsafePathError(f"path escapes {base!r}")
    return Path(joined)
