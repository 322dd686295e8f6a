"""The summary a tree transfer returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from intralinks_async.transfers.names import display_name

__all__ = ["TransferFailure", "TransferReport"]


def _shown(text: str) -> str:
    """``text`` with undecodable bytes (surrogate escapes) shown as ``\\xNN``."""
    return display_name(text)


def _drop_frames(error: BaseException) -> None:
    """Clear the tracebacks of ``error`` and of the exceptions chained to it.

    A traceback keeps every frame of the failed transfer alive, buffers included; a
    mass failure (server down for a million files) must not hold them all.
    """
    stack = [error]
    seen: set[int] = set()
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        exc.__traceback__ = None
        stack.extend(e for e in (exc.__cause__, exc.__context__) if e is not None)
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)


@dataclass(frozen=True, slots=True)
class TransferFailure:
    """One item that failed, with the error that ended it (its traceback is dropped)."""

    path: str
    error: BaseException

    def __post_init__(self) -> None:
        _drop_frames(self.error)

    @property
    def message(self) -> str:
        """``"<ErrorType>: <message>"``."""
        return f"{type(self.error).__name__}: {self.error}"


@dataclass(slots=True)
class TransferReport:
    """Counts, bytes, timing, retries and failures of an upload/download tree run.

    ``succeeded`` counts items transferred in this run, ``adopted`` those found already
    stored after a lost response (not sent twice), ``skipped`` those already done
    (journal) or already present; ``retries`` counts every request re-sent, by the client's
    retry policy or by the transfer itself (re-requested byte ranges, re-sent uploads).
    Paths may hold characters that are not valid UTF-8 (escaped as ``\\xNN`` in
    :meth:`to_dict`).
    """

    operation: str
    items_total: int = 0
    succeeded: int = 0
    skipped: int = 0
    adopted: int = 0
    folders_created: int = 0
    bytes_transferred: int = 0
    elapsed: float = 0.0
    retries: int = 0
    failures: list[TransferFailure] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    """``(local path, remote path)`` of every item stored under another name."""
    aborted: str | None = None
    """Why the run stopped before every item was attempted (None: it ran to the end)."""
    rate_control: dict[str, Any] | None = None
    """The client's rate-control state at the end of the run, when it has one."""
    dry_run: bool = False
    """True when nothing was sent: the counts describe the plan."""
    planned: list[str] = field(default_factory=list)
    """With ``dry_run``: one line per action the run would take."""

    @property
    def failed(self) -> int:
        """Number of failed items."""
        return len(self.failures)

    @property
    def ok(self) -> bool:
        """True when no item failed and the run was not aborted."""
        return not self.failures and self.aborted is None

    @property
    def throughput(self) -> float:
        """Bytes per second transferred in this run."""
        return self.bytes_transferred / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary."""
        return {
            "operation": self.operation,
            "items_total": self.items_total,
            "succeeded": self.succeeded,
            "skipped": self.skipped,
            "adopted": self.adopted,
            "failed": self.failed,
            "folders_created": self.folders_created,
            "bytes_transferred": self.bytes_transferred,
            "elapsed_seconds": round(self.elapsed, 3),
            "throughput_bytes_per_second": round(self.throughput, 1),
            "retries": self.retries,
            "failures": [
                {"path": _shown(f.path), "error": _shown(f.message)} for f in self.failures
            ],
            "renamed": [
                {"local": _shown(local), "remote": _shown(remote)} for local, remote in self.renamed
            ],
            "aborted": self.aborted,
            "rate_control": self.rate_control,
            "dry_run": self.dry_run,
            "planned": [_shown(line) for line in self.planned],
        }
