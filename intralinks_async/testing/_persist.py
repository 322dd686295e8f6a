"""Metadata that survives a restart: a snapshot plus an append-only journal in the data dir.

Layout under ``<data_dir>/state/``: ``snapshot.jsonl`` (the whole state, one record per
line) and ``journal.jsonl`` (records appended after each request that changed
something). A record is ``{"k": kind, "w": workspace id, "i": id, "v": value}``: the
entity's full current value, ``null`` once deleted, so replaying the snapshot then the
journal in order rebuilds the state (last record per entity wins). Kinds: ``ws`` (meta,
splash, custom fields), ``folder``, ``doc`` (meta + blob), ``group`` (meta + members),
``perm``, and ``ids`` (the next id).

Journal lines are written with one ``os.write`` each on an ``O_APPEND`` descriptor, so
they survive the process being killed (not a power cut: no fsync per request). A torn
last line is dropped on load. The snapshot is replaced atomically (temp file, fsync,
``os.replace``), at start-up, when the journal grows long, and at :meth:`close`.
OAuth tokens are not kept (they are credentials): clients authenticate again.
One emulator at a time per directory (an exclusive lock where the OS offers one).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: no advisory lock
    fcntl = None  # type: ignore[assignment]

from ._state import DataRoom, DocumentRecord, GroupRecord, WorkspaceRecord, unindex
from ._storage import Blob, BlobStore

Record = dict[str, Any]

# Rewrite the snapshot once the journal holds this many lines more than the snapshot.
COMPACT_AFTER = 50_000


class DataDirError(ValueError):
    """The data directory cannot be used (locked by another emulator, or corrupt)."""


class StateFiles:
    """The snapshot and journal of one data directory (holds its lock while open)."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "state"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.snapshot_path = self.dir / "snapshot.jsonl"
        self.journal_path = self.dir / "journal.jsonl"
        self._lock = _lock(self.dir / "lock")
        self._fd: int | None = None
        self.snapshot_lines = 0
        self.journal_lines = 0

    def load(self) -> Iterator[Record]:
        """Every record: the snapshot's, then the journal's (a torn tail is cut off)."""
        self.snapshot_lines = 0
        if self.snapshot_path.exists():
            with open(self.snapshot_path, "rb") as fh:
                for n, line in enumerate(fh, 1):
                    record = _decode(line)
                    if record is None:
                        raise DataDirError(
                            f"{self.snapshot_path}: line {n} is not a state record (corrupt)"
                        )
                    self.snapshot_lines += 1
                    yield record
        yield from self._load_journal()

    def _load_journal(self) -> Iterator[Record]:
        self.journal_lines = 0
        if not self.journal_path.exists():
            return
        good = 0
        with open(self.journal_path, "rb") as fh:
            for line in fh:
                record = _decode(line)
                if record is None or not line.endswith(b"\n"):
                    break  # a write cut short by a crash: everything before it stands
                good += len(line)
                self.journal_lines += 1
                yield record
        if good != self.journal_path.stat().st_size:
            with open(self.journal_path, "r+b") as fh:
                fh.truncate(good)

    def append(self, records: Iterable[Record]) -> None:
        """Append records to the journal (each line in one ``write``)."""
        if self._fd is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0)
            self._fd = os.open(self.journal_path, flags, 0o644)
        for record in records:
            os.write(self._fd, _encode(record))
            self.journal_lines += 1

    def needs_compaction(self) -> bool:
        """True once the journal is long compared with the snapshot."""
        return self.journal_lines > COMPACT_AFTER + self.snapshot_lines

    def compact(self, records: Iterable[Record]) -> None:
        """Write ``records`` as the new snapshot atomically, then empty the journal."""
        tmp = self.dir / "snapshot.jsonl.tmp"
        count = 0
        with open(tmp, "wb") as fh:
            for record in records:
                fh.write(_encode(record))
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.snapshot_path)
        _fsync_dir(self.dir)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with open(self.journal_path, "wb"):
            pass
        self.snapshot_lines, self.journal_lines = count, 0

    def close(self) -> None:
        """Close the journal and release the directory's lock."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(OSError):
            self._lock.close()


def _encode(record: Record) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def _decode(line: bytes) -> Record | None:
    try:
        record = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("k"), str):
        return None
    return record


def _lock(path: Path) -> IO[bytes]:
    fh = open(path, "a+b")  # noqa: SIM115 (held open for the emulator's lifetime)
    if fcntl is not None:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise DataDirError(
                f"data dir {path.parent.parent} is in use by another emulator"
            ) from None
    return fh


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Persistence:
    """Keeps a :class:`~._state.DataRoom` in a data directory: loads it, saves changes."""

    def __init__(self, room: DataRoom, store: BlobStore) -> None:
        self.room = room
        self.store = store
        self.files = StateFiles(store.root)
        try:
            for record in self.files.load():
                _apply(room, store, record)
            _drop_dangling(room, store)
            self.files.compact(_all_records(room))
        except BaseException:
            self.files.close()
            raise
        self._saved_next_id = room.next_id
        room.dirty = {}

    def commit(self) -> None:
        """Append the entities changed since the last call to the journal."""
        room = self.room
        dirty = room.dirty
        if not dirty and room.next_id == self._saved_next_id:
            return
        records = [_entity_record(room, *key) for key in dirty or ()]
        if room.next_id != self._saved_next_id:
            records.append({"k": "ids", "v": room.next_id})
            self._saved_next_id = room.next_id
        room.dirty = {}
        self.files.append(records)
        if self.files.needs_compaction():
            self.files.compact(_all_records(room))

    def close(self) -> None:
        """Save, write a fresh snapshot and release the directory."""
        try:
            self.commit()
            self.files.compact(_all_records(room=self.room))
        finally:
            self.files.close()


def _entity_record(room: DataRoom, kind: str, ws_id: str, ident: str) -> Record:
    ws = room.workspaces.get(ws_id)
    value: Any = None
    if kind == "ws":
        value = None if ws is None else _ws_value(ws)
    elif ws is not None:
        if kind == "folder":
            value = ws.folders.get(ident)
        elif kind == "doc":
            doc = ws.documents.get(ident)
            value = None if doc is None else _doc_value(doc)
        elif kind == "group":
            group = ws.groups.get(ident)
            value = None if group is None else {"meta": group.meta, "members": group.members}
        elif kind == "perm":
            value = ws.permissions.get(ident)
    return {"k": kind, "w": ws_id, "i": ident, "v": value}


def _ws_value(ws: WorkspaceRecord) -> dict[str, Any]:
    return {"meta": ws.meta, "splash": ws.splash, "customFields": ws.custom_fields}


def _doc_value(doc: DocumentRecord) -> dict[str, Any]:
    blob = doc.blob
    return {"meta": doc.meta, "blob": blob.path.name, "size": blob.size, "sha1": blob.sha1.hex()}


def _all_records(room: DataRoom) -> Iterator[Record]:
    for ws_id, ws in room.workspaces.items():
        yield {"k": "ws", "w": ws_id, "i": ws_id, "v": _ws_value(ws)}
        for fid, folder in ws.folders.items():
            yield {"k": "folder", "w": ws_id, "i": fid, "v": folder}
        for did, doc in ws.documents.items():
            yield {"k": "doc", "w": ws_id, "i": did, "v": _doc_value(doc)}
        for gid, group in ws.groups.items():
            value = {"meta": group.meta, "members": group.members}
            yield {"k": "group", "w": ws_id, "i": gid, "v": value}
        for pid, perm in ws.permissions.items():
            yield {"k": "perm", "w": ws_id, "i": pid, "v": perm}
    yield {"k": "ids", "v": room.next_id}


def _apply(room: DataRoom, store: BlobStore, record: Record) -> None:
    """Replay one record (last record per entity wins)."""
    try:
        kind, value = record["k"], record["v"]
        if kind == "ids":
            room.next_id = max(room.next_id, int(value))
            return
        ws_id, ident = str(record["w"]), str(record["i"])
        if kind == "ws":
            _apply_workspace(room, ws_id, value)
            return
        ws = room.workspaces.get(ws_id)
        if ws is None:
            return
        if kind == "folder":
            _put(ws.folders, ident, value)
        elif kind == "doc":
            _apply_document(ws, store, ident, value)
        elif kind == "group":
            group = None if value is None else GroupRecord(value["meta"], value["members"])
            _put(ws.groups, ident, group)
        elif kind == "perm":
            _put(ws.permissions, ident, value)
    except (KeyError, TypeError, ValueError) as exc:
        raise DataDirError(f"unreadable state record {str(record)[:200]!r}: {exc}") from None


def _put(table: dict[str, Any], ident: str, value: Any) -> None:
    if value is None:
        table.pop(ident, None)
    else:
        table[ident] = value


def _apply_workspace(room: DataRoom, ws_id: str, value: Any) -> None:
    if value is None:
        room.workspaces.pop(ws_id, None)
        return
    ws = room.workspaces.get(ws_id)
    if ws is None:
        room.workspaces[ws_id] = WorkspaceRecord(
            meta=value["meta"], splash=value["splash"], custom_fields=value["customFields"]
        )
    else:
        ws.meta, ws.splash, ws.custom_fields = value["meta"], value["splash"], value["customFields"]


def _apply_document(ws: WorkspaceRecord, store: BlobStore, ident: str, value: Any) -> None:
    old = ws.documents.pop(ident, None) if value is None else ws.documents.get(ident)
    if old is not None:
        unindex(ws, old)
    if value is None:
        return
    blob = Blob(store.blob_dir / Path(value["blob"]).name, int(value["size"]),
                bytes.fromhex(value["sha1"]))  # fmt: skip
    if old is not None:
        old.meta, old.blob = value["meta"], blob
        doc = old
    else:
        doc = DocumentRecord(value["meta"], blob)
        ws.documents[ident] = doc
    ws.by_folder.setdefault(doc.meta["folderId"], {})[ident] = doc


def _drop_dangling(room: DataRoom, store: BlobStore) -> None:
    """Forget documents whose content file is gone; delete files no document uses."""
    used: set[str] = set()
    for ws in room.workspaces.values():
        for ident, doc in list(ws.documents.items()):
            if doc.blob.path.is_file():
                used.add(doc.blob.path.name)
            else:
                del ws.documents[ident]
                unindex(ws, doc)
    for path in store.blob_dir.iterdir():
        if path.name not in used:
            path.unlink(missing_ok=True)
    for path in store.tmp_dir.iterdir():
        path.unlink(missing_ok=True)
