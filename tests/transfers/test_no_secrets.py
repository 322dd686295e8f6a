"""No bearer token or client secret in reports, journals, exceptions or logs of failed transfers."""

from __future__ import annotations

import json
import logging
import traceback
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.testing import create_app, serve_in_thread

from .conftest import connect, new_workspace


def _recording(app: Any, seen: set[str]) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        for key, value in scope.get("headers", []):
            if key.lower() == b"authorization":
                seen.add(value.decode().split(" ", 1)[-1])
        await app(scope, receive, send)

    return wrapped


async def test_failed_transfers_leak_no_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    src = tmp_path / "room"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}.txt").write_bytes(b"x" * (i + 1) * 1000)
    seen: set[str] = set()
    app = create_app(retry_after=0)
    texts: list[str] = []
    try:
        with serve_in_thread(_recording(app, seen)) as url:
            async with connect(url) as client:
                ws = await new_workspace(client)
                emu = app.state.emulator
                folder = emu.seed_folder(ws, "docs")
                emu.seed_document(ws, folder, "a.bin", b"a" * 5000)
                emu.inject_fault("503", 10_000, operation="uploadDocument")
                emu.inject_fault("503", 10_000, operation="downloadDocument")
                up = await client.transfers.upload_tree(src, ws, journal=tmp_path / "up.db")
                down = await client.transfers.download_tree(
                    ws, tmp_path / "m", journal=tmp_path / "down.db"
                )
                try:
                    await client.transfers.download_file(ws, "404404", tmp_path / "x")
                except Exception as exc:
                    texts.append("".join(traceback.format_exception(exc)))
    finally:
        emu.close()
    assert seen, "the recording wrapper saw no bearer token"
    # Every upload fails: item by item, or (the outage circuit) the run stops early.
    assert (up.failed == 3 or up.aborted) and (down.failed == 1 or down.aborted)
    for report in (up, down):
        texts.append(json.dumps(report.to_dict()))
        texts.append(repr(report))
        texts.extend("".join(traceback.format_exception(f.error)) for f in report.failures)
    texts.append((tmp_path / "up.db").read_bytes().decode("latin-1"))
    texts.append((tmp_path / "down.db").read_bytes().decode("latin-1"))
    texts.append(caplog.text)
    blob = "\n".join(texts)
    for secret in [*seen, "demo-secret"]:
        assert secret not in blob
