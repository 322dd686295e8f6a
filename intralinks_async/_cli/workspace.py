"""``intralinks-async workspace create NAME [--type ATC]``: print the new workspace's id."""

from __future__ import annotations

import argparse
from typing import Any

from intralinks_async._cli._common import add_credentials, add_output, make_client, print_json
from intralinks_async.models import Workspace

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Register ``workspace`` and its ``create`` action."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "workspace", help="create a workspace", description="Manage workspaces."
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a workspace and print its id",
        description="Create a workspace and print its id (the whole workspace with --json).",
    )
    create.add_argument("name", help="workspace name")
    create.add_argument("--type", default="ATC", help="workspace type (default ATC)")
    add_output(create)
    add_credentials(create)
    create.set_defaults(handler=create_workspace)


async def create_workspace(args: argparse.Namespace) -> int:
    """Create the workspace; print its id, or the workspace as JSON."""
    async with make_client(args) as client:
        ws = await client.workspaces.create(body=Workspace(name=args.name, type=args.type))
    if args.json:
        print_json(ws.to_dict())
    else:
        print(ws.id)
    return 0
