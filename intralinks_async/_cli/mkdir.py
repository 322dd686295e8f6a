"""``intralinks-async mkdir WORKSPACE PATH``: create nested folders (like ``mkdir -p``)."""

from __future__ import annotations

import argparse
from typing import Any

from intralinks_async._cli._common import (
    CommandError,
    add_credentials,
    add_output,
    make_client,
    print_json,
)
from intralinks_async._client import IntralinksClient
from intralinks_async.errors import IntralinksError
from intralinks_async.models import Folder

__all__ = ["make_folders", "register"]


def register(subparsers: Any) -> None:
    """Register ``mkdir``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "mkdir",
        help="create a folder path in a workspace and print the last folder's id",
        description=(
            "Create PATH (folders separated by '/') in the workspace, with any missing "
            "parents; existing folders are reused. Prints the id of the last folder."
        ),
    )
    parser.add_argument("workspace", help="workspace id")
    parser.add_argument("path", help="folder path, for example 'Financials/2026/Q3'")
    parser.add_argument("--parent", help="create PATH under this folder id (default: the top)")
    add_output(parser)
    add_credentials(parser)
    parser.set_defaults(handler=run)


def _parts(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts:
        raise CommandError(f"folder path {path!r} names no folder")
    if ".." in parts:
        raise CommandError(f"folder path {path!r} may not contain '..'")
    return parts


async def make_folders(
    client: IntralinksClient, workspace_id: str, path: str, *, parent_id: str | None = None
) -> list[dict[str, Any]]:
    """Create the folders of ``path`` that are missing; one ``{id, name, created}`` per level."""
    parts = _parts(path)
    existing: dict[tuple[str | None, str], str] = {}
    for folder in await client.folders.list(workspace_id):
        if isinstance(folder.id, str) and isinstance(folder.name, str):
            parent = folder.parent_id if isinstance(folder.parent_id, str) else None
            existing.setdefault((parent, folder.name), folder.id)
    levels: list[dict[str, Any]] = []
    for name in parts:
        folder_id = existing.get((parent_id, name))
        created = folder_id is None
        if folder_id is None:
            body = (
                Folder(name=name) if parent_id is None else Folder(name=name, parent_id=parent_id)
            )
            made = await client.folders.create(workspace_id, body=body)
            if not isinstance(made.id, str):
                raise IntralinksError(f"createFolder answered without an id for {name!r}")
            folder_id = made.id
        levels.append({"id": folder_id, "name": name, "created": created})
        parent_id = folder_id
    return levels


async def run(args: argparse.Namespace) -> int:
    """Create the folders; print the last one's id (every level with --json)."""
    async with make_client(args) as client:
        levels = await make_folders(client, args.workspace, args.path, parent_id=args.parent)
    if args.json:
        print_json({"id": levels[-1]["id"], "path": args.path, "folders": levels})
    else:
        print(levels[-1]["id"])
    return 0
