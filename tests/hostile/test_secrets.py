"""A server that echoes the credentials it receives: in headers (``X-Echo-Token``,
``Set-Cookie``, ``WWW-Authenticate``), in 403 bodies and in malformed 2xx bodies. No token
value the client holds may show in exceptions, bodies kept on errors, DEBUG logs or
transfer reports."""

from __future__ import annotations

import json
import logging
import secrets
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from intralinks_async import IntralinksClient, RetryPolicy
from intralinks_async._logging import (
    REDACTED,
    forget_secrets,
    redact_headers,
    redact_text,
    register_secret,
)
from intralinks_async.errors import (
    APIResponseValidationError,
    APIStatusError,
    IntralinksError,
    PermissionDeniedError,
)

from .servers import Reply, Request, raw_server

CLIENT_SECRET = "client-secret-" + secrets.token_hex(8)


class EchoServer:
    """Issues fresh tokens, then answers every API call with the caller's token echoed."""

    def __init__(self, status: int = 403) -> None:
        self.status = status
        self.issued: list[str] = []

    def __call__(self, request: Request) -> Reply:
        if request.path == "/oauth/token":
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
            self.issued += [access, refresh]
            body = {"access_token": access, "refresh_token": refresh, "expires_in": 3600}
            return Reply(200, [("Content-Type", "application/json")], json.dumps(body).encode())
        sent = request.headers.get("authorization", "").partition(" ")[2]
        if request.method == "GET" and request.path.split("?")[0].endswith(
            ("/folders", "/documents")
        ):
            listing = b'{"folder": [{"id": "f1", "name": "root"}]}'
            if "/documents" in request.path:
                listing = b'{"document": []}'
            return Reply(200, [("Content-Type", "application/json")], listing)
        if request.method == "POST" and request.path.endswith("/folders"):
            created = b'{"id": "f9", "name": "room", "parentId": "f1"}'
            return Reply(201, [("Content-Type", "application/json")], created)
        echo = [*self.issued, sent, CLIENT_SECRET]
        headers = [
            ("Content-Type", "application/json"),
            ("X-Echo-Token", sent),
            ("Set-Cookie", f"session={sent}; HttpOnly"),
            ("WWW-Authenticate", f'Bearer realm="api", error="insufficient_scope", token="{sent}"'),
            ("X-Request-Note", f"seen {sent} and {CLIENT_SECRET}"),  # a harmless-looking name
            ("X-Request-Id", "req-123"),
        ]
        if self.status == 200:  # a malformed 2xx echoing it all
            return Reply(200, headers, f'{{"id": 5, "createdOn": "{sent}", "e": {echo}'.encode())
        body = {
            "error": {"code": "403", "message": f"token {sent} may not do this"},
            "echo": echo,
            "errors": [{"message": f"you sent Bearer {sent}", "detail": echo}],
            "note": f"client secret was {CLIENT_SECRET}",
        }
        return Reply(self.status, headers, json.dumps(body).encode())

    def secrets(self) -> list[str]:
        return [*self.issued, CLIENT_SECRET]


@asynccontextmanager
async def echo_client(server: EchoServer) -> AsyncIterator[IntralinksClient]:
    async with (
        raw_server(server) as url,
        IntralinksClient(
            url, client_id="cid", client_secret=CLIENT_SECRET, retry=RetryPolicy(max_retries=0)
        ) as client,
    ):
        yield client


def _error_texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    for name in ("message", "body", "hint", "errors", "code", "subcode"):
        texts.append(str(getattr(error, name, "")))
    headers = getattr(error, "headers", None)
    if headers is not None:
        texts.append(str(list(headers.items())))
    return texts


def _assert_clean(texts: list[str], server: EchoServer) -> None:
    blob = "\n".join(texts)
    assert server.issued, "no token was issued"
    for secret in server.secrets():
        assert secret not in blob, "a secret leaked"


async def test_token_echoed_in_a_403_is_masked_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="intralinks_async")
    server = EchoServer()
    async with echo_client(server) as client:
        with pytest.raises(PermissionDeniedError) as info:
            await client.workspaces.get("ws1")
    error = info.value
    assert error.status_code == 403 and error.operation == "getWorkspace"
    assert REDACTED in error.message and REDACTED in (error.body or "")
    assert error.headers["x-echo-token"] == REDACTED
    assert error.headers["set-cookie"] == REDACTED
    assert error.headers["www-authenticate"] == REDACTED
    assert error.headers["x-request-id"] == "req-123"  # useful headers survive
    assert error.request_id == "req-123"
    logs = caplog.text
    assert (
        "response 403" in logs and "x-echo-token" in logs.lower()
    )  # the name is logged, not the value
    _assert_clean([*_error_texts(error), logs], server)


async def test_token_echoed_in_a_malformed_2xx_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="intralinks_async")
    server = EchoServer(status=200)
    async with echo_client(server) as client:
        with pytest.raises(APIResponseValidationError) as info:
            await client.workspaces.get("ws1")
    error = info.value
    assert error.operation == "getWorkspace" and error.body
    _assert_clean([*_error_texts(error), caplog.text], server)


async def test_failed_uploads_report_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    (tmp_path / "room").mkdir()
    for i in range(3):
        (tmp_path / "room" / f"f{i}.txt").write_bytes(b"x" * (i + 1))
    server = EchoServer()
    texts: list[str] = []
    async with echo_client(server) as client:
        with pytest.raises(IntralinksError) as info:
            await client.transfers.upload_file("ws1", "f1", tmp_path / "room" / "f0.txt")
        texts += _error_texts(info.value)
        report = await client.transfers.upload_tree(
            tmp_path / "room", "ws1", parent_folder_id="f1", journal=tmp_path / "j.db"
        )
    assert report.failed == 3
    texts.append(json.dumps(report.to_dict()))
    texts.append(repr(report))
    texts += [f.message for f in report.failures]
    for failure in report.failures:
        texts += _error_texts(failure.error)
    texts.append(caplog.text)
    _assert_clean(texts, server)


# -- the registry and header redaction, unit level --------------------------------------


def test_registered_secrets_are_masked_in_every_encoding() -> None:
    value = "abc/def+ghi=jkl-" + secrets.token_hex(4)
    register_secret(value)
    try:
        for text in (
            f"plain {value} text",
            json.dumps({"x": value}),
            json.dumps({"x": value}).replace("/", "\\/"),  # JSON with escaped slashes
            "https://h/p?x=" + value.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D"),
            "q=" + value.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D"),
        ):
            assert value.split("/")[1] not in redact_text(text), text
    finally:
        forget_secrets()


def test_short_and_empty_values_are_not_registered() -> None:
    register_secret("", None, "short")
    try:
        assert redact_text("a short story") == "a short story"
    finally:
        forget_secrets()


def test_sensitive_header_names_are_masked_and_others_scanned() -> None:
    token = "tok-" + secrets.token_hex(8)
    register_secret(token)
    try:
        shown = redact_headers(
            [
                ("X-Echo-Token", "anything"),
                ("Set-Cookie", "a=b"),
                ("WWW-Authenticate", "Bearer"),
                ("X-Session-Id", "s"),
                ("Api-Key", "k"),
                ("X-Note", f"got {token}"),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "i"),
            ]
        )
    finally:
        forget_secrets()
    assert shown["Content-Type"] == "application/json"
    assert shown["X-Note"] == f"got {REDACTED}"
    for name in ("X-Echo-Token", "Set-Cookie", "WWW-Authenticate", "X-Session-Id", "Api-Key"):
        assert shown[name] == REDACTED, name
    assert shown["Idempotency-Key"] == REDACTED


def test_intralinks_error_text_is_redacted_even_for_late_secrets() -> None:
    token = "late-" + secrets.token_hex(8)
    error = IntralinksError(f"something about {token}")
    register_secret(token)
    try:
        assert token not in str(error)
        status = APIStatusError(f"echo {token}", status_code=400, body=f"body {token}")
        assert token not in str(status) and token not in (status.body or "")
    finally:
        forget_secrets()


def test_registry_is_bounded() -> None:
    from intralinks_async import _logging

    try:
        for i in range(_logging.MAX_SECRETS + 10):
            register_secret(f"secret-value-{i:04d}")
        assert redact_text("secret-value-0000") == "secret-value-0000"  # forgotten first
        assert redact_text(f"secret-value-{_logging.MAX_SECRETS + 9:04d}") == REDACTED
    finally:
        forget_secrets()
