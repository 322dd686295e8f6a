"""Helpers shared by the codegen tests."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi" / "intralinks-api-openapi.yml"
GENERATED = ROOT / "intralinks_async" / "_generated"

T = TypeVar("T")


def load_spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def spec_operation_ids() -> set[str]:
    spec = load_spec()
    return {
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch", "head", "options"}
    }


async def collect(iterator: Any) -> list[Any]:
    return [item async for item in iterator]


async def read_chunks(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


def parse_multipart(
    content_type: str, body: bytes
) -> dict[str, tuple[str | None, str | None, bytes]]:
    """Parse a multipart/form-data body into {name: (filename, content_type, data)}."""
    raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert message.is_multipart()
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True)
        ctype = part["Content-Type"]
        parts[str(name)] = (part.get_filename(), str(ctype) if ctype else None, data)
    return parts


def render(spec: Path, out_dir: Path) -> None:
    """Run the pinned generator with the project's templates and config into ``out_dir``."""
    import os
    import subprocess
    import sys

    venv_bin = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(
        [
            str(venv_bin / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--config",
            str(ROOT / "codegen-config.yml"),
            "--custom-template-path",
            str(ROOT / "generator-templates"),
            "--output-path",
            str(out_dir),
            "--fail-on-warning",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and ".ruff_cache" not in p.parts
    }
