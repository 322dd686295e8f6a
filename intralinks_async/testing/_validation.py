"""Cheap input checks (no schema engine in the hot path): JSON bodies and paging params."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.requests import Request

from ._errors import bad_request, too_large, unsupported_media_type

JSON = dict[str, Any]

# Writable fields per schema and their JSON types; read-only fields (id, timestamps,
# statistics, computed counts) are ignored on input.
WORKSPACE_FIELDS: Mapping[str, type] = {
    "name": str, "type": str, "phase": str, "status": str, "host": str,
}  # fmt: skip
FOLDER_FIELDS: Mapping[str, type] = {"name": str, "parentId": str, "indexNumber": str}
DOCUMENT_FIELDS: Mapping[str, type] = {"name": str, "folderId": str, "note": str}
GROUP_FIELDS: Mapping[str, type] = {"name": str, "type": str, "note": str}
USER_FIELDS: Mapping[str, type] = {
    "id": str, "firstName": str, "lastName": str, "emailId": str, "organization": str,
    "roleType": str,
}  # fmt: skip
PERMISSION_FIELDS: Mapping[str, type] = {"groupId": str, "folderId": str, "permission": str}
SPLASH_FIELDS: Mapping[str, type] = {"hasAcceptButton": bool, "splashText": str, "hasImage": bool}

MAX_BODY_BYTES = 1024 * 1024
# The spec states no limit; without one a stored name could outgrow what an HTTP client
# accepts in the download's Content-Disposition header. 255 is the common file-name limit.
MAX_NAME_CHARS = 255

# Characters the service refuses in document and folder names.
FORBIDDEN_NAME_CHARS = '/\\:*"<>?|'

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INTEGER = re.compile(r"-?[0-9]{1,18}")  # ASCII digits only; int64-sized at most


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or a 413 once it grows past ``limit`` (JSON and form bodies are small)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise too_large(limit)
    return bytes(buf)


async def json_body(
    request: Request,
    fields: Mapping[str, type],
    required: Iterable[str] = (),
    *,
    item_name: bool = False,
) -> JSON:
    """Read and :func:`parse_body` a JSON request body; 415 unless it is declared as JSON.

    ``item_name``: the body names a document or folder (forbidden characters refused).
    """
    raw = await read_body(request)
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        raise unsupported_media_type("application/json")
    return parse_body(raw, fields, required, item_name=item_name)


def parse_body(
    raw: bytes,
    fields: Mapping[str, type],
    required: Iterable[str] = (),
    *,
    item_name: bool = False,
) -> JSON:
    """Decode a JSON object body, keep the writable ``fields``, check types and presence."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request(
            "INVALID_JSON", "request body is not valid JSON", "send a JSON object"
        ) from None
    if not isinstance(data, dict):
        raise bad_request(
            "INVALID_JSON", "request body must be a JSON object", "send a JSON object"
        )
    out: JSON = {}
    for key, kind in fields.items():
        if key not in data or data[key] is None:
            continue
        value = data[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise bad_request(
                "INVALID_FIELD", f"field '{key}' must be a {kind.__name__}", f"fix '{key}'"
            )
        if key == "name" and isinstance(value, str):
            check_name(value, item_name=item_name)
        out[key] = value
    for key in required:
        value = out.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise bad_request("MISSING_FIELD", f"field '{key}' is required", f"provide '{key}'")
    return out


def check_name(value: str, *, item_name: bool = False) -> None:
    """400 unless ``value`` is a non-blank name of at most :data:`MAX_NAME_CHARS` characters.

    ``item_name`` (documents and folders): also none of :data:`FORBIDDEN_NAME_CHARS`.
    """
    if not value.strip():
        raise bad_request("INVALID_FIELD", "field 'name' must not be blank", "provide a name")
    if len(value) > MAX_NAME_CHARS:
        raise bad_request(
            "INVALID_FIELD",
            f"field 'name' is longer than {MAX_NAME_CHARS} characters",
            f"use at most {MAX_NAME_CHARS} characters",
        )
    if item_name:
        found = sorted({c for c in value if c in FORBIDDEN_NAME_CHARS})
        if found:
            raise bad_request(
                "INVALID_NAME",
                f"name contains characters that are not allowed: {' '.join(found)}",
                f"remove {' '.join(FORBIDDEN_NAME_CHARS)} from document and folder names",
            )


def check_enum(body: JSON, key: str, allowed: Iterable[str]) -> None:
    """400 unless ``body[key]`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if body.get(key) not in allowed:
        raise bad_request(
            "INVALID_ENUM_VALUE",
            f"field '{key}' must be one of {', '.join(allowed)}",
            f"use one of {', '.join(allowed)}",
        )


def check_email(value: str) -> None:
    """400 unless ``value`` looks like an e-mail address."""
    if not _EMAIL.match(value):
        raise bad_request("INVALID_EMAIL", "emailId is not a valid e-mail address", "fix emailId")


def paging(query: Mapping[str, str]) -> tuple[int, int | None]:
    """``(offset, limit)`` from the query; 400 for non-integer, negative or zero limit."""
    offset = _int_param(query, "offset", 0, minimum=0)
    limit = _int_param(query, "limit", None, minimum=1)
    return offset if offset is not None else 0, limit


def _int_param(
    query: Mapping[str, str], name: str, default: int | None, *, minimum: int
) -> int | None:
    raw = query.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        raise bad_request(
            "INVALID_PARAMETER",
            f"'{name}' must be an integer (at most 18 digits)",
            f"use {name}={minimum} or more",
        )
    value = int(text)
    if value < minimum:
        raise bad_request(
            "INVALID_PARAMETER", f"'{name}' must be >= {minimum}", f"use {name}={minimum} or more"
        )
    return value
