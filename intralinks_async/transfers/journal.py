"""A SQLite journal that makes tree transfers resumable, one migration at a time.

Each item (keyed by its relative path) is recorded as ``planned`` before its transfer
starts and ``done`` (with remote id, size and SHA-1) once it completed. Records are
buffered in memory and written in batches, one transaction per batch, in a worker
thread (:meth:`Journal.flush`), so the event loop never waits on the disk. SQLite's
write-ahead log keeps the file consistent whatever happens to the process (Ctrl-C,
``kill -9``): a rerun skips what is ``done``; a record lost with the last unwritten
batch only means the rerun looks that item up remotely before sending it again.

One journal serves one migration at a time: opening takes an exclusive OS lock on a
side file (``<journal>.lock``) and SQLite's own exclusive lock, so a second process (or
a second run in the same process) gets :class:`JournalLockedError` at once.

Keys are stored losslessly: a key that is not valid UTF-8 (a file name the walk decoded
with ``surrogateescape``) is stored in the escaped form of
:func:`~intralinks_async.transfers.names.journal_key`. Any failure of the database (full
disk, corrupt pages) raises :class:`JournalError`, never a raw ``sqlite3`` error.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Literal

from intralinks_async.transfers.errors import (
    JournalError,
    JournalLockedError,
    JournalMismatchError,
)
from intralinks_async.transfers.names import (
    InvalidJournalKeyError,
    from_journal_key,
    journal_key,
)

__all__ = ["FLUSH_BATCH", "Journal", "JournalEntry", "JournalState"]

JournalState = Literal["planned", "done", "failed"]

#: Buffered records that make :meth:`Journal.needs_flush` true.
FLUSH_BATCH = 512

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('planned', 'done', 'failed')),
    remote_id TEXT,
    size INTEGER,
    sha1 TEXT,
    error TEXT,
    updated REAL NOT NULL
);
"""
_PLAN = (
    "INSERT INTO items (key, state, size, updated) VALUES (?, 'planned', ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET state = 'planned', size = excluded.size, "
    "error = NULL, updated = excluded.updated WHERE items.state != 'done'"
)
_DONE = (
    "INSERT INTO items (key, state, remote_id, size, sha1, updated) "
    "VALUES (?, 'done', ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET state = 'done', "
    "remote_id = excluded.remote_id, size = excluded.size, sha1 = excluded.sha1, "
    "error = NULL, updated = excluded.updated"
)
_FAILED = (
    "INSERT INTO items (key, state, error, updated) VALUES (?, 'failed', ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET state = 'failed', error = excluded.error, "
    "updated = excluded.updated WHERE items.state != 'done'"
)
_SELECT = "SELECT key, state, remote_id, size, sha1, error FROM items"

_Record = tuple[str, tuple[Any, ...]]


def _superseded_plans_dropped(batch: list[_Record]) -> list[_Record]:
    """``batch`` without the ``planned`` records of keys a later record of the same
    batch marks ``done`` (the outcome the two statements leave is the same)."""
    done = {params[0] for sql, params in batch if sql is _DONE}
    if not done:
        return batch
    return [r for r in batch if r[0] is not _PLAN or r[1][0] not in done]


def _runs(batch: list[_Record]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Consecutive records of one statement, grouped (one ``executemany`` each; the
    order of the records, which matters per key, is kept)."""
    sql: str | None = None
    rows: list[tuple[Any, ...]] = []
    for statement, params in batch:
        if statement is not sql:
            if sql is not None:
                yield sql, rows
            sql, rows = statement, []
        rows.append(params)
    if sql is not None:
        yield sql, rows


def _db_key(key: str) -> str:
    """``key`` as stored: itself when it is valid UTF-8, else its lossless escaped form."""
    if key.isascii() and not key.startswith("/"):
        return key  # what journal_key returns for these, without a scan per character
    return journal_key(key)


def _text(value: str) -> str:
    """Any string made storable as UTF-8 text (undecodable bytes shown as escapes)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _connect(path: str) -> sqlite3.Connection:
    """Open the database file (a seam for tests that simulate a full disk)."""
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal row."""

    key: str
    state: JournalState
    remote_id: str | None
    size: int | None
    sha1: str | None
    error: str | None


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    key = row[0]
    if isinstance(key, bytes):  # not written by this module
        key = os.fsdecode(key)
    try:
        return JournalEntry(from_journal_key(key), *row[1:])
    except InvalidJournalKeyError:
        raise sqlite3.DatabaseError(f"the journal holds a malformed key {key!r}") from None


class _FileLock:
    """An exclusive, non-blocking OS lock on ``path`` (created if needed)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def acquire(self) -> bool:
        fh = open(self.path, "a+b")  # noqa: SIM115 (held open while locked)
        try:
            if sys.platform == "win32":  # pragma: no cover (Windows)
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing the descriptor releases the lock
            self._fh = None


class Journal:
    """A transfer journal stored in one SQLite file, used by one migration at a time."""

    def __init__(self, path: str | os.PathLike[str], *, kind: str, scope: str) -> None:
        """Open (creating if needed) and lock the journal at ``path`` for ``kind``/``scope``.

        ``kind``/``scope`` (e.g. ``"upload"`` and ``"<workspace>:<folder>:<local dir>"``)
        are stored on first use; reopening it for another migration raises
        :class:`JournalMismatchError`; a journal another run holds raises
        :class:`JournalLockedError`.
        """
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"journal directory {parent!r} does not exist")
        self._lock = threading.RLock()
        self._pending: list[tuple[str, tuple[Any, ...]]] = []
        self._failure: JournalError | None = None
        self._closed = False
        self._file_lock = _FileLock(self.path + ".lock")
        try:
            locked = self._file_lock.acquire()
        except OSError as exc:
            raise JournalError(f"cannot lock journal {self.path!r}: {exc}") from None
        if not locked:
            raise JournalLockedError(
                f"journal {self.path!r} is in use by another migration (its lock file "
                f"{self._file_lock.path!r} is held); wait for it to finish"
            )
        try:
            self._db = self._open(kind, scope)
        except BaseException:
            self._file_lock.release()
            raise
        try:
            #: Whether the journal held entries when opened (a fresh one needs no lookups).
            self.had_entries = self._count() > 0
        except BaseException:
            self._closed = True
            self._db.close()
            self._file_lock.release()
            raise

    def _open(self, kind: str, scope: str) -> sqlite3.Connection:
        try:
            db = _connect(self.path)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path!r}: {exc}") from None
        try:
            # Exclusive mode before WAL: no shared-memory index, no other connection.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA busy_timeout=0")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            db.executescript(_SCHEMA)  # commits, keeping the exclusive lock
            self._check_meta(db, kind, scope)
        except sqlite3.OperationalError as exc:
            db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise JournalLockedError(
                    f"journal {self.path!r} is in use by another process ({exc})"
                ) from None
            raise JournalError(f"{self.path!r} is not a usable transfer journal ({exc})") from None
        except sqlite3.Error as exc:
            db.close()
            raise JournalError(f"{self.path!r} is not a usable transfer journal ({exc})") from None
        except BaseException:
            db.close()
            raise
        return db

    def _check_meta(self, db: sqlite3.Connection, kind: str, scope: str) -> None:
        rows = dict(db.execute("SELECT k, v FROM meta").fetchall())
        if not rows:
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO meta (k, v) VALUES (?, ?)",
                [("kind", kind), ("scope", _text(scope))],
            )
            db.execute("COMMIT")
            return
        if rows.get("kind") != kind or rows.get("scope") != _text(scope):
            raise JournalMismatchError(
                f"journal {self.path!r} belongs to a {rows.get('kind')} of "
                f"{rows.get('scope')!r}, not a {kind} of {_text(scope)!r}"
            )

    # -- database access -----------------------------------------------------------------

    @contextmanager
    def _database(self, doing: str) -> Iterator[sqlite3.Connection]:
        """Serialise access; turn any database failure into a lasting :class:`JournalError`."""
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._closed:
                raise JournalError(f"journal {self.path!r} is closed")
            try:
                yield self._db
            except (sqlite3.Error, OSError, ValueError) as exc:
                _rollback(self._db)
                self._failure = JournalError(
                    f"journal {self.path!r} failed while {doing}: {exc}; the migration "
                    "stopped (the journal holds what was recorded before, so a rerun "
                    "resumes from there once the cause is fixed)"
                )
                raise self._failure from None

    @property
    def failure(self) -> JournalError | None:
        """The error that broke the journal, if any (every later operation raises it)."""
        return self._failure

    def check(self) -> None:
        """Raise the journal's failure, if it has one."""
        if self._failure is not None:
            raise self._failure

    def _count(self) -> int:
        with self._database("reading it") as db:
            row = db.execute("SELECT COUNT(*) FROM items").fetchone()
        return int(row[0])

    def get(self, key: str) -> JournalEntry | None:
        """Return the entry for ``key``, or None (blocking: call it from a worker thread
        on a hot path; see :meth:`get_many`)."""
        self.flush()
        with self._database("reading it") as db:
            row = db.execute(_SELECT + " WHERE key = ?", (_db_key(key),)).fetchone()
        return None if row is None else _entry(row)

    def get_many(self, keys: Iterable[str]) -> dict[str, JournalEntry]:
        """Entries for ``keys`` (those present), in one query per 500 keys (blocking)."""
        wanted = list(keys)
        out: dict[str, JournalEntry] = {}
        self.flush()
        with self._database("reading it") as db:
            for start in range(0, len(wanted), 500):
                chunk = [_db_key(k) for k in wanted[start : start + 500]]
                marks = ",".join("?" * len(chunk))
                for row in db.execute(_SELECT + f" WHERE key IN ({marks})", chunk):
                    entry = _entry(row)
                    out[entry.key] = entry
        return out

    # -- buffered records ----------------------------------------------------------------

    def plan(self, key: str, *, size: int | None = None) -> None:
        """Record that ``key`` is about to be transferred (a done entry is left alone)."""
        self._pending.append((_PLAN, (_db_key(key), size, time.time())))

    def done(self, key: str, *, remote_id: str | None, size: int, sha1: str | None) -> None:
        """Record that ``key`` was transferred completely."""
        self._pending.append((_DONE, (_db_key(key), remote_id, size, sha1, time.time())))

    def failed(self, key: str, error: str) -> None:
        """Record that ``key`` failed (it is retried on the next run)."""
        self._pending.append((_FAILED, (_db_key(key), _text(error[:1000]), time.time())))

    @property
    def needs_flush(self) -> bool:
        """True when enough records are buffered to be worth a transaction."""
        return len(self._pending) >= FLUSH_BATCH

    def flush(self) -> None:
        """Write the buffered records in one transaction (blocking: use a worker thread)."""
        with self._lock:
            if not self._pending:
                self.check()
                return
            batch, self._pending = self._pending, []
            with self._database("writing to it") as db:
                db.execute("BEGIN")
                for sql, rows in _runs(_superseded_plans_dropped(batch)):
                    db.executemany(sql, rows)
                db.execute("COMMIT")

    # -- whole-journal views -------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Number of entries per state (buffered records first written)."""
        self.flush()
        with self._database("reading it") as db:
            return dict(db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall())

    def entries(self) -> list[JournalEntry]:
        """Every entry, ordered by key (buffered records first written)."""
        self.flush()
        with self._database("reading it") as db:
            rows = db.execute(_SELECT + " ORDER BY key").fetchall()
        return [_entry(row) for row in rows]

    def close(self) -> None:
        """Write what is buffered, close the database and release the lock.

        Raises :class:`JournalError` if the last records could not be written (the
        database is closed and the lock released all the same).
        """
        if self._closed:
            return
        try:
            if self._failure is None:
                self.flush()
        finally:
            with self._lock:
                self._closed = True
                self._db.close()
            self._file_lock.release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back an open transaction, ignoring a database too broken to do so."""
    if db.in_transaction:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            return
