"""``intralinks-async upload | download | ls | demo``.

Credentials and base URL come from flags or the environment: ``INTRALINKS_BASE_URL``,
``INTRALINKS_CLIENT_ID``, ``INTRALINKS_CLIENT_SECRET`` or ``INTRALINKS_ACCESS_TOKEN``
(prefer the environment for secrets: flags are visible in the process list).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import anyio

__all__ = ["add_parser"]

_EXIT_INTERRUPTED = 130


def _common(parser: argparse.ArgumentParser, *, remote: bool = True) -> None:
    if remote:
        parser.add_argument(
            "--base-url",
            default=os.environ.get("INTRALINKS_BASE_URL", "https://api.intralinks.com/v2"),
            help="API base URL (env INTRALINKS_BASE_URL)",
        )
        parser.add_argument(
            "--client-id",
            default=os.environ.get("INTRALINKS_CLIENT_ID"),
            help="OAuth client id (env INTRALINKS_CLIENT_ID)",
        )
        parser.add_argument(
            "--client-secret",
            default=os.environ.get("INTRALINKS_CLIENT_SECRET"),
            help="OAuth client secret (env INTRALINKS_CLIENT_SECRET; prefer the environment)",
        )
        parser.add_argument(
            "--access-token",
            default=os.environ.get("INTRALINKS_ACCESS_TOKEN"),
            help="a bearer token instead of client credentials (env INTRALINKS_ACCESS_TOKEN)",
        )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or tables")
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")


def add_parser(subparsers: Any) -> None:
    """Register the ``upload``, ``download``, ``ls`` and ``demo`` subcommands."""
    up = subparsers.add_parser(
        "upload",
        help="upload a file or migrate a directory tree into a workspace",
        description="Upload a file (needs --folder) or a whole directory tree, resumably.",
    )
    up.add_argument("source", type=Path, help="local file or directory")
    up.add_argument("workspace", help="workspace id")
    up.add_argument("--folder", help="target folder id (a tree goes under it)")
    up.add_argument("--journal", type=Path, help="SQLite journal making the migration resumable")
    up.add_argument("--concurrency", type=int, default=16, help="files in flight (default 16)")
    up.add_argument(
        "--on-conflict",
        choices=["skip", "new_version", "error"],
        default="skip",
        help="what a same-name document gets (default skip)",
    )
    up.add_argument("--name", help="document name for a single file (default: file name)")
    up.add_argument("--note", help="document note for a single file")
    _common(up)
    up.set_defaults(handler=_run_upload)

    down = subparsers.add_parser(
        "download",
        help="download a document or mirror a workspace",
        description="Download one document (--document) or mirror a workspace or folder.",
    )
    down.add_argument("workspace", help="workspace id")
    down.add_argument("dest", type=Path, help="destination directory (or file for --document)")
    down.add_argument("--document", help="download this document only")
    down.add_argument("--folder", help="mirror this folder only")
    down.add_argument("--journal", type=Path, help="SQLite journal making the mirror resumable")
    down.add_argument("--concurrency", type=int, default=16, help="files in flight (default 16)")
    down.add_argument(
        "--chunk-size", type=int, default=8 * 1024 * 1024, help="bytes per ranged request"
    )
    down.add_argument(
        "--chunk-concurrency", type=int, default=8, help="ranged requests per file (default 8)"
    )
    _common(down)
    down.set_defaults(handler=_run_download)

    ls = subparsers.add_parser("ls", help="list workspaces, or a workspace's folders and documents")
    ls.add_argument("workspace", nargs="?", help="workspace id (omit to list workspaces)")
    _common(ls)
    ls.set_defaults(handler=_run_ls)

    demo = subparsers.add_parser(
        "demo",
        help="migrate a generated data room to a local emulator and back, verified",
        description=(
            "Start the emulator on loopback, generate a sample data room, upload it, "
            "mirror it back, verify every SHA-256 and print a summary."
        ),
    )
    demo.add_argument("--files", type=int, default=300, help="number of files (default 300)")
    demo.add_argument(
        "--fault-rate",
        type=float,
        default=0.05,
        help="share of requests the emulator fails, to show retries (default 0.05)",
    )
    demo.add_argument("--concurrency", type=int, default=16, help="files in flight (default 16)")
    demo.add_argument("--seed", type=int, default=2026, help="data and fault seed")
    demo.add_argument("--keep", action="store_true", help="keep the working directory")
    _common(demo, remote=False)
    demo.set_defaults(handler=_run_demo)


# -- plumbing ------------------------------------------------------------------------------


def _console(stderr: bool = True) -> Any:
    from rich.console import Console

    return Console(stderr=stderr)


def _client(args: argparse.Namespace) -> Any:
    from intralinks_async import IntralinksClient

    if args.access_token:
        return IntralinksClient(args.base_url, access_token=args.access_token)
    if not (args.client_id and args.client_secret):
        raise SystemExit(
            "credentials needed: --client-id/--client-secret (or INTRALINKS_CLIENT_ID/"
            "INTRALINKS_CLIENT_SECRET), or --access-token (INTRALINKS_ACCESS_TOKEN)"
        )
    return IntralinksClient(
        args.base_url, client_id=args.client_id, client_secret=args.client_secret
    )


def _run(args: argparse.Namespace, main: Callable[[], Awaitable[int]]) -> int:
    from intralinks_async.errors import IntralinksError

    try:
        return anyio.run(main)
    except KeyboardInterrupt:
        hint = (
            " (rerun with the same --journal to resume)" if getattr(args, "journal", None) else ""
        )
        print(f"interrupted{hint}", file=sys.stderr)
        return _EXIT_INTERRUPTED
    except (IntralinksError, OSError, ValueError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _bars(args: argparse.Namespace, title: str) -> Any:
    if args.quiet or args.json:
        return None
    from intralinks_async.transfers._ui import ProgressBars

    return ProgressBars(_console(), title)


def _show(
    args: argparse.Namespace, reports: list[Any], extra: dict[str, Any] | None = None
) -> None:
    if args.json:
        payload: dict[str, Any] = {r.operation: r.to_dict() for r in reports}
        payload.update(extra or {})
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if args.quiet:
        return
    from intralinks_async.transfers._ui import failures_table, report_table

    console = _console(stderr=False)
    console.print(report_table(reports))
    table = failures_table(reports)
    if table is not None:
        console.print(table)


def _managed(bars: Any) -> AbstractContextManager[Any]:
    return bars if bars is not None else nullcontext()


# -- upload / download / ls ------------------------------------------------------------------


def _run_upload(args: argparse.Namespace) -> int:
    from intralinks_async.transfers._api import doc_size, opt_str

    async def main() -> int:
        bars = _bars(args, "upload")
        async with _client(args) as client:
            if args.source.is_file():
                if not args.folder:
                    raise SystemExit("uploading a single file needs --folder")
                with _managed(bars):
                    doc = await client.transfers.upload_file(
                        args.workspace,
                        args.folder,
                        args.source,
                        name=args.name,
                        note=args.note,
                        progress=bars,
                    )
                if args.json:
                    print(
                        json.dumps(
                            {
                                "id": opt_str(doc.id),
                                "name": opt_str(doc.name),
                                "fileSize": doc_size(doc),
                            }
                        )
                    )
                elif not args.quiet:
                    print(f"uploaded {doc.name} as document {doc.id}")
                return 0
            with _managed(bars):
                report = await client.transfers.upload_tree(
                    args.source,
                    args.workspace,
                    parent_folder_id=args.folder,
                    concurrency=args.concurrency,
                    journal=args.journal,
                    progress=bars,
                    on_conflict=args.on_conflict,
                )
        _show(args, [report])
        return 0 if report.ok else 1

    return _run(args, main)


def _run_download(args: argparse.Namespace) -> int:
    async def main() -> int:
        bars = _bars(args, "download")
        async with _client(args) as client:
            if args.document:
                with _managed(bars):
                    result = await client.transfers.download_file(
                        args.workspace,
                        args.document,
                        args.dest,
                        chunk_size=args.chunk_size,
                        concurrency=args.chunk_concurrency,
                        progress=bars,
                    )
                if args.json:
                    print(
                        json.dumps(
                            {
                                "path": str(result.path),
                                "size": result.size,
                                "sha1": result.sha1,
                                "ranged": result.ranged,
                            }
                        )
                    )
                elif not args.quiet:
                    print(f"downloaded {result.size} bytes to {result.path}")
                return 0
            with _managed(bars):
                report = await client.transfers.download_tree(
                    args.workspace,
                    args.dest,
                    folder_id=args.folder,
                    concurrency=args.concurrency,
                    chunk_concurrency=args.chunk_concurrency,
                    chunk_size=args.chunk_size,
                    journal=args.journal,
                    progress=bars,
                )
        _show(args, [report])
        return 0 if report.ok else 1

    return _run(args, main)


def _run_ls(args: argparse.Namespace) -> int:
    from intralinks_async.transfers._api import doc_size, opt_str

    async def main() -> int:
        async with _client(args) as client:
            if not args.workspace:
                rows = [
                    {"id": w.id, "name": opt_str(w.name), "type": opt_str(w.type_)}
                    async for w in client.workspaces.list(page_size=100)
                ]
            else:
                folders = await client.folders.list(args.workspace)
                by_id = {f.id: f for f in folders}

                def path_of(fid: str | None) -> str:
                    parts: list[str] = []
                    seen: set[str] = set()
                    while fid is not None and fid in by_id and fid not in seen:
                        seen.add(fid)
                        parts.append(opt_str(by_id[fid].name) or "?")
                        fid = opt_str(by_id[fid].parent_id)
                    return "/".join(reversed(parts))

                rows = []
                for folder in sorted(folders, key=lambda f: path_of(f.id)):
                    rows.append({"id": folder.id, "path": path_of(folder.id) + "/", "size": None})
                    for doc in await client.documents.list(args.workspace, folder_id=folder.id):
                        rows.append(
                            {
                                "id": doc.id,
                                "path": f"{path_of(folder.id)}/{opt_str(doc.name)}",
                                "size": doc_size(doc),
                            }
                        )
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return 0
        from rich.table import Table

        table = Table()
        for key in rows[0] if rows else ["id"]:
            table.add_column(key)
        for row in rows:
            table.add_row(*["" if v is None else str(v) for v in row.values()])
        _console(stderr=False).print(table)
        return 0

    return _run(args, main)


# -- demo -------------------------------------------------------------------------------------


def _run_demo(args: argparse.Namespace) -> int:
    from intralinks_async.transfers.demo import run_demo

    async def main() -> int:
        console = _console()
        if not (args.quiet or args.json):
            console.print(
                f"[bold]intralinks-async demo[/]: {args.files} files, fault rate "
                f"{args.fault_rate:.0%}, concurrency {args.concurrency}"
            )
        up_bars = _bars(args, "upload  ")
        down_bars = _bars(args, "download")

        def up_progress(event: Any) -> None:
            if up_bars is not None:
                up_bars(event)

        def down_progress(event: Any) -> None:
            if down_bars is not None:
                down_bars(event)

        # One live display at a time: the upload bars end before the download starts.
        with _managed(up_bars), _Deferred(down_bars) as deferred:
            result = await run_demo(
                files=args.files,
                fault_rate=args.fault_rate,
                concurrency=args.concurrency,
                seed=args.seed,
                keep=args.keep,
                upload_progress=up_progress,
                download_progress=deferred.wrap(down_progress, before=up_bars),
            )
        if args.json:
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        elif not args.quiet:
            _print_demo(result)
        return 0 if result.ok else 1

    return _run(args, main)


class _Deferred:
    """Starts ``bars`` on the first event (stopping ``before``'s display first)."""

    def __init__(self, bars: Any) -> None:
        self.bars = bars
        self.started = False

    def wrap(self, callback: Callable[[Any], None], *, before: Any) -> Callable[[Any], None]:
        def call(event: Any) -> None:
            if self.bars is not None and not self.started:
                if before is not None:
                    before.__exit__(None, None, None)
                self.bars.__enter__()
                self.started = True
            callback(event)

        return call

    def __enter__(self) -> _Deferred:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started and self.bars is not None:
            self.bars.__exit__(None, None, None)


def _print_demo(result: Any) -> None:
    from rich.table import Table

    from intralinks_async.transfers._ui import failures_table, report_table

    console = _console(stderr=False)
    console.print(report_table([result.upload, result.download], title="Migration"))
    table = Table(title="Verification", show_header=False)
    table.add_column("check")
    table.add_column("result")
    mark = "[green]OK[/]" if result.ok else "[red]FAILED[/]"
    table.add_row("files generated", f"{result.files} ({result.bytes / 1e6:,.1f} MB)")
    table.add_row("SHA-256 identical", f"{result.identical}/{result.files}")
    table.add_row("documents on server", f"{result.server_documents} (expected {result.files})")
    table.add_row("retries", str(result.upload.retries + result.download.retries))
    table.add_row("failures", str(result.upload.failed + result.download.failed))
    table.add_row("total elapsed", f"{result.elapsed:.1f} s")
    table.add_row("result", mark)
    console.print(table)
    failures = failures_table([result.upload, result.download])
    if failures is not None:
        console.print(failures)
    for problem in result.problems[:20]:
        console.print(f"[red]{problem}[/]", markup=True, highlight=False)
    if result.workdir and Path(result.workdir).exists():
        console.print(f"kept working directory: {result.workdir}")
