"""Secrets reaching text by paths the first redaction layers missed (review findings):
pre-signed URL parameters, URL-valued response headers, tracebacks in log records and
the ``repr`` of an error built before its secret was registered."""

from __future__ import annotations

import logging
import secrets

import pytest

from intralinks_async._logging import (
    REDACTED,
    forget_secrets,
    logger,
    redact_headers,
    redact_text,
    redact_url,
    register_secret,
)
from intralinks_async.errors import APIConnectionError, IntralinksError

SIGNATURE = "f3a9" + secrets.token_hex(16)
CREDENTIAL = "AKIA" + secrets.token_hex(8).upper()
AUTH_CODE = "ac-" + secrets.token_urlsafe(12)
PRESIGNED = (
    "https://storage.example.com/bucket/doc.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    f"&X-Amz-Credential={CREDENTIAL}%2F20261201%2Fus-east-1&X-Amz-Signature={SIGNATURE}"
    f"&sv=2024-01-01&sig={SIGNATURE}x&code={AUTH_CODE}&X-Goog-Signature={SIGNATURE}y"
)


def _clean(text: str) -> None:
    for value in (SIGNATURE, CREDENTIAL, AUTH_CODE):
        assert value not in text, f"{value!r} leaked in {text!r}"


def test_presigned_url_parameters_are_masked_by_redact_url() -> None:
    redacted = redact_url(PRESIGNED)
    assert redacted is not None
    _clean(redacted)
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in redacted  # harmless values stay


def test_presigned_url_in_free_text_is_masked() -> None:
    # aiohttp's ClientResponseError text quotes the URL; errors and logs carry it.
    text = f"ClientResponseError: 400, message='Bad status line', url='{PRESIGNED}'"
    _clean(redact_text(text))
    error = APIConnectionError(f"RemoteProtocolError: {text}")
    _clean(str(error))
    _clean(error.message)


def test_error_codes_in_free_text_are_not_masked() -> None:
    text = "HTTP 400: bad request [code=invalid_client, subcode=12]"
    assert redact_text(text) == text


def test_url_valued_response_headers_are_masked() -> None:
    headers = redact_headers(
        [
            ("Location", PRESIGNED),
            ("Content-Location", f"/callback?state=s1&code={AUTH_CODE}"),
            ("Link", f'<{PRESIGNED}>; rel="alternate"'),
        ]
    )
    _clean(repr(headers))
    assert headers["Content-Location"].startswith("/callback?state=s1&code=")


def test_tracebacks_in_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    token = "tok-" + secrets.token_urlsafe(24)
    register_secret(token)
    try:
        with caplog.at_level(logging.DEBUG, logger="intralinks_async"):
            try:
                raise ValueError(f"a user hook choked on {token}")
            except ValueError:
                logger.exception("on_attempt hook failed")
        formatted = "\n".join(logging.Formatter("%(message)s").format(r) for r in caplog.records)
        assert "a user hook choked on" in formatted
        assert token not in formatted
        assert token not in caplog.text
    finally:
        forget_secrets()


def test_repr_of_an_error_masks_a_secret_registered_later() -> None:
    token = "late-" + secrets.token_urlsafe(24)
    error = IntralinksError(f"server said {token}")
    register_secret(token)
    try:
        assert token not in str(error)
        assert token not in repr(error)
        assert REDACTED in repr(error)
    finally:
        forget_secrets()


def test_secret_field_cut_by_a_clip_or_a_truncated_body_is_masked() -> None:
    unregistered = "eyJ" + secrets.token_urlsafe(40)
    body = '{"id": "d1", "note": "' + "x" * 1950 + '", "access_token": "' + unregistered
    clipped = body[:2010]  # a body clipped (or cut by the server) inside the secret's value
    assert unregistered[:5] in clipped
    assert unregistered[:5] not in redact_text(clipped)
    assert unregistered[:5] not in redact_text('{"refresh_token":"' + unregistered[:20])
