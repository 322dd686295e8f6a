"""``intralinks-async download WORKSPACE DEST``: mirror a workspace, a folder or a document."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from intralinks_async._cli._common import (
    CommandError,
    add_credentials,
    add_output,
    make_client,
    print_json,
    rate_control_state,
)
from intralinks_async._cli._dask import add_dask_options, dask_target, run_download
from intralinks_async._cli._transfer import (
    add_tree_options,
    display,
    managed,
    manifest_path,
    show_reports,
    write_html,
)
from intralinks_async._client import IntralinksClient

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Register ``download``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "download",
        help="mirror a workspace (or a folder) into a directory, or download a document",
        description=(
            "Mirror the workspace's folders and documents (or --folder's) under DEST, "
            "resumably with --journal; or download one --document to DEST."
        ),
    )
    parser.add_argument("workspace", help="workspace id")
    parser.add_argument("dest", type=Path, help="destination directory (or file for --document)")
    parser.add_argument("--document", help="download this document only")
    parser.add_argument("--folder", help="mirror this folder only")
    add_tree_options(parser)
    parser.add_argument(
        "--chunk-size", type=int, default=8 * 1024 * 1024, help="bytes per ranged request"
    )
    parser.add_argument(
        "--chunk-concurrency", type=int, default=8, help="ranged requests per file (default 8)"
    )
    add_dask_options(parser)
    add_output(parser)
    add_credentials(parser)
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    """Download a document or mirror a tree; exit status 1 when any item failed."""
    if dask_target(args) is not None:
        if args.manifest or args.html:
            raise CommandError("--manifest and --html are not available with --dask-*")
        return await run_download(args)
    async with make_client(args) as client:
        if args.document:
            return await _download_file(args, client)
        bars = display(args, client, "download")
        with manifest_path(args) as manifest:
            with managed(bars):
                report = await client.transfers.download_tree(
                    args.workspace,
                    args.dest,
                    folder_id=args.folder,
                    concurrency=args.concurrency,
                    chunk_concurrency=args.chunk_concurrency,
                    chunk_size=args.chunk_size,
                    journal=args.journal,
                    progress=bars,
                    manifest=manifest,
                    dry_run=args.dry_run,
                )
            await write_html(
                args, report, manifest, workspace=args.workspace, destination=str(args.dest)
            )
        state = rate_control_state(client)
    show_reports(args, [report], state)
    return 0 if report.ok else 1


async def _download_file(args: argparse.Namespace, client: IntralinksClient) -> int:
    if args.dry_run:
        raise CommandError("--dry-run plans a tree download, not a single --document")
    bars = display(args, client, "download")
    with managed(bars):
        result = await client.transfers.download_file(
            args.workspace,
            args.document,
            args.dest,
            chunk_size=args.chunk_size,
            concurrency=args.chunk_concurrency,
            progress=bars,
        )
    if args.json:
        print_json(
            {
                "path": str(result.path),
                "size": result.size,
                "sha1": result.sha1,
                "ranged": result.ranged,
            }
        )
    elif not args.quiet:
        print(f"downloaded {result.size} bytes to {result.path}")
    return 0
