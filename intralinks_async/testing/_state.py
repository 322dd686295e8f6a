"""In-memory data room state: workspaces and everything they hold.

Metadata lives in dicts shaped like the spec's JSON (so responses need no conversion);
document content lives on disk in a :class:`~._storage.BlobStore`. All mutations run
on the event loop thread without awaiting in between, so each is atomic with respect
to concurrent requests.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ._clock import Clock
from ._errors import bad_request, not_found
from ._storage import Blob, BlobStore

JSON = dict[str, Any]

PERMISSION_LEVELS = ("SEE", "SEE_AND_DOWNLOAD", "SEE_DOWNLOAD_AND_PRINT")
CUSTOM_FIELD_TYPES = ("TEXT", "DATE", "SELECT")


@dataclass(slots=True)
class DocumentRecord:
    """Document metadata plus the blob holding its content."""

    meta: JSON
    blob: Blob


@dataclass(slots=True)
class GroupRecord:
    """Group metadata plus its members (user id -> user JSON)."""

    meta: JSON
    members: dict[str, JSON] = field(default_factory=dict)


@dataclass(slots=True)
class WorkspaceRecord:
    """A workspace and everything it holds."""

    meta: JSON
    folders: dict[str, JSON] = field(default_factory=dict)
    documents: dict[str, DocumentRecord] = field(default_factory=dict)
    # folder id -> {document id -> record}: listDocuments?folderId= reads one folder only
    by_folder: dict[str, dict[str, DocumentRecord]] = field(default_factory=dict)
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    permissions: dict[str, JSON] = field(default_factory=dict)
    splash: JSON = field(default_factory=dict)
    custom_fields: list[JSON] = field(default_factory=list)


class DataRoom:
    """All workspaces. Ids are decimal strings from one counter, unique per app."""

    def __init__(self, store: BlobStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.workspaces: dict[str, WorkspaceRecord] = {}
        self.documents_created: Counter[str] = Counter()
        self.next_id = 100001
        # Entities changed since the last save, as (kind, workspace id, id), in order;
        # None while nothing persists the state (no data dir).
        self.dirty: dict[tuple[str, str, str], None] | None = None

    def new_id(self) -> str:
        """A fresh id."""
        ident = self.next_id
        self.next_id += 1
        return str(ident)

    def touch(self, kind: str, ws_id: str, ident: str) -> None:
        """Record that an entity (``ws``, ``folder``, ``doc``, ``group``, ``perm``) changed."""
        if self.dirty is not None:
            self.dirty[(kind, ws_id, ident)] = None

    # -- lookups ---------------------------------------------------------------------

    def workspace(self, ws_id: str) -> WorkspaceRecord:
        """The workspace or a 404."""
        ws = self.workspaces.get(ws_id)
        if ws is None:
            raise not_found("workspace", ws_id)
        return ws

    @staticmethod
    def folder(ws: WorkspaceRecord, folder_id: str) -> JSON:
        """The folder or a 404."""
        folder = ws.folders.get(folder_id)
        if folder is None:
            raise not_found("folder", folder_id)
        return folder

    @staticmethod
    def document(ws: WorkspaceRecord, doc_id: str) -> DocumentRecord:
        """The document or a 404."""
        doc = ws.documents.get(doc_id)
        if doc is None:
            raise not_found("document", doc_id)
        return doc

    @staticmethod
    def group(ws: WorkspaceRecord, group_id: str) -> GroupRecord:
        """The group or a 404."""
        group = ws.groups.get(group_id)
        if group is None:
            raise not_found("group", group_id)
        return group

    # -- rendering -------------------------------------------------------------------

    @staticmethod
    def workspace_json(ws: WorkspaceRecord) -> JSON:
        """Workspace JSON with ``statistics`` (always present)."""
        users = {uid for g in ws.groups.values() for uid in g.members}
        out = dict(ws.meta)
        out["statistics"] = {
            "documentCount": len(ws.documents),
            "folderCount": len(ws.folders),
            "userCount": len(users),
            "groupCount": len(ws.groups),
        }
        return out

    @staticmethod
    def group_json(ws: WorkspaceRecord, group: GroupRecord) -> JSON:
        """Group JSON with computed ``memberCount`` and ``foldersWithAccess``."""
        gid = group.meta["id"]
        folders = {p["folderId"] for p in ws.permissions.values() if p["groupId"] == gid}
        out = dict(group.meta)
        out["memberCount"] = len(group.members)
        out["foldersWithAccess"] = len(folders)
        return out

    # -- workspaces ------------------------------------------------------------------

    def create_workspace(self, body: JSON) -> WorkspaceRecord:
        """Create a workspace (``name`` required, other fields defaulted)."""
        now = self.clock.iso()
        ws_id = self.new_id()
        meta: JSON = {
            "id": ws_id,
            "name": body["name"],
            "type": body.get("type", "ATC"),
            "phase": body.get("phase", "PREPARATION"),
            "status": body.get("status", "ACTIVE"),
            "host": body.get("host", "Intralinks Emulator"),
            "createdOn": now,
            "updatedOn": now,
        }
        splash = {
            "id": self.new_id(),
            "hasAcceptButton": False,
            "splashText": "",
            "hasImage": False,
        }
        ws = WorkspaceRecord(meta=meta, splash=splash)
        self.workspaces[ws_id] = ws
        self.touch("ws", ws_id, ws_id)
        return ws

    def update_workspace(self, ws: WorkspaceRecord, body: JSON) -> None:
        """Apply the writable fields of ``body``."""
        for key in ("name", "type", "phase", "status", "host"):
            if key in body:
                ws.meta[key] = body[key]
        ws.meta["updatedOn"] = self.clock.iso()
        self.touch("ws", ws.meta["id"], ws.meta["id"])

    def update_splash(self, ws: WorkspaceRecord, body: JSON) -> None:
        """Merge ``body`` into the workspace's splash screen."""
        ws.splash.update(body)
        self.touch("ws", ws.meta["id"], ws.meta["id"])

    def add_custom_field(self, ws: WorkspaceRecord, item: JSON) -> None:
        """Define a custom field on the workspace."""
        ws.custom_fields.append(item)
        self.touch("ws", ws.meta["id"], ws.meta["id"])

    def delete_workspace(self, ws_id: str) -> None:
        """Delete a workspace and everything it holds."""
        ws = self.workspaces.pop(ws_id, None)
        if ws is None:
            raise not_found("workspace", ws_id)
        self.touch("ws", ws_id, ws_id)
        for doc in ws.documents.values():
            self.store.delete(doc.blob)

    # -- folders ---------------------------------------------------------------------

    def create_folder(self, ws: WorkspaceRecord, body: JSON) -> JSON:
        """Create a folder; ``parentId`` (optional) must exist."""
        parent_id = body.get("parentId")
        if parent_id is not None:
            self.folder(ws, parent_id)
        now = self.clock.iso()
        folder: JSON = {
            "id": self.new_id(),
            "name": body["name"],
            "indexNumber": body.get("indexNumber", str(len(ws.folders) + 1)),
            "hasChildFolders": False,
            "version": 1,
            "createdOn": now,
            "updatedOn": now,
        }
        ws_id = ws.meta["id"]
        if parent_id is not None:
            folder["parentId"] = parent_id
            ws.folders[parent_id]["hasChildFolders"] = True
            self.touch("folder", ws_id, parent_id)
        ws.folders[folder["id"]] = folder
        self.touch("folder", ws_id, folder["id"])
        return folder

    def update_folder(self, ws: WorkspaceRecord, folder: JSON, body: JSON) -> None:
        """Rename / move / renumber a folder; ``version`` increments."""
        if "parentId" in body and body["parentId"] != folder.get("parentId"):
            new_parent = body["parentId"]
            self.folder(ws, new_parent)
            if new_parent in self._subtree(ws, folder["id"]):
                raise bad_request(
                    "INVALID_PARENT", "a folder cannot move under itself", "choose another parentId"
                )
            old_parent = folder.get("parentId")
            folder["parentId"] = new_parent
            ws.folders[new_parent]["hasChildFolders"] = True
            self.touch("folder", ws.meta["id"], new_parent)
            if old_parent is not None:
                self._refresh_has_children(ws, old_parent)
        for key in ("name", "indexNumber"):
            if key in body:
                folder[key] = body[key]
        folder["version"] += 1
        folder["updatedOn"] = self.clock.iso()
        self.touch("folder", ws.meta["id"], folder["id"])

    @staticmethod
    def _subtree(ws: WorkspaceRecord, root: str) -> set[str]:
        children: dict[str, list[str]] = {}
        for fid, f in ws.folders.items():
            parent = f.get("parentId")
            if parent is not None:
                children.setdefault(parent, []).append(fid)
        found = {root}
        stack = [root]
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def _refresh_has_children(self, ws: WorkspaceRecord, folder_id: str) -> None:
        folder = ws.folders.get(folder_id)
        if folder is not None:
            folder["hasChildFolders"] = any(
                f.get("parentId") == folder_id for f in ws.folders.values()
            )
            self.touch("folder", ws.meta["id"], folder_id)

    def delete_folder(self, ws: WorkspaceRecord, folder_id: str) -> None:
        """Delete a folder, its subfolders, their documents and permissions."""
        folder = self.folder(ws, folder_id)
        doomed = self._subtree(ws, folder_id)
        ws_id = ws.meta["id"]
        for fid in doomed:
            del ws.folders[fid]
            self.touch("folder", ws_id, fid)
        for fid in doomed:
            for doc_id in ws.by_folder.pop(fid, {}):
                self.store.delete(ws.documents.pop(doc_id).blob)
                self.touch("doc", ws_id, doc_id)
        for pid in [p for p, perm in ws.permissions.items() if perm["folderId"] in doomed]:
            del ws.permissions[pid]
            self.touch("perm", ws_id, pid)
        parent = folder.get("parentId")
        if parent is not None:
            self._refresh_has_children(ws, parent)

    # -- documents -------------------------------------------------------------------

    def add_document(
        self,
        ws: WorkspaceRecord,
        *,
        folder_id: str,
        name: str,
        note: str | None,
        blob: Blob,
        by: str,
    ) -> JSON:
        """Register a committed blob as a new document (visible from this point)."""
        now = self.clock.iso()
        _, dot, ext = name.rpartition(".")
        meta: JSON = {
            "id": self.new_id(),
            "name": name,
            "folderId": folder_id,
            "fileSize": blob.size,
            "extension": ext.lower() if dot else "",
            "version": 1,
            "createdBy": by,
            "createdOn": now,
            "updatedOn": now,
            "lastAccessedOn": now,
            "fileHash": blob.file_hash,
        }
        if note is not None:
            meta["note"] = note
        record = DocumentRecord(meta, blob)
        ws.documents[meta["id"]] = record
        ws.by_folder.setdefault(folder_id, {})[meta["id"]] = record
        self.documents_created[folder_id] += 1
        self.touch("doc", ws.meta["id"], meta["id"])
        return meta

    def duplicates(self, ws_id: str | None = None) -> dict[tuple[str, str, str], int]:
        """``{(workspace_id, folder_id, name): count}`` for names held by 2+ documents."""
        counts: Counter[tuple[str, str, str]] = Counter()
        for wid, ws in self.workspaces.items():
            if ws_id is None or wid == ws_id:
                for doc in ws.documents.values():
                    counts[(wid, doc.meta["folderId"], doc.meta["name"])] += 1
        return {key: n for key, n in counts.items() if n > 1}

    def update_document(self, ws: WorkspaceRecord, doc: DocumentRecord, body: JSON) -> None:
        """Rename / move / annotate a document; ``version`` increments."""
        if "folderId" in body and body["folderId"] != doc.meta["folderId"]:
            self.folder(ws, body["folderId"])
            unindex(ws, doc)
            doc.meta["folderId"] = body["folderId"]
            ws.by_folder.setdefault(doc.meta["folderId"], {})[doc.meta["id"]] = doc
        if "name" in body:
            doc.meta["name"] = body["name"]
            _, dot, ext = body["name"].rpartition(".")
            doc.meta["extension"] = ext.lower() if dot else ""
        if "note" in body:
            doc.meta["note"] = body["note"]
        doc.meta["version"] += 1
        doc.meta["updatedOn"] = self.clock.iso()
        self.touch("doc", ws.meta["id"], doc.meta["id"])

    def accessed(self, ws: WorkspaceRecord, doc: DocumentRecord) -> None:
        """Stamp ``lastAccessedOn`` (a download)."""
        doc.meta["lastAccessedOn"] = self.clock.iso()
        self.touch("doc", ws.meta["id"], doc.meta["id"])

    def replace_content(self, ws: WorkspaceRecord, doc: DocumentRecord, blob: Blob) -> None:
        """Give a document new content (new ETag, fileHash, fileSize; version + 1)."""
        old = doc.blob
        doc.blob = blob
        doc.meta.update(
            fileSize=blob.size, fileHash=blob.file_hash, version=doc.meta["version"] + 1
        )
        doc.meta["updatedOn"] = self.clock.iso()
        self.touch("doc", ws.meta["id"], doc.meta["id"])
        self.store.delete(old)

    def delete_document(self, ws: WorkspaceRecord, doc_id: str) -> None:
        """Delete a document and its content."""
        doc = ws.documents.pop(doc_id, None)
        if doc is None:
            raise not_found("document", doc_id)
        unindex(ws, doc)
        self.touch("doc", ws.meta["id"], doc_id)
        self.store.delete(doc.blob)

    # -- groups / members / permissions ---------------------------------------------

    def create_group(self, ws: WorkspaceRecord, body: JSON) -> GroupRecord:
        """Create a group (``name`` required)."""
        now = self.clock.iso()
        meta: JSON = {
            "id": self.new_id(),
            "name": body["name"],
            "type": body.get("type", "COLLABORATION"),
            "createdOn": now,
            "updatedOn": now,
        }
        if "note" in body:
            meta["note"] = body["note"]
        group = GroupRecord(meta)
        ws.groups[meta["id"]] = group
        self.touch("group", ws.meta["id"], meta["id"])
        return group

    def update_group(self, ws: WorkspaceRecord, group: GroupRecord, body: JSON) -> None:
        """Apply the writable fields of ``body``."""
        for key in ("name", "type", "note"):
            if key in body:
                group.meta[key] = body[key]
        group.meta["updatedOn"] = self.clock.iso()
        self.touch("group", ws.meta["id"], group.meta["id"])

    def delete_group(self, ws: WorkspaceRecord, group_id: str) -> None:
        """Delete a group and its permissions."""
        if ws.groups.pop(group_id, None) is None:
            raise not_found("group", group_id)
        self.touch("group", ws.meta["id"], group_id)
        for pid in [p for p, perm in ws.permissions.items() if perm["groupId"] == group_id]:
            del ws.permissions[pid]
            self.touch("perm", ws.meta["id"], pid)

    def add_member(self, ws: WorkspaceRecord, group: GroupRecord, body: JSON) -> JSON:
        """Add a user (by ``id`` of a known user, or by ``emailId``) to a group."""
        known = {u["id"]: u for g in ws.groups.values() for u in g.members.values()}
        user: JSON | None = None
        if "id" in body:
            user = known.get(body["id"])
            if user is None and "emailId" not in body:
                raise not_found("user", body["id"])
        if user is None:
            email = body["emailId"]
            user = next((u for u in known.values() if u.get("emailId") == email), None)
        if user is None:
            user = {
                "id": self.new_id(),
                "emailId": body["emailId"],
                "roleType": body.get("roleType", "USER"),
                "createdOn": self.clock.iso(),
            }
            for key in ("firstName", "lastName", "organization"):
                if key in body:
                    user[key] = body[key]
        group.members[user["id"]] = user
        self.touch("group", ws.meta["id"], group.meta["id"])
        return user

    def create_permission(self, ws: WorkspaceRecord, body: JSON) -> JSON:
        """Grant a group a permission level on a folder."""
        self.group(ws, body["groupId"])
        self.folder(ws, body["folderId"])
        perm: JSON = {
            "id": self.new_id(),
            "groupId": body["groupId"],
            "folderId": body["folderId"],
            "permission": body["permission"],
        }
        ws.permissions[perm["id"]] = perm
        self.touch("perm", ws.meta["id"], perm["id"])
        return perm


def unindex(ws: WorkspaceRecord, doc: DocumentRecord) -> None:
    """Remove ``doc`` from its folder's index entry."""
    folder_id = doc.meta["folderId"]
    docs = ws.by_folder.get(folder_id)
    if docs is not None:
        docs.pop(doc.meta["id"], None)
        if not docs:
            del ws.by_folder[folder_id]
