"""``--dask-scheduler`` / ``--dask-workers`` for ``upload`` and ``download`` (distributed extra).

With either flag the tree is migrated by :mod:`intralinks_async.distributed`: this process
coordinates, the workers of a Dask cluster move the files. The other options, the
credentials and the output (``--journal``, ``--json``, ``-q``) are those of single-process
runs; the progress display adds up every worker's progress.
"""

from __future__ import annotations

import argparse
from typing import Any

from intralinks_async._cli._common import CommandError, _setting
from intralinks_async._cli._transfer import display, managed, show_reports
from intralinks_async._client import DEFAULT_BASE_URL

__all__ = ["add_dask_options", "dask_target", "run_download", "run_upload"]


def add_dask_options(parser: argparse.ArgumentParser) -> None:
    """Add the mutually exclusive ``--dask-scheduler ADDRESS`` and ``--dask-workers N``."""
    group = parser.add_argument_group(
        "Dask cluster (needs the distributed extra; the tree must be on storage every "
        "worker sees at the same path)"
    )
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster whose scheduler is at ADDRESS (e.g. tls://host:8786)",
    )
    choice.add_argument(
        "--dask-workers",
        type=int,
        metavar="N",
        help="start a local Dask cluster of N worker processes for this run",
    )


def dask_target(args: argparse.Namespace) -> str | int | None:
    """The ``dask=`` argument the flags ask for, or None for a single-process run."""
    address: str | None = getattr(args, "dask_scheduler", None)
    workers: int | None = getattr(args, "dask_workers", None)
    if workers is not None and workers < 1:
        raise CommandError(f"--dask-workers must be >= 1, got {workers}")
    return address or workers


def _target(args: argparse.Namespace) -> str | int:
    target = dask_target(args)
    if target is None:
        raise CommandError("--dask-scheduler or --dask-workers is needed")
    return target


def _credentials(args: argparse.Namespace) -> dict[str, Any]:
    base_url = _setting(args, "base_url") or DEFAULT_BASE_URL
    token = _setting(args, "access_token")
    if token:
        return {"base_url": base_url, "access_token": token}
    client_id, secret = _setting(args, "client_id"), _setting(args, "client_secret")
    if not (client_id and secret):
        raise CommandError(
            "credentials needed: --client-id and --client-secret (or INTRALINKS_CLIENT_ID and "
            "INTRALINKS_CLIENT_SECRET), or --access-token (INTRALINKS_ACCESS_TOKEN)"
        )
    return {"base_url": base_url, "client_id": client_id, "client_secret": secret}


async def run_upload(args: argparse.Namespace) -> int:
    """``upload SOURCE WORKSPACE`` of a tree over the cluster."""
    from intralinks_async import distributed  # a missing extra stops here, with its hint

    if not args.source.is_dir():
        raise CommandError("--dask-scheduler/--dask-workers migrate a directory tree")
    bars = display(args, None, "upload")
    with managed(bars):
        report = await distributed.upload_tree(
            args.source,
            args.workspace,
            dask=_target(args),
            parent_folder_id=args.folder,
            concurrency=args.concurrency,
            journal=args.journal,
            on_conflict=args.on_conflict,
            progress=bars,
            manifest=getattr(args, "manifest", None),
            dry_run=bool(getattr(args, "dry_run", False)),
            **_credentials(args),
        )
    show_reports(args, [report], report.rate_control)
    return 0 if report.ok else 1


async def run_download(args: argparse.Namespace) -> int:
    """``download WORKSPACE DEST`` of a tree over the cluster."""
    from intralinks_async import distributed  # a missing extra stops here, with its hint

    if args.document:
        raise CommandError("--dask-scheduler/--dask-workers mirror a tree, not one --document")
    bars = display(args, None, "download")
    with managed(bars):
        report = await distributed.download_tree(
            args.workspace,
            args.dest,
            dask=_target(args),
            folder_id=args.folder,
            concurrency=args.concurrency,
            chunk_concurrency=args.chunk_concurrency,
            chunk_size=args.chunk_size,
            journal=args.journal,
            progress=bars,
            manifest=getattr(args, "manifest", None),
            dry_run=bool(getattr(args, "dry_run", False)),
            **_credentials(args),
        )
    show_reports(args, [report], report.rate_control)
    return 0 if report.ok else 1
