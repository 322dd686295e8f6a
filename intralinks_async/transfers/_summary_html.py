"""A human-readable HTML summary of a migration or a verification (for sign-off).

Rendered with rich's HTML export when rich is installed, else as a plain table. Every
name and message is escaped: a document called ``<script>`` shows as text.
"""

from __future__ import annotations

import html
import importlib.util
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intralinks_async.transfers.manifest import ManifestRecord

__all__ = ["render_summary"]

#: Results that need no attention; every other record is listed under "Attention".
_FINE = frozenset({"uploaded", "downloaded", "adopted", "skipped", "same"})
_COLUMNS = ("result", "local_path", "remote_path", "size", "sha256", "renamed_from", "error")


def _cells(record: ManifestRecord) -> list[str]:
    values = record.to_dict()
    return ["" if values[c] is None else str(values[c]) for c in _COLUMNS]


def _collect(
    records: Iterable[ManifestRecord], max_rows: int
) -> tuple[Counter[str], list[list[str]], list[list[str]], int]:
    counts: Counter[str] = Counter()
    attention: list[list[str]] = []
    rows: list[list[str]] = []
    total = 0
    for record in records:
        total += 1
        counts[record.result] += 1
        if (record.result not in _FINE or record.renamed_from) and len(attention) < max_rows:
            attention.append(_cells(record))
        if len(rows) < max_rows:
            rows.append(_cells(record))
    return counts, attention, rows, total


def _plain_table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _plain(title: str, sections: list[tuple[str, list[str], list[list[str]], str]]) -> str:
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif}}",
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #999;",
        "padding:2px 6px;text-align:left;font-size:90%}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, headers, rows, note in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append(_plain_table(headers, rows))
        if note:
            parts.append(f"<p>{html.escape(note)}</p>")
    parts.append("</body></html>")
    return "".join(parts)


def _rich(title: str, sections: list[tuple[str, list[str], list[list[str]], str]]) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(record=True, file=io.StringIO(), width=200, color_system="truecolor")
    console.print(Text(title, style="bold"))
    for heading, headers, rows, note in sections:
        table = Table(title=Text(heading), show_lines=False)
        for header in headers:
            table.add_column(Text(header), overflow="fold")
        for row in rows:
            table.add_row(*(Text(v) for v in row))  # Text: never parsed as markup
        console.print(table)
        if note:
            console.print(Text(note))
    safe_title = html.escape(title).replace("{", "&#123;").replace("}", "&#125;")
    template = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{safe_title}</title><style>{{stylesheet}}"
        "body{{color:{foreground};background-color:{background}}}</style></head>"
        "<body><pre style='font-family:Menlo,\"DejaVu Sans Mono\",monospace'>"
        "<code>{code}</code></pre></body></html>"
    )
    return console.export_html(code_format=template, inline_styles=True)


def render_summary(
    *,
    title: str,
    summary: Mapping[str, Any],
    records: Iterable[ManifestRecord],
    max_rows: int,
    use_rich: bool | None,
) -> str:
    """The HTML page of :func:`intralinks_async.transfers.manifest.write_html_summary`."""
    counts, attention, rows, total = _collect(records, max_rows)
    headers = list(_COLUMNS)
    more = f"{total - len(rows)} more records in the manifest." if total > len(rows) else ""
    sections = [
        ("Summary", ["item", "value"], [[str(k), str(v)] for k, v in summary.items()], ""),
        ("Results", ["result", "items"], [[k, str(v)] for k, v in sorted(counts.items())], ""),
        ("Attention", headers, attention, "" if attention else "Nothing needs attention."),
        ("Items", headers, rows, more),
    ]
    rich = importlib.util.find_spec("rich") is not None if use_rich is None else use_rich
    return _rich(title, sections) if rich else _plain(title, sections)
