"""``intralinks-async ls [WORKSPACE]``: workspaces, or a workspace's folders and documents."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from intralinks_async._cli._common import add_credentials, add_output, make_client, print_json
from intralinks_async._client import IntralinksClient
from intralinks_async.models import Folder

__all__ = ["format_rows", "register"]


def register(subparsers: Any) -> None:
    """Register ``ls``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ls",
        help="list workspaces, or a workspace's folders and documents",
        description=(
            "Without WORKSPACE: one line per workspace (id, type, name). With it: one line "
            "per folder (path ending in '/') and document (id, size, path)."
        ),
    )
    parser.add_argument("workspace", nargs="?", help="workspace id (omit to list workspaces)")
    add_output(parser)
    add_credentials(parser)
    parser.set_defaults(handler=run)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _paths(folders: Sequence[Folder]) -> dict[str, str]:
    """``{folder id: "a/b/c"}`` following parent ids (cycles and orphans cut short)."""
    by_id = {f.id: f for f in folders if isinstance(f.id, str)}

    def path_of(folder_id: str) -> str:
        parts: list[str] = []
        seen: set[str] = set()
        current: str | None = folder_id
        while current is not None and current in by_id and current not in seen:
            seen.add(current)
            parts.append(_str(by_id[current].name) or "?")
            current = _str(by_id[current].parent_id)
        return "/".join(reversed(parts))

    return {fid: path_of(fid) for fid in by_id}


async def _workspace_rows(client: IntralinksClient) -> list[dict[str, Any]]:
    return [
        {"id": w.id, "type": _str(w.type_), "name": _str(w.name)}
        async for w in client.workspaces.list(page_size=100)
    ]


async def _content_rows(client: IntralinksClient, workspace_id: str) -> list[dict[str, Any]]:
    paths = _paths(await client.folders.list(workspace_id))
    rows: list[dict[str, Any]] = []
    for folder_id, path in sorted(paths.items(), key=lambda item: item[1]):
        rows.append({"id": folder_id, "size": None, "path": path + "/"})
        for doc in await client.documents.list(workspace_id, folder_id=folder_id):
            size = doc.file_size if isinstance(doc.file_size, int) else None
            rows.append({"id": doc.id, "size": size, "path": f"{path}/{_str(doc.name)}"})
    return rows


def format_rows(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Rows as aligned text columns (no header; the last column is not padded)."""
    if not rows:
        return []
    keys = list(rows[0])
    cells = [["" if row.get(k) is None else str(row.get(k)) for k in keys] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip()
        for line in cells
    ]


async def run(args: argparse.Namespace) -> int:
    """List; as JSON with ``--json``."""
    async with make_client(args) as client:
        if args.workspace:
            rows = await _content_rows(client, args.workspace)
        else:
            rows = await _workspace_rows(client)
    if args.json:
        print_json(rows)
    else:
        for line in format_rows(rows):
            print(line)
    return 0
