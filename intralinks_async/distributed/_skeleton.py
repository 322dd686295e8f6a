"""The folder skeleton of an upload, created by the coordinator before any shard runs."""

from __future__ import annotations

from itertools import groupby

from intralinks_async.distributed._worker import is_fatal
from intralinks_async.transfers._remote_index import FolderIndex
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.window import run_window

__all__ = ["create_folders"]


async def create_folders(
    dirs: list[str],
    folders: FolderIndex,
    folder_ids: dict[str, str],
    concurrency: int,
    report: TransferReport,
) -> BaseException | None:
    """Find or create every folder of ``dirs`` (parents first, one depth at a time).

    ``folder_ids`` maps relative directories to folder ids (``""``, the root, given);
    a folder that fails is a failure in the report (its files then fail too). Returns
    the fatal error (credentials refused, service down) that stopped it, if any.
    """
    fatal: list[BaseException] = []
    for _depth, level in groupby(dirs, key=lambda d: d.count("/")):

        async def ensure(rel: str) -> None:
            parent_rel, _, name = rel.rpartition("/")
            parent_id = folder_ids.get(parent_rel)
            if parent_id is None or fatal:
                return  # the parent failed (its files report it), or the run stops
            fid, created = await folders.ensure(parent_id, name)
            report.folders_created += created
            folder_ids[rel] = fid

        def failed(rel: str, exc: Exception) -> None:
            if is_fatal(exc):
                fatal.append(exc)
            report.failures.append(TransferFailure(rel + "/", exc))

        await run_window(list(level), ensure, concurrency=concurrency, on_error=failed)
        if fatal:
            return fatal[0]
    return None
