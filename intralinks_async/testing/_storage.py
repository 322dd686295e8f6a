"""Document content on disk: streamed writes, atomic commits, immutable blobs.

A blob is written to ``<root>/tmp/<random>.part`` while its SHA-1 and size are computed,
then renamed into ``<root>/blobs/`` in one ``os.replace``; only then does the caller
register the document, so a document never points at a partially written file. Blobs
are never modified in place (new content is a new blob), so an open download keeps
reading the version it started with.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Blob:
    """A committed, immutable file."""

    path: Path
    size: int
    sha1: bytes

    @property
    def file_hash(self) -> str:
        """Base64 SHA-1 of the content, as Intralinks' ``fileHash``."""
        return base64.b64encode(self.sha1).decode("ascii")

    @property
    def etag(self) -> str:
        """Strong entity tag derived from the content."""
        return f'"{self.sha1.hex()}"'


class BlobWriter:
    """Streams bytes to a temporary file, hashing as it goes."""

    def __init__(self, store: BlobStore) -> None:
        self._store = store
        self._tmp = store.tmp_dir / f"{uuid.uuid4().hex}.part"
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 (closed in commit/abort)
        self._sha1 = hashlib.sha1()  # noqa: S324 (content hash, not security)
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data``."""
        self._fh.write(data)
        self._sha1.update(data)
        self.size += len(data)

    def commit(self) -> Blob:
        """Close and atomically move the file into the blob directory."""
        self._fh.close()
        final = self._store.blob_dir / uuid.uuid4().hex
        os.replace(self._tmp, final)
        return Blob(final, self.size, self._sha1.digest())

    def abort(self) -> None:
        """Discard what was written."""
        if not self._fh.closed:
            self._fh.close()
        self._tmp.unlink(missing_ok=True)


class BlobStore:
    """A data directory (temporary unless given) holding ``blobs/`` and ``tmp/``.

    A temporary directory is removed whole by :meth:`close` (the state dies with the
    process). A given directory is ``persistent``: the metadata is kept next to the
    content (``state/``, see :mod:`._persist`) and nothing is removed.
    """

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.persistent = data_dir is not None
        if data_dir is None:
            self.root = Path(tempfile.mkdtemp(prefix="intralinks-emulator-"))
            self._cleanup: weakref.finalize[Any, Any] | None = weakref.finalize(
                self, shutil.rmtree, self.root, True
            )
        else:
            self.root = Path(data_dir)
            self._cleanup = None
        self.blob_dir = self.root / "blobs"
        self.tmp_dir = self.root / "tmp"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = str(self.tmp_dir)

    def writer(self) -> BlobWriter:
        """Start writing a new blob."""
        return BlobWriter(self)

    def put(self, data: bytes | bytearray | memoryview) -> Blob:
        """Store ``data`` as a blob in one call (whole small uploads, seeding, test helpers).

        Blocking (it creates a file), like the streamed path's writes.
        """
        name = uuid.uuid4().hex
        tmp = os.path.join(self._tmp, name + ".part")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            final = self.blob_dir / name
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return Blob(final, len(data), hashlib.sha1(data).digest())  # noqa: S324 (content hash)

    def delete(self, blob: Blob) -> None:
        """Remove a blob's file (open readers keep their handle)."""
        blob.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove a temporary data directory (a given one is kept, partial uploads aside)."""
        if self._cleanup is not None:
            self._cleanup()
            return
        for path in self.tmp_dir.glob("*.part"):
            path.unlink(missing_ok=True)
