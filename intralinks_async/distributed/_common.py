"""Pieces both distributed coordinators share: options, storage checks, result recording."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from distributed import Client, Semaphore

from intralinks_async.distributed._clients import PLUGIN_NAME, ClientCachePlugin, release
from intralinks_async.distributed._progress import ClusterProgress
from intralinks_async.distributed._shards import FileResult, ShardResult
from intralinks_async.distributed._worker import (
    PROGRESS_TOPIC,
    check_destination,
    check_source,
    dir_signature,
)
from intralinks_async.distributed.credentials import Credentials
from intralinks_async.distributed.errors import SharedStorageError, WorkerTransferError
from intralinks_async.transfers._checks import positive_int
from intralinks_async.transfers._run import TreeRun
from intralinks_async.transfers.manifest import utc_now
from intralinks_async.transfers.names import temp_name_for
from intralinks_async.transfers.report import TransferFailure, TransferReport

__all__ = [
    "RunContext",
    "RunOptions",
    "finish_report",
    "record_results",
    "run_context",
    "settled",
    "verify_destination",
    "verify_source",
]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Sharding and cluster options common to uploads and downloads."""

    concurrency: int
    shard_files: int
    shard_bytes: int
    cluster_concurrency: int | None
    max_in_flight: int | None

    def __post_init__(self) -> None:
        positive_int("concurrency", self.concurrency)
        positive_int("shard_files", self.shard_files)
        positive_int("shard_bytes", self.shard_bytes)
        if self.cluster_concurrency is not None:
            positive_int("cluster_concurrency", self.cluster_concurrency)
        if self.max_in_flight is not None:
            positive_int("max_in_flight", self.max_in_flight)

    def in_flight(self, workers: int) -> int:
        """Shards submitted at once: enough to keep every worker busy, and one more each."""
        return self.max_in_flight or 2 * max(1, workers)


def _raise_problems(answers: Mapping[str, Any], path: str) -> None:
    for worker, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            answer = f"could not be checked ({type(answer).__name__})"
        if answer:
            raise SharedStorageError(
                f"worker {worker}: {path!r} {answer}; the "
                + "source and destination must be on storage every worker sees at the same path",
                worker=worker,
                path=path,
            )


async def verify_source(client: Client, root: str) -> None:
    """Check that every worker sees the directory ``root`` as the coordinator does."""
    expected = await anyio.to_thread.run_sync(dir_signature, root)
    answers = await client.run(check_source, root, expected, on_error="return")
    _raise_problems(answers, root)


async def verify_destination(client: Client, root: str) -> None:
    """Check that every worker sees and can write the directory ``root``."""
    token = uuid.uuid4().hex
    probe = temp_name_for("intralinks-probe", token[:8])
    path = os.path.join(root, probe)

    def write() -> None:
        with open(path, "x", encoding="ascii") as fh:
            fh.write(token)

    await anyio.to_thread.run_sync(write)
    try:
        answers = await client.run(check_destination, root, probe, token, on_error="return")
    finally:
        with suppress(FileNotFoundError):
            await anyio.to_thread.run_sync(os.unlink, path)
    _raise_problems(answers, root)


@dataclass(slots=True)
class RunContext:
    """A run's id, progress aggregator, cluster-wide budget and workers' rate control."""

    run_id: str
    credentials: Credentials
    progress: ClusterProgress
    budget: tuple[str, int] | None
    rates: dict[str, dict[str, object]] = field(default_factory=dict)
    worker_retries: int = 0

    def rate_summary(self) -> dict[str, Any] | None:
        """The workers' rate control added up (``rate``: the cluster's paced requests/s)."""
        if not self.rates:
            return None
        snaps = list(self.rates.values())
        rates = [r for s in snaps if isinstance(r := s.get("rate"), int | float)]
        return {
            "mode": str(snaps[0].get("mode")),
            "rate": round(sum(rates), 1) if rates else None,
            "throttled": sum(_count(s.get("throttled")) for s in snaps),
            "requests": sum(_count(s.get("requests")) for s in snaps),
            "workers": dict(sorted(self.rates.items())),
        }


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


@asynccontextmanager
async def run_context(
    client: Client, credentials: Credentials, options: RunOptions, progress: Any
) -> AsyncIterator[RunContext]:
    """Register the client-cache plugin, subscribe to progress, set up the budget.

    On exit the run's idle worker clients are closed and the budget is released.
    """
    run_id = uuid.uuid4().hex
    ctx = RunContext(run_id, credentials, ClusterProgress(progress), None)
    await client.register_plugin(ClientCachePlugin(), name=PLUGIN_NAME)
    semaphore: Semaphore | None = None
    if options.cluster_concurrency is not None:
        name = f"intralinks-budget-{run_id}"
        semaphore = await Semaphore(max_leases=options.cluster_concurrency, name=name)
        ctx.budget = (name, options.cluster_concurrency)
    topic = PROGRESS_TOPIC + run_id
    client.subscribe_topic(topic, ctx.progress.on_event)
    try:
        yield ctx
    finally:
        with anyio.CancelScope(shield=True):
            client.unsubscribe_topic(topic)
            with suppress(Exception):
                await client.run(release, credentials.fingerprint, on_error="return")
            if semaphore is not None:
                with suppress(Exception):
                    await semaphore.close()


_MANIFEST_RESULT = {"adopted": "adopted", "skipped": "skipped"}


async def record_results(
    result: ShardResult,
    run: TreeRun,
    ctx: RunContext,
    fields_of: Callable[[FileResult], dict[str, Any]],
    *,
    uploaded: str,
) -> None:
    """Count a shard's results in the report, the journal, the manifest and the progress.

    ``fields_of`` gives a result's ``remote_path`` and ``renamed_from``; ``uploaded`` is
    the manifest's word for a file moved in this run (``"uploaded"``/``"downloaded"``).
    """
    report, jrnl = run.report, run.journal
    if result.rate_control is not None:
        ctx.rates[result.worker] = result.rate_control
    ctx.worker_retries += result.retries
    for item in result.results:
        error: str | None = None
        if item.outcome == "failed":
            failure = WorkerTransferError(
                item.error or "", error_type=item.error_type or "Error", worker=result.worker
            )
            report.failures.append(TransferFailure(item.key, failure))
            error = str(failure)
            if jrnl is not None:
                jrnl.failed(item.key, error)
            word = "conflict" if item.error_type == "RemoteConflictError" else "failed"
        else:
            if jrnl is not None:
                jrnl.done(item.key, remote_id=item.remote_id, size=item.size or 0, sha1=item.sha1)
            word = _MANIFEST_RESULT.get(item.outcome, uploaded)
            if item.outcome == "skipped":
                report.skipped += 1
            else:
                report.bytes_transferred += item.size or 0
                if item.outcome == "adopted":
                    report.adopted += 1
                else:
                    report.succeeded += 1
        if run.manifest is not None:
            await run.record(
                local_path=item.key, result=word, remote_id=item.remote_id, size=item.size,
                sha256=item.sha256, server_hash=item.server_hash, started_at=item.started_at,
                ended_at=item.ended_at, error=error, **fields_of(item),
            )  # fmt: skip
    ctx.progress.shard_done(result.number, result.results)


async def settled(
    run: TreeRun,
    ctx: RunContext,
    key: str,
    size: int | None,
    error: Exception | None,
    *,
    remote_path: str | None,
    journal: bool = False,
) -> None:
    """An item the coordinator settles itself: skipped (journal, already here) or refused."""
    report = run.report
    if error is None:
        report.skipped += 1
        ctx.progress.local(key, size, "skipped")
    else:
        report.failures.append(TransferFailure(key, error))
        if journal and run.journal is not None:
            run.journal.failed(key, f"{type(error).__name__}: {error}")
        ctx.progress.local(key, size, "failed")
    if run.manifest is not None:
        now = utc_now()
        await run.record(
            local_path=key, remote_path=remote_path,
            result="skipped" if error is None else "failed", size=size, started_at=now,
            ended_at=now, error=None if error is None else f"{type(error).__name__}: {error}",
        )  # fmt: skip


def finish_report(report: TransferReport, ctx: RunContext) -> None:
    """Add the workers' retries and rate control to what the coordinator's run recorded."""
    report.retries += ctx.worker_retries
    summary = ctx.rate_summary()
    if summary is not None:
        report.rate_control = summary
