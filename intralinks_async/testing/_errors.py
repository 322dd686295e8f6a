"""Error responses in the shapes the real Intralinks API uses.

Which shape is used where (see ``docs/emulator.md``):

* 400 invalid input, 413 oversized JSON/form body, 415 JSON body not declared as JSON: ``{"ErrorCode": ..., "Error": ..., "Hint": ...}``
* 401 on API calls: ``{"status": "Unauthorized", "error": {"code", "subcode", "message"}}``
  plus ``WWW-Authenticate: Bearer error="invalid_token"``
* 401/400 on ``/oauth/*``: ``{"error": {"code", "message", "subcode"}}``
* 404 unknown id: ``{"status": {"code", "subcode", "message", "errorId"}, "errors": [...]}``
* 429 (fault or rate limit): ``{"error": {"code", "message", "subcode"}}`` plus ``Retry-After``
* 503 (fault or outage): an HTML gateway page (``text/html``)
"""

from __future__ import annotations

import uuid

from starlette.responses import HTMLResponse, JSONResponse, Response


class HTTPError(Exception):
    """Raised inside handlers; converted to a response by the API wrapper."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def bad_request(code: str, message: str, hint: str = "") -> HTTPError:
    """400 in the ``{"ErrorCode","Error","Hint"}`` shape."""
    body = {"ErrorCode": code, "Error": message, "Hint": hint or message}
    return HTTPError(JSONResponse(body, status_code=400))


def too_large(limit: int) -> HTTPError:
    """413 in the ``{"ErrorCode","Error","Hint"}`` shape."""
    body = {
        "ErrorCode": "REQUEST_TOO_LARGE",
        "Error": f"request body exceeds {limit} bytes",
        "Hint": "send a smaller body",
    }
    return HTTPError(JSONResponse(body, status_code=413))


def unsupported_media_type(expected: str) -> HTTPError:
    """415 in the ``{"ErrorCode","Error","Hint"}`` shape (body not declared as ``expected``)."""
    body = {
        "ErrorCode": "UNSUPPORTED_MEDIA_TYPE",
        "Error": f"request body must be sent as {expected}",
        "Hint": f"set Content-Type: {expected}",
    }
    return HTTPError(JSONResponse(body, status_code=415))


def not_found(kind: str, ident: str) -> HTTPError:
    """404 in the ``{"status": {...}, "errors": [...]}`` shape."""
    message = f"{kind} not found"
    body = {
        "status": {
            "code": 404,
            "subcode": f"{kind.upper()}_NOT_FOUND",
            "message": message,
            "errorId": uuid.uuid4().hex,
        },
        "errors": [{"code": "NOT_FOUND", "field": f"{kind}Id", "message": f"{message}: {ident}"}],
    }
    return HTTPError(JSONResponse(body, status_code=404))


def unauthorized(subcode: str, message: str) -> Response:
    """401 for API calls in the ``{"status": "Unauthorized", "error": {...}}`` shape."""
    body = {
        "status": "Unauthorized",
        "error": {"code": 401, "subcode": subcode, "message": message},
    }
    return JSONResponse(
        body,
        status_code=401,
        headers={
            "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{subcode}"'
        },
    )


def oauth_error(status: int, code: str, message: str) -> Response:
    """Token endpoint error in the ``{"error": {"code","message","subcode"}}`` shape."""
    body = {"error": {"code": code, "message": message, "subcode": status}}
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def rate_limited(retry_after: int) -> Response:
    """429 with ``Retry-After`` (seconds)."""
    body = {"error": {"code": 429, "message": "Too many requests", "subcode": "RATE_LIMITED"}}
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})


_GATEWAY_PAGE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)


def unavailable(retry_after: int | None = None) -> Response:
    """503 as an HTML gateway page, as a load balancer in front of the API sends it."""
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return HTMLResponse(_GATEWAY_PAGE, status_code=503, headers=headers)
