"""Bad arguments raise a typed error naming what is wrong, before any side effect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from intralinks_async import IntralinksClient

from .conftest import FAST_RETRY, connect, new_workspace, remote_folders, served

# Nothing listens there: an argument check that came after a request would surface as a
# connection error instead of the expected one.
_DEAD = "http://127.0.0.1:9"


def _offline() -> IntralinksClient:
    return IntralinksClient(_DEAD, client_id="demo", client_secret="demo-secret", retry=FAST_RETRY)


@pytest.mark.parametrize(
    ("kwargs", "exc", "word"),
    [
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"concurrency": -3}, ValueError, "concurrency"),
        ({"concurrency": 2.5}, TypeError, "concurrency"),
        ({"concurrency": True}, TypeError, "concurrency"),
        ({"on_conflict": "overwrite"}, ValueError, "on_conflict"),
    ],
)
async def test_upload_tree_rejects_bad_options_before_touching_the_server(
    tmp_path: Path, kwargs: dict[str, Any], exc: type[Exception], word: str
) -> None:
    (tmp_path / "room").mkdir()
    (tmp_path / "room" / "a.txt").write_bytes(b"a")
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            with pytest.raises(exc, match=word):
                await client.transfers.upload_tree(tmp_path / "room", ws, **kwargs)
            assert remote_folders(app, ws) == []


async def test_upload_tree_missing_or_file_source(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_bytes(b"x")
    async with _offline() as client:
        with pytest.raises(FileNotFoundError, match="missing"):
            await client.transfers.upload_tree(tmp_path / "missing", "W1")
        with pytest.raises(NotADirectoryError, match="file.txt"):
            await client.transfers.upload_tree(tmp_path / "file.txt", "W1")


@pytest.mark.parametrize(
    ("kwargs", "exc", "word"),
    [
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"chunk_concurrency": 0}, ValueError, "chunk_concurrency"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"chunk_size": "8M"}, TypeError, "chunk_size"),
    ],
)
async def test_download_tree_rejects_bad_options_before_anything(
    tmp_path: Path, kwargs: dict[str, Any], exc: type[Exception], word: str
) -> None:
    async with _offline() as client:
        with pytest.raises(exc, match=word):
            await client.transfers.download_tree("W1", tmp_path / "mirror", **kwargs)
    assert not (tmp_path / "mirror").exists()


async def test_download_tree_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    async with _offline() as client:
        with pytest.raises(NotADirectoryError, match="f"):
            await client.transfers.download_tree("W1", tmp_path / "f")


@pytest.mark.parametrize(
    ("kwargs", "exc", "word"),
    [
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"chunk_size": 0}, ValueError, "chunk_size"),
        ({"chunk_size": None}, TypeError, "chunk_size"),
    ],
)
async def test_download_file_rejects_bad_options_before_any_request(
    tmp_path: Path, kwargs: dict[str, Any], exc: type[Exception], word: str
) -> None:
    async with _offline() as client:
        with pytest.raises(exc, match=word):
            await client.transfers.download_file("W1", "D1", tmp_path / "x", **kwargs)


async def test_download_file_into_missing_directory(tmp_path: Path) -> None:
    async with _offline() as client:
        with pytest.raises(FileNotFoundError, match="nowhere"):
            await client.transfers.download_file("W1", "D1", tmp_path / "nowhere" / "x.pdf")


async def test_upload_file_missing_source_or_directory(tmp_path: Path) -> None:
    async with _offline() as client:
        with pytest.raises(FileNotFoundError, match="report.pdf"):
            await client.transfers.upload_file("W1", "F1", tmp_path / "report.pdf")
        with pytest.raises(IsADirectoryError, match=str(tmp_path.name)):
            await client.transfers.upload_file("W1", "F1", tmp_path)
        with pytest.raises(TypeError, match="source"):
            await client.transfers.upload_file("W1", "F1", 42)


async def test_unknown_folder_ids_are_refused_up_front(tmp_path: Path) -> None:
    src = tmp_path / "room"
    src.mkdir()
    for i in range(20):
        (src / f"f{i}.txt").write_bytes(b"x")
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            with pytest.raises(ValueError, match="parent_folder_id 'nope'"):
                await client.transfers.upload_tree(src, ws, parent_folder_id="nope")
            assert emu.requests["uploadDocument"] == 0
            assert emu.requests["listDocuments"] == 0
            with pytest.raises(ValueError, match="folder_id 'nope'"):
                await client.transfers.download_tree(ws, tmp_path / "m", folder_id="nope")
            assert not (tmp_path / "m").exists()


async def test_unset_or_empty_ids_are_named(tmp_path: Path) -> None:
    from intralinks_async._generated.types import UNSET

    async with _offline() as client:
        with pytest.raises(ValueError, match="document_id"):
            await client.transfers.download_file("W1", UNSET, tmp_path / "x")
        with pytest.raises(ValueError, match="folder_id"):
            await client.transfers.upload_file("W1", "", b"x", name="x")
        with pytest.raises(ValueError, match="workspace_id"):
            await client.transfers.download_tree(UNSET, tmp_path / "m")
        with pytest.raises(ValueError, match="workspace_id"):
            client.transfers.iter_document_bytes(UNSET, "D1")
