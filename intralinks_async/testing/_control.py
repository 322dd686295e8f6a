"""``/_emulator/*``: counters and switches for an emulator in another process (not in the spec).

* ``GET /_emulator/stats``: requests by operation and in total, 429s served by the rate
  limit, outage and fault counts, documents created, same-name duplicates.
* ``PUT /_emulator/rate-limit`` ``{"rate": 100, "burst": 20, "retry_after": 1}``
  (``null`` removes the limit).
* ``POST /_emulator/outage`` ``{"duration": 4, "kind": "503", "operations": [...],
  "after": 0, "retry_after": null}`` starts an outage; ``DELETE`` ends it.

No authentication: the emulator binds loopback unless ``--allow-remote`` is given.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._emulator import Emulator
from ._errors import HTTPError, bad_request
from ._throttle import RateLimit
from ._validation import read_body

Endpoint = Callable[[Request], Awaitable[Response]]


def stats(emu: Emulator) -> dict[str, Any]:
    """The counters tests and benchmarks read, as JSON-ready data."""
    limit = emu.rate_limiter.limit
    return {
        "requests": dict(emu.requests),
        "total_requests": emu.total_requests,
        "rate_limit": None
        if limit is None
        else {"rate": limit.rate, "burst": limit.capacity, "retry_after": limit.retry_after},
        "throttled": emu.rate_limiter.throttled,
        "admitted": emu.rate_limiter.admitted,
        "outage_failures": dict(emu.outages.served),
        "faults": dict(emu.faults.injected),
        "documents_created": sum(emu.documents_created.values()),
        "duplicates": [
            {"workspaceId": ws, "folderId": folder, "name": name, "count": n}
            for (ws, folder, name), n in emu.duplicates().items()
        ],
    }


async def _json(request: Request) -> Any:
    try:
        return json.loads(await read_body(request))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise bad_request("INVALID_JSON", "body is not valid JSON", "send JSON") from None


def _guard(action: Endpoint) -> Endpoint:
    """400 in the ``ErrorCode`` shape for a malformed control request."""

    async def endpoint(request: Request) -> Response:
        try:
            return await action(request)
        except (TypeError, ValueError, KeyError) as exc:
            return bad_request("INVALID_FIELD", str(exc), "see docs/emulator.md").response
        except HTTPError as exc:
            return exc.response

    return endpoint


def control_routes(emu: Emulator) -> list[Route]:
    """The ``/_emulator/*`` routes bound to ``emu``."""

    async def get_stats(request: Request) -> Response:
        return JSONResponse(stats(emu))

    async def put_rate_limit(request: Request) -> Response:
        body = await _json(request)
        if body is None:
            emu.set_rate_limit(None)
        else:
            if not isinstance(body, dict):
                raise TypeError("body must be a JSON object or null")
            emu.set_rate_limit(
                RateLimit(
                    rate=float(body["rate"]),
                    burst=None if body.get("burst") is None else float(body["burst"]),
                    retry_after=_opt_int(body, "retry_after", 1),
                )
            )
        return JSONResponse(stats(emu)["rate_limit"])

    async def post_outage(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict):
            raise TypeError("body must be a JSON object")
        ops = body.get("operations")
        if ops is not None and not (isinstance(ops, list) and all(isinstance(o, str) for o in ops)):
            raise TypeError("operations must be a list of operationIds")
        outage = emu.outage(
            float(body["duration"]),
            str(body.get("kind", "503")),
            operations=ops,
            after=float(body.get("after", 0.0)),
            retry_after=_opt_int(body, "retry_after", None),
        )
        return JSONResponse({"duration": outage.duration, "kind": outage.kind}, status_code=201)

    async def delete_outage(request: Request) -> Response:
        emu.end_outage()
        return Response(status_code=204)

    return [
        Route("/_emulator/stats", _guard(get_stats), methods=["GET"]),
        Route("/_emulator/rate-limit", _guard(put_rate_limit), methods=["PUT"]),
        Route("/_emulator/outage", _guard(post_outage), methods=["POST"]),
        Route("/_emulator/outage", _guard(delete_outage), methods=["DELETE"]),
    ]


def _opt_int(body: dict[str, Any], key: str, default: int | None) -> int | None:
    if key not in body:
        return default
    value = body[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{key} must be an integer number of seconds or null")
    return int(value)
