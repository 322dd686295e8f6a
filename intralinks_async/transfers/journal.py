"""A SQLite journal that makes tree transfers resumable.

Each item (keyed by its relative path) is recorded as ``planned`` before its transfer
starts and ``done`` (with remote id, size and SHA-1) once it completed, each in its own
committed transaction. SQLite's write-ahead log keeps the file consistent whatever
happens to the process (Ctrl-C, cancellation, ``kill -9``): a rerun skips what is
``done`` and double-checks the remote side for what was only ``planned``.

Statements are single-row primary-key operations in WAL mode with ``synchronous=NORMAL``
(no fsync per commit), cheap enough to run on the event loop.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from typing import Literal

from intralinks_async.transfers.errors import JournalError, JournalMismatchError

__all__ = ["Journal", "JournalEntry", "JournalState"]

JournalState = Literal["planned", "done", "failed"]

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


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journal row."""

    key: str
    state: JournalState
    remote_id: str | None
    size: int | None
    sha1: str | None
    error: str | None


class Journal:
    """A transfer journal stored in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str], *, kind: str, scope: str) -> None:
        """Open (creating if needed) the journal at ``path`` for a ``kind`` transfer of ``scope``.

        ``kind``/``scope`` (e.g. ``"upload"`` and ``"<workspace>:<folder>:<local dir>"``)
        are stored on first use; reopening it for another migration raises
        :class:`JournalMismatchError`.
        """
        self.path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise FileNotFoundError(f"journal directory {parent!r} does not exist")
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open journal {self.path!r}: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            self._check_meta(kind, scope)
        except sqlite3.Error as exc:
            self._db.close()
            raise JournalError(f"{self.path!r} is not a usable transfer journal ({exc})") from None
        except BaseException:
            self._db.close()
            raise

    def _check_meta(self, kind: str, scope: str) -> None:
        rows = dict(self._db.execute("SELECT k, v FROM meta").fetchall())
        if not rows:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO meta (k, v) VALUES (?, ?)", [("kind", kind), ("scope", scope)]
                )
            return
        if rows.get("kind") != kind or rows.get("scope") != scope:
            raise JournalMismatchError(
                f"journal {self.path!r} belongs to a {rows.get('kind')} of "
                f"{rows.get('scope')!r}, not a {kind} of {scope!r}"
            )

    def get(self, key: str) -> JournalEntry | None:
        """Return the entry for ``key``, or None."""
        row = self._db.execute(
            "SELECT key, state, remote_id, size, sha1, error FROM items WHERE key = ?", (key,)
        ).fetchone()
        return None if row is None else JournalEntry(*row)

    def plan(self, key: str, *, size: int | None = None) -> None:
        """Record that ``key`` is about to be transferred (a done entry is left alone)."""
        self._db.execute(
            "INSERT INTO items (key, state, size, updated) VALUES (?, 'planned', ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = 'planned', size = excluded.size, "
            "error = NULL, updated = excluded.updated WHERE items.state != 'done'",
            (key, size, time.time()),
        )

    def done(self, key: str, *, remote_id: str | None, size: int, sha1: str | None) -> None:
        """Record that ``key`` was transferred completely."""
        self._db.execute(
            "INSERT INTO items (key, state, remote_id, size, sha1, updated) "
            "VALUES (?, 'done', ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET state = 'done', "
            "remote_id = excluded.remote_id, size = excluded.size, sha1 = excluded.sha1, "
            "error = NULL, updated = excluded.updated",
            (key, remote_id, size, sha1, time.time()),
        )

    def failed(self, key: str, error: str) -> None:
        """Record that ``key`` failed (it is retried on the next run)."""
        self._db.execute(
            "INSERT INTO items (key, state, error, updated) VALUES (?, 'failed', ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = 'failed', error = excluded.error, "
            "updated = excluded.updated WHERE items.state != 'done'",
            (key, error[:1000], time.time()),
        )

    def counts(self) -> dict[str, int]:
        """Number of entries per state."""
        return dict(self._db.execute("SELECT state, COUNT(*) FROM items GROUP BY state").fetchall())

    def entries(self) -> list[JournalEntry]:
        """Every entry, ordered by key."""
        rows = self._db.execute(
            "SELECT key, state, remote_id, size, sha1, error FROM items ORDER BY key"
        ).fetchall()
        return [JournalEntry(*row) for row in rows]

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"
