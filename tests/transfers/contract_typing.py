"""Type-level check (run by ``mypy --strict tests/transfers``, not by pytest).

The public API contract lines for ``client.transfers`` must type-check as written, with
ids taken straight from generated models (typed ``str | Unset``).
"""

from __future__ import annotations

from contextlib import aclosing

from intralinks_async import IntralinksClient
from intralinks_async.models import Document, Folder, Workspace
from intralinks_async.transfers import DownloadResult, TransferReport


async def contract(client: IntralinksClient, ws: Workspace, f: Folder) -> None:
    """The contract's calls (never run)."""
    doc: Document = await client.transfers.upload_file(ws.id, f.id, "report.pdf", note="Q3")
    got: DownloadResult = await client.transfers.download_file(ws.id, doc.id, "copy.pdf")
    report: TransferReport = await client.transfers.upload_tree(
        "./dataroom", ws.id, concurrency=32, journal="migration.db"
    )
    report = await client.transfers.download_tree(ws.id, "./mirror", concurrency=32)
    async with aclosing(client.transfers.iter_document_bytes(ws.id, doc.id)) as chunks:
        async for chunk in chunks:
            assert isinstance(chunk, bytes)
    print(got, report)
