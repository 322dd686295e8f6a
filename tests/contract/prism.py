"""Start Stoplight Prism (``prism mock`` / ``prism proxy``) on loopback for the contract tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "intralinks-api-openapi.yml"
#: Where ``.ci/run`` installs the pinned Prism (``npm install --prefix .ci/node``).
LOCAL_BIN = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "prism"
PRISM_VERSION = "5.14.2"
INSTALL_HINT = f"npm install --prefix .ci/node @stoplight/prism-cli@{PRISM_VERSION}"
#: Readiness wait (not an assertion on speed): Prism parses the spec before listening.
STARTUP_SECONDS = 120.0


def prism_binary() -> str:
    """The prism executable: ``$PRISM_BIN``, the repo's .ci/node install, or PATH.

    Skips when absent, except when ``CI_REQUIRE_PRISM=1`` (set by .ci/run): then it fails.
    """
    candidates = [os.environ.get("PRISM_BIN"), str(LOCAL_BIN), shutil.which("prism")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    reason = f"the prism binary is not installed (install it with: {INSTALL_HINT})"
    if os.environ.get("CI_REQUIRE_PRISM") == "1":
        pytest.fail(f"CI_REQUIRE_PRISM=1 but {reason}")
    pytest.skip(reason)


def spec_operation_ids(spec: Path = SPEC) -> set[str]:
    """Every operationId of the spec."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in methods
    }


def declared_statuses(spec: Path = SPEC) -> list[tuple[str, re.Pattern[str], str, set[str]]]:
    """(method, path regex, operationId, documented status codes) for every operation."""
    document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    out = []
    for template, item in document["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$")
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                codes = {str(code) for code in op["responses"]}
                out.append((method.upper(), pattern, op["operationId"], codes))
    return out


def unexpected_violations(
    method: str, path: str, status: int, found: list[dict[str, Any]], spec: Path = SPEC
) -> list[dict[str, Any]]:
    """The violations that count: all of them, except on an error status the operation does
    not document, where Prism's "unable to match the returned status code" is expected."""
    documented: set[str] | None = None
    for op_method, pattern, _, codes in declared_statuses(spec):
        if op_method == method and pattern.match(path):
            documented = codes
    if documented is None:
        return [{"message": f"no operation of the spec matches {method} {path}"}]
    if status < 400 or str(status) in documented or f"{str(status)[0]}XX" in documented:
        return found
    return [v for v in found if "Unable to match the returned status code" not in v["message"]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def run_prism(*args: str, spec: Path = SPEC) -> Iterator[str]:
    """Run ``prism <command> <spec> ...`` on a free loopback port; yield its base URL."""
    binary = prism_binary()
    port = free_port()
    command, *rest = args
    proc = subprocess.Popen(
        [binary, command, str(spec), *rest, "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    )
    ready = threading.Event()
    output: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # keep draining so Prism never blocks on a full pipe
            output.append(line)
            if "Prism is listening" in line:
                ready.set()
        ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        ready.wait(STARTUP_SECONDS)
        if proc.poll() is not None or not any("Prism is listening" in x for x in output):
            raise RuntimeError("prism did not start:\n" + "".join(output[-40:]))
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        reader.join(10)


def violations(headers: Any) -> list[dict[str, Any]]:
    """The ``sl-violations`` Prism put on a response (a JSON list), or []."""
    raw = headers.get("sl-violations")
    if not raw:
        return []
    parsed: list[dict[str, Any]] = json.loads(raw)
    return parsed
