"""Negative control for ``test_contract_typing.py``: each ``# error`` line must fail mypy.

Proves the check sees the real signatures (not ``Any``): path parameters take
``str | Unset``, not any object.
"""

from __future__ import annotations

from intralinks_async import IntralinksClient
from intralinks_async._generated.api.folders import list_folders
from intralinks_async.models import Folder


async def wrong(client: IntralinksClient, folder: Folder) -> None:
    """Arguments that must not type-check."""
    await client.folders.list(123)  # error
    await client.folders.get("ws", folder)  # error
    await client.folders.create(folder.id, body=folder.name)  # error
    await list_folders.asyncio(None, client=client)  # error


async def wrong_raw(client: IntralinksClient) -> None:
    """Raw twins keep the plain methods' parameter types."""
    await client.workspaces.with_raw_response.get(7)  # error
    await client.workspaces.with_raw_response.list(page_size=10)  # error
