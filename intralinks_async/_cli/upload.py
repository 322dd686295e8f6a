"""``intralinks-async upload SOURCE WORKSPACE``: a file, or a whole tree, resumably."""

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
from intralinks_async._cli._dask import add_dask_options, dask_target, run_upload
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
    """Register ``upload``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "upload",
        help="upload a file or migrate a directory tree into a workspace",
        description=(
            "Upload a directory tree (into a folder named after it, or under --folder), "
            "resumably with --journal; or one file into --folder."
        ),
    )
    parser.add_argument("source", type=Path, help="local file or directory")
    parser.add_argument("workspace", help="workspace id")
    parser.add_argument("--folder", help="target folder id (a tree goes under it)")
    add_tree_options(parser)
    parser.add_argument(
        "--on-conflict",
        choices=["skip", "new_version", "error"],
        default="skip",
        help="what a same-name document gets (default skip)",
    )
    parser.add_argument("--name", help="document name for a single file (default: file name)")
    parser.add_argument("--note", help="document note for a single file")
    add_dask_options(parser)
    add_output(parser)
    add_credentials(parser)
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    """Upload one file or a tree; exit status 1 when any item failed."""
    if not args.source.exists():
        raise CommandError(f"{args.source} does not exist")
    if dask_target(args) is not None:
        if args.manifest or args.html:
            raise CommandError("--manifest and --html are not available with --dask-*")
        return await run_upload(args)
    async with make_client(args) as client:
        if args.source.is_file():
            return await _upload_file(args, client)
        bars = display(args, client, "upload")
        with manifest_path(args) as manifest:
            with managed(bars):
                report = await client.transfers.upload_tree(
                    args.source,
                    args.workspace,
                    parent_folder_id=args.folder,
                    concurrency=args.concurrency,
                    journal=args.journal,
                    progress=bars,
                    on_conflict=args.on_conflict,
                    manifest=manifest,
                    dry_run=args.dry_run,
                )
            await write_html(
                args, report, manifest, source=str(args.source), workspace=args.workspace
            )
        state = rate_control_state(client)
    show_reports(args, [report], state)
    return 0 if report.ok else 1


async def _upload_file(args: argparse.Namespace, client: IntralinksClient) -> int:
    if not args.folder:
        raise CommandError("uploading a single file needs --folder FOLDER_ID")
    if args.dry_run:
        raise CommandError("--dry-run plans a tree upload; SOURCE is a single file")
    bars = display(args, client, "upload")
    with managed(bars):
        doc = await client.transfers.upload_file(
            args.workspace, args.folder, args.source, name=args.name, note=args.note, progress=bars
        )
    if args.json:
        print_json(doc.to_dict())
    elif not args.quiet:
        print(f"uploaded {doc.name} as document {doc.id}")
    return 0
