"""Migrate a local directory tree into a workspace, resumably and without duplicates."""

from __future__ import annotations

import os
from functools import partial
from itertools import groupby
from typing import Any, Literal

from intralinks_async.transfers._api import RemoteAPI, doc_hash, doc_size, opt_str
from intralinks_async.transfers._checks import existing_dir, positive_int
from intralinks_async.transfers._failures import is_fatal
from intralinks_async.transfers._remote_index import DocumentIndex, FolderIndex
from intralinks_async.transfers._run import TreeRun, journal_excludes
from intralinks_async.transfers._threads import run_short
from intralinks_async.transfers.errors import (
    RemoteConflictError,
    SkippedEntryError,
    TransferError,
)
from intralinks_async.transfers.journal import Journal, JournalEntry
from intralinks_async.transfers.manifest import utc_now
from intralinks_async.transfers.names import display_name, local_to_remote
from intralinks_async.transfers.progress import ProgressCallback, ProgressTracker
from intralinks_async.transfers.report import TransferFailure, TransferReport
from intralinks_async.transfers.upload import (
    SMALL_FILE,
    LoadedFile,
    Uploader,
    hash_file,
    read_ahead,
)
from intralinks_async.transfers.walk import LocalFile, LocalTree, iter_batches, scan_tree
from intralinks_async.transfers.window import BatchSink, run_fed_window, run_window

__all__ = ["OnConflict", "cached_folder_limit", "upload_tree"]

OnConflict = Literal["skip", "new_version", "error"]

#: Folders of one level are created this many times ``concurrency`` at once.
FOLDER_CONCURRENCY_FACTOR = 4
#: Bytes of small files read ahead per walk batch (in the same worker-thread hop as the
#: batch's journal lookup): one hop per batch instead of one per file.
READ_AHEAD_BYTES = 4 * 1024 * 1024
#: Walk batches prepared ahead of the one being sent.
READ_AHEAD_BATCHES = 1

_Work = tuple[LocalFile, JournalEntry | None, LoadedFile | None]


async def upload_tree(
    api: RemoteAPI,
    local_dir: str | os.PathLike[str],
    workspace_id: str,
    *,
    parent_folder_id: str | None = None,
    concurrency: int = 8,
    journal: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    on_conflict: OnConflict = "skip",
    dry_run: bool = False,
    manifest: str | os.PathLike[str] | None = None,
) -> TransferReport:
    """Upload every file under ``local_dir``; see :meth:`Transfers.upload_tree`."""
    if on_conflict not in ("skip", "new_version", "error"):
        raise ValueError(f"on_conflict must be 'skip', 'new_version' or 'error': {on_conflict!r}")
    positive_int("concurrency", concurrency)
    root = existing_dir("local_dir", local_dir).resolve()
    exclude = journal_excludes(journal) + journal_excludes(manifest)[:1]
    scope = f"{workspace_id}:{parent_folder_id or ''}:{root}"
    report = TransferReport("upload", dry_run=dry_run)
    # The journal is opened first: a wrong or locked journal fails before a long scan.
    async with TreeRun(api, report, journal, kind="upload", scope=scope, manifest=manifest) as run:
        tree = await scan_tree(root, exclude=exclude)
        upload = _TreeUpload(api, run, workspace_id, tree, progress, on_conflict, concurrency)
        run.stop(await upload.folders(parent_folder_id))
        if report.aborted is None:
            async with run.journal_writer():
                run.stop(await upload.files())
    return report


async def _create_folders(
    dirs: list[str],
    folders: FolderIndex,
    folder_ids: dict[str, str],
    concurrency: int,
    report: TransferReport,
) -> None:
    """Parents before children, the folders of one depth concurrently (for sharded runs)."""
    for _depth, level in groupby(dirs, key=lambda d: d.count("/")):

        async def ensure(rel: str) -> None:
            parent_rel, _, name = rel.rpartition("/")
            parent_id = folder_ids.get(parent_rel)
            if parent_id is None:
                return  # the parent failed; its files report the failure
            fid, created = await folders.ensure(parent_id, name)
            report.folders_created += created
            folder_ids[rel] = fid

        def failed(rel: str, exc: Exception) -> None:
            report.failures.append(TransferFailure(rel + "/", exc))

        await run_window(list(level), ensure, concurrency=concurrency, on_error=failed)


def cached_folder_limit(concurrency: int) -> int:
    """Folder listings kept while uploading: enough for every file in flight, and a few."""
    return 2 * concurrency + 8


_SKIPPED = {
    "symlink": "symbolic link not followed (links are never uploaded; copy the target "
    "into the tree to include it)",
    "special": "special file (FIFO, socket or device) not uploaded",
    "partial": "temporary file of an interrupted download (incomplete) not uploaded",
    "unreadable": "cannot be read, not uploaded",
}


class _TreeUpload:
    """State of one ``upload_tree`` run (folders first, then the window of files)."""

    def __init__(
        self,
        api: RemoteAPI,
        run: TreeRun,
        workspace_id: str,
        tree: LocalTree,
        progress: ProgressCallback | None,
        on_conflict: OnConflict,
        concurrency: int,
    ) -> None:
        self.api = api
        self.run = run
        self.report = run.report
        self.jrnl: Journal | None = run.journal
        self.workspace_id = workspace_id
        self.tree = tree
        self.on_conflict = on_conflict
        self.concurrency = concurrency
        self.dry_run = run.report.dry_run
        self.report.items_total = tree.file_count
        self.tracker = ProgressTracker(
            progress, items_total=tree.file_count, bytes_total=tree.total_bytes
        )
        self.tracker.emit("totals", "", 0, None)
        self.index = FolderIndex(api, workspace_id)
        self.docs = DocumentIndex(api, workspace_id, max_folders=cached_folder_limit(concurrency))
        self.uploader = Uploader(api)
        #: Local relative directory -> remote folder id (None: would be created, dry run).
        self.folder_ids: dict[str, str | None] = {}
        #: Local relative directory -> its remote path below the target folder.
        self.remote_dirs: dict[str, str] = {"": ""}
        self.want_sha256 = run.manifest is not None

    # -- folders -------------------------------------------------------------------------

    async def folders(self, parent_folder_id: str | None) -> Exception | None:
        """Find or create the remote folders, parents before children (one level at a time)."""
        try:
            await self.index.refresh()
            if parent_folder_id is not None:
                self.index.require("parent_folder_id", parent_folder_id)
                self.folder_ids[""] = parent_folder_id
            else:
                top = local_to_remote(self.tree.root.name or "upload")
                self.folder_ids[""] = await self._ensure(None, top, "")
        except Exception as exc:
            if is_fatal(exc):
                return exc
            raise
        for _depth, level in groupby(self.tree.dirs, key=lambda d: d.count("/")):
            fatal = await run_window(
                list(level),
                self._ensure_dir,
                # Small requests, and every file waits for them: one round trip per level.
                concurrency=FOLDER_CONCURRENCY_FACTOR * self.concurrency,
                on_error=self._dir_failed,
                is_fatal=is_fatal,
            )
            if fatal is not None:
                return fatal
        return None

    async def _ensure_dir(self, rel: str) -> None:
        parent_rel, _, name = rel.rpartition("/")
        if parent_rel not in self.folder_ids:
            return  # the parent failed; its files report the failure
        remote = local_to_remote(name)
        path = self._remote_path(parent_rel, remote)
        self.remote_dirs[rel] = path
        if remote != name:
            self.report.renamed.append((rel + "/", path + "/"))
        self.folder_ids[rel] = await self._ensure(self.folder_ids[parent_rel], remote, rel)

    def _remote_path(self, rel_dir: str, remote_name: str) -> str:
        parent = self.remote_dirs.get(rel_dir, rel_dir)
        return f"{parent}/{remote_name}" if parent else remote_name

    async def _ensure(self, parent_id: str | None, name: str, rel: str) -> str | None:
        if parent_id is None and rel != "":  # its parent does not exist yet (dry run)
            self.report.planned.append(f"create folder {rel}/")
            return None
        existing = self.index.by_key.get((parent_id, name))
        if existing is not None:
            return existing
        if self.dry_run:
            self.report.planned.append(f"create folder {rel or name}/")
            return None
        fid, created = await self.index.ensure(parent_id, name)
        self.report.folders_created += created
        if created:
            self.docs.mark_empty(fid)  # just created: nothing to list
        return fid

    def _dir_failed(self, rel: str, exc: Exception) -> None:
        self.report.failures.append(TransferFailure(rel + "/", exc))

    # -- files ---------------------------------------------------------------------------

    async def _produce(self, send: BatchSink[_Work]) -> None:
        """Entries with their journal rows and, for small files to send, their content
        (both fetched per walk batch, in one worker-thread hop)."""
        async for batch in iter_batches(self.tree):
            entries, loaded = await run_short(partial(self._prepare, batch))
            await send.send([(i, entries.get(i.key), loaded.get(i.key)) for i in batch])

    def _prepare(
        self, batch: list[LocalFile]
    ) -> tuple[dict[str, JournalEntry], dict[str, LoadedFile]]:
        """The batch's journal entries, and its small files' content read ahead (blocking)."""
        jrnl = self.jrnl
        files = [item for item in batch if item.kind == "file"]
        entries: dict[str, JournalEntry] = {}
        if jrnl is not None and jrnl.had_entries:
            entries = jrnl.get_many([item.key for item in files])
        if self.dry_run:
            return entries, {}
        wanted = [
            item
            for item in files
            if item.size <= SMALL_FILE and not _already_done(item, entries.get(item.key))
        ]
        contents = read_ahead(
            [(item.path, item.size) for item in wanted],
            sha256=self.want_sha256,
            budget=READ_AHEAD_BYTES,
        )
        return entries, {
            item.key: got for item, got in zip(wanted, contents, strict=True) if got is not None
        }

    async def files(self) -> Exception | None:
        """Upload every entry through the window; returns the fatal failure, if any.

        The next walk batch is read while the window sends the current one.
        """
        return await run_fed_window(
            self._produce,
            self._one,
            concurrency=self.concurrency,
            buffer=READ_AHEAD_BATCHES,
            on_error=self._failed,
            is_fatal=is_fatal,
        )

    def _failed(self, work: _Work, exc: Exception) -> None:
        item = work[0]
        self.report.failures.append(TransferFailure(item.key, exc))
        if self.jrnl is not None and item.kind == "file":
            self.jrnl.failed(item.key, f"{type(exc).__name__}: {exc}")

    async def _one(self, work: _Work) -> None:
        item, entry, loaded = work
        prog = self.tracker.item(item.key, item.size)
        started = utc_now() if self.run.manifest is not None else None
        try:
            outcome = await self._upload(item, entry, loaded, prog)
        except Exception as exc:
            prog.fail()
            if self.run.manifest is not None:
                result = "conflict" if isinstance(exc, RemoteConflictError) else "failed"
                await self._record(item, started, result, error=f"{type(exc).__name__}: {exc}")
            raise
        except BaseException:
            prog.fail()
            raise
        if self.run.manifest is not None:
            await self._record(item, started, *outcome)

    async def _record(
        self,
        item: LocalFile,
        started: str | None,
        result: str,
        doc: Any = None,
        sha256: str | None = None,
        *,
        error: str | None = None,
    ) -> None:
        remote_name = local_to_remote(item.name) if item.kind == "file" else item.name
        await self.run.record(
            local_path=item.key,
            remote_path=self._remote_path(item.rel_dir, remote_name),
            result=result,
            remote_id=None if doc is None else opt_str(doc.id),
            size=item.size if item.kind == "file" else None,
            sha256=sha256,
            server_hash=None if doc is None else doc_hash(doc),
            renamed_from=item.name if remote_name != item.name else None,
            started_at=started,
            ended_at=utc_now(),
            error=error,
        )

    async def _upload(
        self, item: LocalFile, entry: JournalEntry | None, loaded: LoadedFile | None, prog: Any
    ) -> tuple[str, Any, str | None]:
        """Upload (or skip) one entry; returns (manifest result, document, SHA-256)."""
        report = self.report
        if item.kind != "file":
            detail = f": {item.error}" if item.error else ""
            raise SkippedEntryError(_SKIPPED[item.kind] + detail)
        jrnl = self.jrnl
        if jrnl is not None:
            jrnl.check()
        if _already_done(item, entry):
            prog.skip()
            report.skipped += 1
            return "skipped", None, None
        if item.rel_dir not in self.folder_ids:
            raise TransferError(f"folder {item.rel_dir!r} could not be created")
        folder_id = self.folder_ids[item.rel_dir]
        remote_name = local_to_remote(item.name)
        if remote_name != item.name:
            report.renamed.append((item.key, self._remote_path(item.rel_dir, remote_name)))
        same = [] if folder_id is None else await self.docs.same_name(folder_id, remote_name)
        if same:
            found = await self._already_there(item, same, loaded)
            if found is not None:
                doc, sha1 = found
                if jrnl is not None:
                    jrnl.done(item.key, remote_id=opt_str(doc.id), size=item.size, sha1=sha1)
                prog.skip()
                report.skipped += 1
                return "skipped", doc, None
            if self.on_conflict != "new_version":
                raise RemoteConflictError(
                    f"a different document named {remote_name!r} (other size or content) "
                    "already exists in the folder; not uploaded (on_conflict="
                    f"{self.on_conflict!r}; use 'new_version' to upload it alongside)"
                )
        if self.dry_run or folder_id is None:
            report.planned.append(f"upload {display_name(item.key)} ({item.size} bytes)")
            report.succeeded += 1
            prog.skip()
            return "planned", None, None
        if jrnl is not None:
            jrnl.plan(item.key, size=item.size)
        outcome = await self.uploader.upload(
            self.workspace_id,
            folder_id,
            item.path,
            name=remote_name,
            size=item.size,
            progress=prog,
            existing_ids=[i for d in same if (i := opt_str(d.id)) is not None],
            regular_file=True,
            sha256=self.want_sha256,
            loaded=loaded,
        )
        if jrnl is not None:
            jrnl.done(
                item.key,
                remote_id=opt_str(outcome.document.id),
                size=outcome.size,
                sha1=outcome.sha1,
            )
        self.docs.add(folder_id, outcome.document)
        report.bytes_transferred += outcome.size
        if outcome.adopted:
            report.adopted += 1
        else:
            report.succeeded += 1
        prog.finish()
        return ("adopted" if outcome.adopted else "uploaded"), outcome.document, outcome.sha256

    async def _already_there(
        self, item: LocalFile, same: list[Any], loaded: LoadedFile | None
    ) -> tuple[Any, str] | None:
        """The same-name remote document that already holds this file's content, if any.

        Its size must match, and its ``fileHash`` (SHA-1) too when the server gives one.
        """
        sized = [d for d in same if doc_size(d) == item.size]
        if not sized:
            return None
        if loaded is not None and len(loaded.data) == item.size:
            sha1 = loaded.hashes.sha1_b64()
        else:
            _size, sha1 = await hash_file(item.path)
        for doc in sized:
            if doc_hash(doc) in (None, sha1):
                return doc, sha1
        return None


def _already_done(item: LocalFile, entry: JournalEntry | None) -> bool:
    """The journal records ``item`` as sent, at its current size (a file whose size
    changed since goes through ``on_conflict``)."""
    return entry is not None and entry.state == "done" and entry.size == item.size
