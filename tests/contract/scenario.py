"""Every spec operation, called in a workable order through the generated resource methods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from intralinks_async import IntralinksClient
from intralinks_async._generated.api.workspaces import list_workspaces
from intralinks_async.models import (
    Document,
    File,
    Folder,
    GetOAuthTokenBody,
    GrantType,
    Group,
    Permission,
    PermissionLevel,
    RevokeOAuthTokenBody,
    Splash,
    UploadDocumentBody,
    User,
    Workspace,
)

CONTENT = b"contract test document\n"


@dataclass
class Ids:
    """Ids the steps use: fixed ones (mock) or those the server returned (proxy)."""

    fixed: bool
    values: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, f"{key}-1")

    def learn(self, key: str, value: Any) -> None:
        if not self.fixed and isinstance(value, str):
            self.values[key] = value


Step = Callable[[IntralinksClient, Ids], Awaitable[Any]]


async def _token(c: IntralinksClient, ids: Ids) -> Any:
    body = GetOAuthTokenBody(
        grant_type=GrantType.CLIENT_CREDENTIALS, client_id="demo", client_secret="demo-secret"
    )
    token = await c.authentication.get_o_auth_token(body=body)
    ids.learn("token", token.access_token)
    return token


async def _create_workspace(c: IntralinksClient, ids: Ids) -> Any:
    ws = await c.workspaces.create(body=Workspace(name="Contract", type="ATC"))
    ids.learn("ws", ws.id)
    return ws


async def _list_workspaces(c: IntralinksClient, ids: Ids) -> Any:
    # One page through the generated operation (a mock's pages never end).
    return await list_workspaces.asyncio(client=c, offset=0, limit=10)


async def _create_folder(c: IntralinksClient, ids: Ids) -> Any:
    folder = await c.folders.create(ids["ws"], body=Folder(name="Financials"))
    ids.learn("folder", folder.id)
    return folder


async def _upload(c: IntralinksClient, ids: Ids) -> Any:
    body = UploadDocumentBody(
        file=File(payload=CONTENT, file_name="report.txt", mime_type="text/plain"),
        folder_id=ids["folder"],
        name="report.txt",
        note="Q3",
    )
    doc = await c.documents.upload(ids["ws"], body=body)
    ids.learn("doc", doc.id)
    return doc


async def _download(c: IntralinksClient, ids: Ids) -> Any:
    async with c.documents.download(ids["ws"], ids["doc"]) as chunks:
        return b"".join([chunk async for chunk in chunks])


async def _create_group(c: IntralinksClient, ids: Ids) -> Any:
    group = await c.groups.create(ids["ws"], body=Group(name="Buyers", type="REGULAR"))
    ids.learn("group", group.id)
    return group


async def _revoke(c: IntralinksClient, ids: Ids) -> Any:
    return await c.authentication.revoke_o_auth_token(body=RevokeOAuthTokenBody(token=ids["token"]))


def _permission(ids: Ids) -> Permission:
    return Permission(
        group_id=ids["group"], folder_id=ids["folder"], permission=PermissionLevel.SEE
    )


STEPS: list[tuple[str, Step]] = [
    ("getOAuthToken", _token),
    ("createWorkspace", _create_workspace),
    ("getWorkspace", lambda c, ids: c.workspaces.get(ids["ws"])),
    ("listWorkspaces", _list_workspaces),
    ("updateWorkspace", lambda c, ids: c.workspaces.update(ids["ws"], body=Workspace(name="C2"))),
    ("createFolder", _create_folder),
    ("listFolders", lambda c, ids: c.folders.list(ids["ws"])),
    ("getFolder", lambda c, ids: c.folders.get(ids["ws"], ids["folder"])),
    (
        "updateFolder",
        lambda c, ids: c.folders.update(ids["ws"], ids["folder"], body=Folder(name="Fin")),
    ),
    ("uploadDocument", _upload),
    ("listDocuments", lambda c, ids: c.documents.list(ids["ws"], folder_id=ids["folder"])),
    ("getDocument", lambda c, ids: c.documents.get(ids["ws"], ids["doc"])),
    (
        "updateDocument",
        lambda c, ids: c.documents.update(ids["ws"], ids["doc"], body=Document(note="Q4")),
    ),
    ("downloadDocument", _download),
    ("createGroup", _create_group),
    ("listGroups", lambda c, ids: c.groups.list(ids["ws"])),
    ("getGroup", lambda c, ids: c.groups.get(ids["ws"], ids["group"])),
    (
        "updateGroup",
        lambda c, ids: c.groups.update(ids["ws"], ids["group"], body=Group(note="n")),
    ),
    (
        "addGroupMember",
        lambda c, ids: c.groups.add_member(
            ids["ws"], ids["group"], body=User(first_name="Ada", email_id="ada@example.com")
        ),
    ),
    ("listGroupMembers", lambda c, ids: c.groups.list_members(ids["ws"], ids["group"])),
    ("createPermission", lambda c, ids: c.permissions.create(ids["ws"], body=_permission(ids))),
    ("listPermissions", lambda c, ids: c.permissions.list(ids["ws"])),
    ("getSplash", lambda c, ids: c.splash.get(ids["ws"])),
    (
        "updateSplash",
        lambda c, ids: c.splash.update(ids["ws"], body=Splash(splash_text="NDA applies")),
    ),
    ("listCustomFields", lambda c, ids: c.custom_fields.list(ids["ws"])),
    ("deleteDocument", lambda c, ids: c.documents.delete(ids["ws"], ids["doc"])),
    ("deleteGroup", lambda c, ids: c.groups.delete(ids["ws"], ids["group"])),
    ("deleteFolder", lambda c, ids: c.folders.delete(ids["ws"], ids["folder"])),
    ("deleteWorkspace", lambda c, ids: c.workspaces.delete(ids["ws"])),
    ("revokeOAuthToken", _revoke),
]
