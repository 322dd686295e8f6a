"""Write a file under a temporary name, then fsync and rename it into place.

Chunks are written at their offsets with ``os.pwrite`` in worker threads, so that any
number of concurrent ranged downloads can fill the same file without a shared cursor.
Until :meth:`AtomicFileWriter.commit` renames it, the data lives in
``.<name>.part-<random>`` next to the destination; any failure or cancellation deletes
that file, so nothing partial ever sits under the final name.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from types import TracebackType

import anyio.to_thread

from intralinks_async.transfers.errors import IntegrityError
from intralinks_async.transfers.names import temp_name_for

__all__ = ["AtomicFileWriter", "fsync_dir", "write_durable"]

_O_BINARY = getattr(os, "O_BINARY", 0)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """fsync a directory, making the renames inside it durable (where the OS can)."""
    _fsync_dir(Path(path))


def write_durable(
    dest: str | os.PathLike[str],
    data: bytes,
    *,
    sync_dir: bool = True,
    sha1: bool = False,
    sha256: bool = False,
    expected_sha1: str | None = None,
) -> tuple[str | None, str | None]:
    """Check and write ``data`` to ``dest``: hash, temporary file, write, fsync, rename.

    One worker-thread hop for a whole small download (blocking). Returns the base64
    SHA-1 and hex SHA-256 asked for; with ``expected_sha1`` a mismatch raises
    :class:`IntegrityError` before anything is written. ``sync_dir=False`` leaves the
    directory's fsync to the caller (a tree download syncs each directory once).
    """
    digest = None
    if sha1 or expected_sha1 is not None:
        raw = hashlib.sha1(data).digest()  # noqa: S324 (the API's fileHash)
        digest = base64.b64encode(raw).decode("ascii")
        if expected_sha1 is not None and digest != expected_sha1:
            raise IntegrityError(
                f"{os.path.basename(dest)!r}: SHA-1 {digest} does not match fileHash "
                f"{expected_sha1}"
            )
    hex256 = hashlib.sha256(data).hexdigest() if sha256 else None
    # os.path on the string: a Path per file costs more than the hop's bookkeeping.
    directory, name = os.path.split(os.fspath(dest))
    temp = os.path.join(directory, temp_name_for(name, secrets.token_hex(4)))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if sync_dir:
        _fsync_dir(Path(directory or "."))
    return digest, hex256


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicFileWriter:
    """Positional writer for ``dest`` through a temporary file in the same directory.

    Use as ``async with AtomicFileWriter(dest) as w: await w.write_at(0, b"..."); await
    w.commit()``; leaving the block without :meth:`commit` removes the temporary file.
    """

    def __init__(self, dest: str | os.PathLike[str], *, sync_dir: bool = True) -> None:
        self.dest = Path(dest)
        self.sync_dir = sync_dir
        self.temp_path = self.dest.with_name(temp_name_for(self.dest.name, secrets.token_hex(4)))
        self._fd: int | None = None
        self.committed = False

    @property
    def fd(self) -> int:
        """The open descriptor of the temporary file."""
        if self._fd is None:
            raise RuntimeError("writer is not open")
        return self._fd

    def open(self) -> None:
        """Create the temporary file (owner-only permissions; it must not exist yet)."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY
        if hasattr(os, "O_RDWR"):
            flags = (flags & ~os.O_WRONLY) | os.O_RDWR
        self._fd = os.open(self.temp_path, flags, 0o600)

    async def write_at(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Write all of ``data`` at ``offset`` (in a worker thread)."""
        await anyio.to_thread.run_sync(self._pwrite_all, offset, data)

    def _pwrite_all(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        fd = self.fd
        while view:
            written = os.pwrite(fd, view, offset)
            view = view[written:]
            offset += written

    def read_at(self, offset: int, size: int) -> bytes:
        """Read back ``size`` bytes at ``offset`` (blocking; call from a worker thread)."""
        return os.pread(self.fd, size, offset)

    def size(self) -> int:
        """Current size of the temporary file."""
        return os.fstat(self.fd).st_size

    async def commit(self) -> None:
        """fsync the data, rename the file to ``dest`` and fsync the directory (one hop)."""
        await anyio.to_thread.run_sync(self._commit)

    def _commit(self) -> None:
        fd = self.fd
        os.fsync(fd)
        self._fd = None
        os.close(fd)
        os.replace(self.temp_path, self.dest)
        self.committed = True
        if self.sync_dir:
            _fsync_dir(self.dest.parent)

    def abort(self) -> None:
        """Close and delete the temporary file (synchronous, safe under cancellation)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        if not self.committed:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp_path)

    async def __aenter__(self) -> AtomicFileWriter:
        await anyio.to_thread.run_sync(self.open)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.abort()
