"""upload_tree edge cases: symlinks, its own journal inside the tree, files edited after a run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from intralinks_async.transfers import SkippedEntryError

from .conftest import connect, new_workspace, remote_documents, served


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
async def test_symlinks_are_not_followed_and_not_dropped_silently(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "secret-dir").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"not part of the data room")
    (outside / "secret-dir" / "x.txt").write_bytes(b"nor this")
    src = tmp_path / "room"
    (src / "sub").mkdir(parents=True)
    (src / "real.txt").write_bytes(b"real")
    (src / "sub" / "inner.txt").write_bytes(b"inner")
    os.symlink(outside / "secret.txt", src / "link-out.txt")
    os.symlink(outside / "secret-dir", src / "sub" / "dir-out")
    os.symlink(src / "real.txt", src / "sub" / "link-in.txt")
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws)
            stored = sorted(d["name"] for d in remote_documents(app, ws))
            assert stored == ["inner.txt", "real.txt"]
            assert report.succeeded == 2
            assert sorted(f.path for f in report.failures) == [
                "link-out.txt",
                "sub/dir-out",
                "sub/link-in.txt",
            ]
            assert all(isinstance(f.error, SkippedEntryError) for f in report.failures)
            assert "symbolic link" in report.failures[0].message
            assert report.items_total == 5
            # Nothing about the link target leaks into the report.
            assert "secret" not in repr(report.to_dict())


async def test_journal_inside_the_tree_is_not_uploaded(tmp_path: Path) -> None:
    src = tmp_path / "room"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}.txt").write_bytes(b"x" * i)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws, journal=src / "migration.db")
            assert report.ok, report.failures
            names = sorted(d["name"] for d in remote_documents(app, ws))
            assert names == [f"f{i}.txt" for i in range(5)]
            again = await client.transfers.upload_tree(src, ws, journal=src / "migration.db")
            assert again.ok and again.skipped == 5 and again.items_total == 5


async def test_file_edited_after_a_journaled_run_is_not_skipped(tmp_path: Path) -> None:
    src = tmp_path / "room"
    src.mkdir()
    (src / "a.txt").write_bytes(b"v1")
    (src / "b.txt").write_bytes(b"same")
    journal = tmp_path / "j.db"
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            first = await client.transfers.upload_tree(src, ws, journal=journal)
            assert first.ok and first.succeeded == 2
            (src / "a.txt").write_bytes(b"version 2")
            second = await client.transfers.upload_tree(
                src, ws, journal=journal, on_conflict="new_version"
            )
            assert second.ok and second.succeeded == 1 and second.skipped == 1
            sizes = sorted((d["name"], d["fileSize"]) for d in remote_documents(app, ws))
            assert sizes == [("a.txt", 2), ("a.txt", 9), ("b.txt", 4)]


async def test_journaled_mirror_refreshes_a_document_whose_content_changed(
    tmp_path: Path,
) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "docs")
            doc = emu.seed_document(ws, folder, "terms.txt", b"price: 100")
            emu.seed_document(ws, folder, "other.txt", b"unchanged")
            mirror, journal = tmp_path / "m", tmp_path / "j.db"
            first = await client.transfers.download_tree(ws, mirror, journal=journal)
            assert first.ok and first.succeeded == 2
            emu.replace_document_content(ws, doc, b"price: 999")  # same size, new bytes
            second = await client.transfers.download_tree(ws, mirror, journal=journal)
            assert second.ok and second.succeeded == 1 and second.skipped == 1
            assert (mirror / "docs" / "terms.txt").read_bytes() == b"price: 999"


async def test_leftover_download_temp_files_are_not_uploaded(tmp_path: Path) -> None:
    from intralinks_async.transfers.names import temp_name_for

    src = tmp_path / "mirror"
    src.mkdir()
    (src / "deal.pdf").write_bytes(b"complete")
    # What a killed download leaves behind: a partial file under a temporary name.
    (src / temp_name_for("big.pdf", "0123abcd")).write_bytes(b"partial")
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            report = await client.transfers.upload_tree(src, ws)
            assert [d["name"] for d in remote_documents(app, ws)] == ["deal.pdf"]
            assert [f.path for f in report.failures] == [".big.pdf.part-0123abcd"]
            assert isinstance(report.failures[0].error, SkippedEntryError)


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")
async def test_mirror_never_writes_through_symlinks_in_dest(tmp_path: Path) -> None:
    from intralinks_async.transfers.names import UnsafePathError

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_bytes(b"x" * 7)
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "docs")
            emu.seed_document(ws, folder, "victim.txt", b"remote!")
            emu.seed_document(ws, emu.seed_folder(ws, "other"), "o.txt", b"o")
            # A linked file in the mirror is replaced by the real document, not followed.
            mirror = tmp_path / "m1"
            (mirror / "docs").mkdir(parents=True)
            os.symlink(outside / "victim.txt", mirror / "docs" / "victim.txt")
            report = await client.transfers.download_tree(ws, mirror)
            assert report.ok and report.succeeded == 2
            assert not (mirror / "docs" / "victim.txt").is_symlink()
            assert (mirror / "docs" / "victim.txt").read_bytes() == b"remote!"
            assert (outside / "victim.txt").read_bytes() == b"x" * 7
            # A linked directory is refused before anything is written.
            mirror2 = tmp_path / "m2"
            mirror2.mkdir()
            os.symlink(outside, mirror2 / "docs")
            with pytest.raises(UnsafePathError, match="symbolic link"):
                await client.transfers.download_tree(ws, mirror2)
            assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]


async def test_document_updated_between_listing_and_download_is_fetched_fresh(
    tmp_path: Path,
) -> None:
    from intralinks_async.transfers import ProgressEvent

    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            folder = emu.seed_folder(ws, "docs")
            grows = emu.seed_document(ws, folder, "grows.txt", b"v1")
            same_size = emu.seed_document(ws, folder, "same.txt", b"aaaa")
            changed = False

            def progress(event: ProgressEvent) -> None:
                nonlocal changed
                if event.kind == "totals" and event.items_total and not changed:
                    changed = True  # after the listing, before any download
                    emu.replace_document_content(ws, grows, b"version 2, longer")
                    emu.replace_document_content(ws, same_size, b"bbbb")

            mirror = tmp_path / "m"
            report = await client.transfers.download_tree(ws, mirror, progress=progress)
            assert changed
            assert report.ok, report.failures
            assert (mirror / "docs" / "grows.txt").read_bytes() == b"version 2, longer"
            assert (mirror / "docs" / "same.txt").read_bytes() == b"bbbb"
