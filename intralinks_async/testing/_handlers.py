"""One handler per spec operation (authentication and faults are applied around them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import _validation as v
from ._download import download_response
from ._emulator import Emulator
from ._errors import bad_request
from ._state import PERMISSION_LEVELS
from ._upload import parse_upload

Handler = Callable[[Emulator, Request, str], Awaitable[Response]]

_NO_CONTENT = 204


def _ws_id(request: Request) -> str:
    return str(request.path_params["workspaceId"])


def _empty(status: int) -> Response:
    return Response(status_code=status)


# -- workspaces --------------------------------------------------------------------------


async def list_workspaces(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces``: stable (creation) order, ``type`` filter, offset/limit."""
    offset, limit = v.paging(request.query_params)
    cap = emu.max_page_size
    if cap is not None:
        limit = cap if limit is None else min(limit, cap)
    room = emu.room
    items = list(room.workspaces.values())
    kind = request.query_params.get("type")
    if kind is not None:
        items = [ws for ws in items if ws.meta["type"] == kind]
    page = items[offset : None if limit is None else offset + limit]
    return JSONResponse({"workspace": [room.workspace_json(ws) for ws in page]})


async def create_workspace(emu: Emulator, request: Request, principal: str) -> Response:
    """``POST /workspaces``."""
    body = await v.json_body(request, v.WORKSPACE_FIELDS, ("name",))
    ws = emu.room.create_workspace(body)
    return JSONResponse(emu.room.workspace_json(ws), status_code=201)


async def get_workspace(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}``."""
    return JSONResponse(emu.room.workspace_json(emu.room.workspace(_ws_id(request))))


async def update_workspace(emu: Emulator, request: Request, principal: str) -> Response:
    """``PUT /workspaces/{workspaceId}``."""
    ws = emu.room.workspace(_ws_id(request))
    body = await v.json_body(request, v.WORKSPACE_FIELDS)
    emu.room.update_workspace(ws, body)
    return JSONResponse(emu.room.workspace_json(ws))


async def delete_workspace(emu: Emulator, request: Request, principal: str) -> Response:
    """``DELETE /workspaces/{workspaceId}``: removes everything it holds."""
    emu.room.delete_workspace(_ws_id(request))
    return _empty(_NO_CONTENT)


# -- folders -----------------------------------------------------------------------------


async def list_folders(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/folders``."""
    ws = emu.room.workspace(_ws_id(request))
    return JSONResponse({"folder": list(ws.folders.values())})


async def create_folder(emu: Emulator, request: Request, principal: str) -> Response:
    """``POST /workspaces/{workspaceId}/folders``."""
    ws = emu.room.workspace(_ws_id(request))
    body = await v.json_body(request, v.FOLDER_FIELDS, ("name",), item_name=True)
    return JSONResponse(emu.room.create_folder(ws, body), status_code=201)


async def get_folder(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/folders/{folderId}``."""
    ws = emu.room.workspace(_ws_id(request))
    return JSONResponse(emu.room.folder(ws, request.path_params["folderId"]))


async def update_folder(emu: Emulator, request: Request, principal: str) -> Response:
    """``PUT /workspaces/{workspaceId}/folders/{folderId}``."""
    ws = emu.room.workspace(_ws_id(request))
    folder = emu.room.folder(ws, request.path_params["folderId"])
    body = await v.json_body(request, v.FOLDER_FIELDS, item_name=True)
    emu.room.update_folder(ws, folder, body)
    return JSONResponse(folder)


async def delete_folder(emu: Emulator, request: Request, principal: str) -> Response:
    """``DELETE /workspaces/{workspaceId}/folders/{folderId}``: subtree included."""
    ws = emu.room.workspace(_ws_id(request))
    emu.room.delete_folder(ws, request.path_params["folderId"])
    return _empty(_NO_CONTENT)


# -- documents ---------------------------------------------------------------------------


async def list_documents(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/documents`` with optional ``folderId`` filter."""
    ws = emu.room.workspace(_ws_id(request))
    folder_id = request.query_params.get("folderId")
    records = ws.documents if folder_id is None else ws.by_folder.get(folder_id, {})
    return JSONResponse({"document": [d.meta for d in records.values()]})


async def upload_document(emu: Emulator, request: Request, principal: str) -> Response:
    """``POST /workspaces/{workspaceId}/documents`` (multipart, streamed to disk)."""
    room = emu.room
    ws_id = _ws_id(request)
    room.workspace(ws_id)
    parsed = await parse_upload(request, emu.store)
    blob = parsed.blob
    try:
        folder_id = parsed.fields.get("folderId")
        if blob is None:
            raise bad_request(
                "MISSING_FIELD", "multipart field 'file' is required", "add a file part"
            )
        if not folder_id:
            raise bad_request("MISSING_FIELD", "field 'folderId' is required", "provide 'folderId'")
        ws = room.workspace(ws_id)  # may have been deleted while the body streamed in
        room.folder(ws, folder_id)
        name = parsed.fields.get("name")
        if name is None:
            name = parsed.filename or "document"
        v.check_name(name, item_name=True)
        meta = room.add_document(
            ws,
            folder_id=folder_id,
            name=name,
            note=parsed.fields.get("note"),
            blob=blob,
            by=principal,
        )
    except BaseException:
        if blob is not None:
            emu.store.delete(blob)
        raise
    return JSONResponse(meta, status_code=201)


async def get_document(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/documents/{documentId}``."""
    ws = emu.room.workspace(_ws_id(request))
    return JSONResponse(emu.room.document(ws, request.path_params["documentId"]).meta)


async def update_document(emu: Emulator, request: Request, principal: str) -> Response:
    """``PUT /workspaces/{workspaceId}/documents/{documentId}``: metadata; version + 1."""
    ws = emu.room.workspace(_ws_id(request))
    doc = emu.room.document(ws, request.path_params["documentId"])
    body = await v.json_body(request, v.DOCUMENT_FIELDS, item_name=True)
    emu.room.update_document(ws, doc, body)
    return JSONResponse(doc.meta)


async def delete_document(emu: Emulator, request: Request, principal: str) -> Response:
    """``DELETE /workspaces/{workspaceId}/documents/{documentId}``."""
    ws = emu.room.workspace(_ws_id(request))
    emu.room.delete_document(ws, request.path_params["documentId"])
    return _empty(_NO_CONTENT)


async def download_document(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET .../documents/{documentId}/download``: streamed, Range/If-Range aware."""
    ws = emu.room.workspace(_ws_id(request))
    doc = emu.room.document(ws, request.path_params["documentId"])
    emu.room.accessed(ws, doc)
    headers = request.headers
    return download_response(
        doc.blob,
        doc.meta["name"],
        range_header=headers.get("range"),
        if_range=headers.get("if-range"),
        ranges=emu.ranges,
    )


# -- groups ------------------------------------------------------------------------------


async def list_groups(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/groups``."""
    ws = emu.room.workspace(_ws_id(request))
    return JSONResponse({"group": [emu.room.group_json(ws, g) for g in ws.groups.values()]})


async def create_group(emu: Emulator, request: Request, principal: str) -> Response:
    """``POST /workspaces/{workspaceId}/groups``."""
    ws = emu.room.workspace(_ws_id(request))
    body = await v.json_body(request, v.GROUP_FIELDS, ("name",))
    group = emu.room.create_group(ws, body)
    return JSONResponse(emu.room.group_json(ws, group), status_code=201)


async def get_group(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/groups/{groupId}``."""
    ws = emu.room.workspace(_ws_id(request))
    group = emu.room.group(ws, request.path_params["groupId"])
    return JSONResponse(emu.room.group_json(ws, group))


async def update_group(emu: Emulator, request: Request, principal: str) -> Response:
    """``PUT /workspaces/{workspaceId}/groups/{groupId}``."""
    ws = emu.room.workspace(_ws_id(request))
    group = emu.room.group(ws, request.path_params["groupId"])
    body = await v.json_body(request, v.GROUP_FIELDS)
    emu.room.update_group(ws, group, body)
    return JSONResponse(emu.room.group_json(ws, group))


async def delete_group(emu: Emulator, request: Request, principal: str) -> Response:
    """``DELETE /workspaces/{workspaceId}/groups/{groupId}``."""
    ws = emu.room.workspace(_ws_id(request))
    emu.room.delete_group(ws, request.path_params["groupId"])
    return _empty(_NO_CONTENT)


async def list_group_members(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/groups/{groupId}/members``."""
    ws = emu.room.workspace(_ws_id(request))
    group = emu.room.group(ws, request.path_params["groupId"])
    return JSONResponse({"user": list(group.members.values())})


async def add_group_member(emu: Emulator, request: Request, principal: str) -> Response:
    """``POST /workspaces/{workspaceId}/groups/{groupId}/members`` (idempotent per user)."""
    ws = emu.room.workspace(_ws_id(request))
    group = emu.room.group(ws, request.path_params["groupId"])
    body = await v.json_body(request, v.USER_FIELDS)
    if "id" not in body and "emailId" not in body:
        raise bad_request(
            "MISSING_FIELD", "field 'emailId' (or 'id') is required", "provide emailId"
        )
    if "emailId" in body:
        v.check_email(body["emailId"])
    emu.room.add_member(ws, group, body)
    return _empty(201)


# -- permissions / splash / custom fields ------------------------------------------------


async def list_permissions(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/permissions``."""
    ws = emu.room.workspace(_ws_id(request))
    return JSONResponse({"permission": list(ws.permissions.values())})


async def create_permission(emu: Emulator, request: Request, principal: str) -> Response:
    """``POST /workspaces/{workspaceId}/permissions`` (enum validated)."""
    ws = emu.room.workspace(_ws_id(request))
    body = await v.json_body(request, v.PERMISSION_FIELDS, ("groupId", "folderId"))
    v.check_enum(body, "permission", PERMISSION_LEVELS)
    return JSONResponse(emu.room.create_permission(ws, body), status_code=201)


async def get_splash(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/splash``."""
    return JSONResponse(emu.room.workspace(_ws_id(request)).splash)


async def update_splash(emu: Emulator, request: Request, principal: str) -> Response:
    """``PUT /workspaces/{workspaceId}/splash``."""
    ws = emu.room.workspace(_ws_id(request))
    emu.room.update_splash(ws, await v.json_body(request, v.SPLASH_FIELDS))
    return JSONResponse(ws.splash)


async def list_custom_fields(emu: Emulator, request: Request, principal: str) -> Response:
    """``GET /workspaces/{workspaceId}/customfields``."""
    return JSONResponse({"customField": emu.room.workspace(_ws_id(request)).custom_fields})


_WS = "/workspaces/{workspaceId}"

# (method, path, operationId, handler) for every bearer-protected operation of the spec.
ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", "/workspaces", "listWorkspaces", list_workspaces),
    ("POST", "/workspaces", "createWorkspace", create_workspace),
    ("GET", _WS, "getWorkspace", get_workspace),
    ("PUT", _WS, "updateWorkspace", update_workspace),
    ("DELETE", _WS, "deleteWorkspace", delete_workspace),
    ("GET", _WS + "/folders", "listFolders", list_folders),
    ("POST", _WS + "/folders", "createFolder", create_folder),
    ("GET", _WS + "/folders/{folderId}", "getFolder", get_folder),
    ("PUT", _WS + "/folders/{folderId}", "updateFolder", update_folder),
    ("DELETE", _WS + "/folders/{folderId}", "deleteFolder", delete_folder),
    ("GET", _WS + "/documents", "listDocuments", list_documents),
    ("POST", _WS + "/documents", "uploadDocument", upload_document),
    ("GET", _WS + "/documents/{documentId}", "getDocument", get_document),
    ("PUT", _WS + "/documents/{documentId}", "updateDocument", update_document),
    ("DELETE", _WS + "/documents/{documentId}", "deleteDocument", delete_document),
    ("GET", _WS + "/documents/{documentId}/download", "downloadDocument", download_document),
    ("GET", _WS + "/groups", "listGroups", list_groups),
    ("POST", _WS + "/groups", "createGroup", create_group),
    ("GET", _WS + "/groups/{groupId}", "getGroup", get_group),
    ("PUT", _WS + "/groups/{groupId}", "updateGroup", update_group),
    ("DELETE", _WS + "/groups/{groupId}", "deleteGroup", delete_group),
    ("GET", _WS + "/groups/{groupId}/members", "listGroupMembers", list_group_members),
    ("POST", _WS + "/groups/{groupId}/members", "addGroupMember", add_group_member),
    ("GET", _WS + "/permissions", "listPermissions", list_permissions),
    ("POST", _WS + "/permissions", "createPermission", create_permission),
    ("GET", _WS + "/splash", "getSplash", get_splash),
    ("PUT", _WS + "/splash", "updateSplash", update_splash),
    ("GET", _WS + "/customfields", "listCustomFields", list_custom_fields),
]
