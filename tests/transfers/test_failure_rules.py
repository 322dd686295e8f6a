"""What transfers do with the failures the client hands back (the client owns retries)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from intralinks_async.errors import APIResponseValidationError, ServiceUnavailableError
from intralinks_async.testing import create_app, serve_in_thread
from intralinks_async.transfers import _api, upload, walk
from intralinks_async.transfers.errors import SkippedEntryError

from .conftest import FAST_RETRY, connect, duplicates, new_workspace, remote_documents, served


async def test_throttled_upload_is_never_checked_for_landing() -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            emu.inject_fault("429", 2, operation="uploadDocument")
            emu.inject_fault("503", 1, operation="uploadDocument")
            doc = await client.transfers.upload_file(ws, folder, b"abc", name="a.txt")
            assert doc.id is not None
            # 429/503 mean "not processed": no listing to see whether it landed.
            assert emu.requests["listDocuments"] == 0
            assert emu.requests["uploadDocument"] == 4
            assert len(remote_documents(app, ws)) == 1


async def test_lost_answer_after_sending_is_checked_once_and_adopted() -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            emu.inject_fault("drop", 1, operation="uploadDocument")
            doc = await client.transfers.upload_file(ws, folder, b"x" * 5000, name="a.txt")
            assert doc.id is not None
            assert emu.requests["listDocuments"] == 1
            assert emu.requests["uploadDocument"] == 1
            assert duplicates(app, ws) == [] and len(remote_documents(app, ws)) == 1


async def test_download_from_an_always_503_server_is_not_retried_twice_over(
    tmp_path: Path,
) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "f")
            doc = emu.seed_document(ws, folder, "a.bin", os.urandom(3000))
            emu.inject_fault("503", 10_000, operation="downloadDocument")
            with pytest.raises(Exception, match="503"):
                await client.transfers.download_file(ws, doc, tmp_path / "a.bin")
            assert emu.requests["downloadDocument"] <= FAST_RETRY.max_retries + 1
            assert not (tmp_path / "a.bin").exists()


def _answer_upload_with(app: Any, status: int, body: bytes) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].endswith("/documents")
        ):
            while (await receive()).get("more_body"):
                pass
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


async def test_upload_answered_200_without_id_is_an_error(tmp_path: Path) -> None:
    app = create_app(retry_after=0)
    try:
        with serve_in_thread(_answer_upload_with(app, 200, b"{}")) as url:
            async with connect(url) as client:
                ws = await new_workspace(client)
                folder = app.state.emulator.seed_folder(ws, "f")
                with pytest.raises(APIResponseValidationError):
                    await client.transfers.upload_file(ws, folder, b"abc", name="a.txt")
                (tmp_path / "room").mkdir()
                (tmp_path / "room" / "a.txt").write_bytes(b"abc")
                report = await client.transfers.upload_tree(tmp_path / "room", ws)
                assert report.succeeded == 0 and report.failed == 1
                assert isinstance(report.failures[0].error, APIResponseValidationError)
    finally:
        app.state.emulator.close()


def _refuse_credentials_after(app: Any, uploads: int) -> Any:
    """After ``uploads`` uploads, the token endpoint and the API refuse the client."""
    seen = [0]

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if seen[0] >= uploads and (path.startswith("/oauth") or "/workspaces" in path):
                while (await receive()).get("more_body"):
                    pass
                body = json.dumps(
                    {"error": "invalid_client", "error_description": "client disabled"}
                ).encode()
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            if scope["method"] == "POST" and path.endswith("/documents"):
                seen[0] += 1
        await app(scope, receive, send)

    return wrapped


def _room(root: Path, files: int) -> Path:
    root.mkdir()
    for i in range(files):
        (root / f"f{i:03}.txt").write_bytes(b"%d" % i)
    return root


async def test_refused_credentials_stop_the_tree_promptly_and_it_resumes(tmp_path: Path) -> None:
    src = _room(tmp_path / "room", 120)
    journal = tmp_path / "j.db"
    app = create_app(retry_after=0, token_ttl=3600)
    try:
        with serve_in_thread(_refuse_credentials_after(app, 20)) as url:
            async with connect(url) as client:
                ws = await new_workspace(client)
                client._oauth._token = None  # type: ignore[attr-defined]  # force a refresh
                report = await client.transfers.upload_tree(src, ws, concurrency=4, journal=journal)
        assert report.aborted is not None and "Authentication" in report.aborted
        # Stopped at once: the rest were not attempted one by one.
        assert report.succeeded + report.failed < 60
        assert not report.ok
        with serve_in_thread(app) as url:
            async with connect(url) as client:
                again = await client.transfers.upload_tree(src, ws, concurrency=4, journal=journal)
        assert again.ok and again.aborted is None
        assert len(remote_documents(app, ws)) == 120 and duplicates(app, ws) == []
    finally:
        app.state.emulator.close()


async def test_outage_stops_the_tree_with_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _room(tmp_path / "room", 80)
    real = _api.RemoteAPI.upload
    calls = [0]

    async def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] > 10:
            raise ServiceUnavailableError("service unavailable for 300s", since=0.0)
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(_api.RemoteAPI, "upload", flaky)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws, concurrency=4)
    assert report.aborted is not None and "ServiceUnavailableError" in report.aborted
    assert report.succeeded <= 10  # the others in flight were stopped
    assert calls[0] <= 10 + 4  # at most the uploads already in flight
    assert report.to_dict()["aborted"] == report.aborted


async def test_walk_reports_unreadable_and_special_entries_and_uploads_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "room"
    (src / "locked" / "inner").mkdir(parents=True)
    (src / "locked" / "secret.txt").write_bytes(b"s")
    (src / "open").mkdir()
    (src / "open" / "a.txt").write_bytes(b"a")
    (src / "unreadable.txt").write_bytes(b"u")
    (src / "b.txt").write_bytes(b"b")
    os.symlink(src / "b.txt", src / "link.txt")
    os.mkfifo(src / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / "sock"))
    real_scandir = os.scandir
    real_open = open

    def scandir(path: Any = ".") -> Any:
        if isinstance(path, str | os.PathLike) and os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    real_os_open = os.open

    def refuse(file: Any) -> None:
        if isinstance(file, str | os.PathLike) and os.fspath(file).endswith("unreadable.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(file))

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        refuse(file)
        return real_open(file, *args, **kwargs)

    def guarded_os_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        refuse(file)
        return real_os_open(file, *args, **kwargs)

    # (as root, file modes do not stop a read: the refusal is simulated at the calls)
    monkeypatch.setattr(walk.os, "scandir", scandir)
    monkeypatch.setattr(upload, "open", guarded_open, raising=False)
    monkeypatch.setattr(os, "open", guarded_os_open)
    try:
        with served() as (app, url):
            async with connect(url) as client:
                ws = await new_workspace(client)
                report = await client.transfers.upload_tree(src, ws)
                names = sorted(d["name"] for d in remote_documents(app, ws))
    finally:
        sock.close()
    assert names == ["a.txt", "b.txt"]
    failed = {f.path: f for f in report.failures}
    assert set(failed) == {"locked/", "unreadable.txt", "link.txt", "pipe", "sock"}
    assert "Permission denied" in failed["locked/"].message
    assert isinstance(failed["locked/"].error, SkippedEntryError)
    assert all(isinstance(failed[p].error, SkippedEntryError) for p in ("link.txt", "pipe", "sock"))
    assert isinstance(failed["unreadable.txt"].error, PermissionError)
    assert report.succeeded == 2 and report.aborted is None


async def test_fresh_tree_upload_lists_no_folder_it_created(tmp_path: Path) -> None:
    src = tmp_path / "room"
    for d in range(5):
        (src / f"d{d}").mkdir(parents=True)
        for i in range(10):
            (src / f"d{d}" / f"f{i}.txt").write_bytes(b"%d" % i)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            first = await client.transfers.upload_tree(src, ws, concurrency=8)
            assert first.ok and first.succeeded == 50
            # Every folder was just created by the run: empty, nothing to look up.
            assert emu.requests["listDocuments"] == 0
            again = await client.transfers.upload_tree(src, ws, concurrency=8)
            assert again.skipped == 50 and emu.requests["listDocuments"] == 5  # folders with files
