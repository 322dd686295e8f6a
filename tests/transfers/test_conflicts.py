"""on_conflict: skip, new_version, error; identical content is never uploaded twice."""

from __future__ import annotations

from pathlib import Path

from intralinks_async.transfers import RemoteConflictError

from .conftest import connect, new_workspace, remote_documents, served


async def test_on_conflict_modes(tmp_path: Path) -> None:
    src = tmp_path / "room"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"first")
    (src / "sub" / "b.txt").write_bytes(b"same")
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            first = await client.transfers.upload_tree(src, ws)
            assert first.ok and first.succeeded == 2 and first.folders_created == 2
            # Changed content of the same size (a name-and-size rule would miss it).
            (src / "a.txt").write_bytes(b"FIRST")

            skip = await client.transfers.upload_tree(src, ws, on_conflict="skip")
            assert [f.path for f in skip.failures] == ["a.txt"]
            assert isinstance(skip.failures[0].error, RemoteConflictError)
            assert "different document" in skip.failures[0].message
            assert skip.skipped == 1 and len(remote_documents(app, ws)) == 2

            err = await client.transfers.upload_tree(src, ws, on_conflict="error")
            assert [f.path for f in err.failures] == ["a.txt"]
            assert isinstance(err.failures[0].error, RemoteConflictError)
            assert err.skipped == 1 and len(remote_documents(app, ws)) == 2

            new = await client.transfers.upload_tree(src, ws, on_conflict="new_version")
            assert new.ok and new.succeeded == 1 and new.skipped == 1
            docs = remote_documents(app, ws)
            assert sorted((d["name"], d["fileSize"]) for d in docs) == [
                ("a.txt", 5),
                ("a.txt", 5),
                ("b.txt", 4),
            ]
            # Rerun: the new version is now identical, nothing more is stored.
            again = await client.transfers.upload_tree(src, ws, on_conflict="new_version")
            assert again.ok and again.skipped == 2 and len(remote_documents(app, ws)) == 3


async def test_upload_into_given_parent_folder(tmp_path: Path) -> None:
    src = tmp_path / "room"
    (src / "x" / "y").mkdir(parents=True)
    (src / "x" / "y" / "deep.txt").write_bytes(b"deep")
    (src / "top.txt").write_bytes(b"top")
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            parent = app.state.emulator.seed_folder(ws, "Target")
            report = await client.transfers.upload_tree(src, ws, parent_folder_id=parent)
            assert report.ok and report.succeeded == 2
            mirror = tmp_path / "mirror"
            down = await client.transfers.download_tree(ws, mirror, folder_id=parent)
            assert down.ok
            assert (mirror / "top.txt").read_bytes() == b"top"
            assert (mirror / "x" / "y" / "deep.txt").read_bytes() == b"deep"


async def test_failed_folder_listing_is_reported_not_raised(tmp_path: Path) -> None:
    with served() as (app, url):
        async with connect(url) as client:
            ws = await new_workspace(client)
            emu = app.state.emulator
            good = emu.seed_folder(ws, "good")
            emu.seed_document(ws, good, "a.txt", b"a")
            await client.transfers.download_tree(ws, tmp_path / "warm")  # token, pools
            emu.inject_fault("503", 1000, operation="listDocuments")
            report = await client.transfers.download_tree(ws, tmp_path / "m")
            assert not report.ok
            assert [f.path for f in report.failures] == ["good/"]
            assert report.retries > 0
