"""Run nginx on a free loopback port with a generated config (benchmark helper).

    from bench._nginx import Nginx, Location

    with Nginx(root, locations=[Location("/slow/", limit_rate="16m")]) as server:
        url = server.url("/workspaces/ws-1")

nginx is installed with ``apt-get install nginx-light`` when missing (needs root). The
config lives in a temporary directory: one worker (or ``auto``), ``access_log off``,
sendfile, keep-alive with unlimited requests per connection; static files are served from
``root`` with Range support (nginx's default); a :class:`Location` can set
``limit_rate``, a ``default_type`` and extra raw directives.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

__all__ = ["Location", "Nginx", "ensure_nginx", "free_port"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_nginx() -> str:
    """Path of the nginx binary, installing it with apt-get if needed."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )
    if found:
        return found
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "nginx-light"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
        result = subprocess.run(install, env=env, capture_output=True)
        if result.returncode != 0:
            result = subprocess.run(
                ["apt-get", "install", "-y", "-q", "nginx"], env=env, capture_output=True
            )
            result.check_returncode()
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(found):
        raise RuntimeError("nginx could not be installed")
    return found


@dataclass
class Location:
    """A ``location`` block: URL prefix, optional rate limit / MIME type / raw directives."""

    path: str
    limit_rate: str | None = None
    default_type: str | None = None
    directives: Sequence[str] = field(default_factory=tuple)

    def render(self) -> str:
        lines = [f"        location {self.path} {{"]
        if self.default_type:
            lines.append(f"            default_type {self.default_type};")
        if self.limit_rate:
            lines.append(f"            limit_rate {self.limit_rate};")
        lines.extend(f"            {d.rstrip(';')};" for d in self.directives)
        lines.append("        }")
        return "\n".join(lines)


class Nginx:
    """An nginx process serving ``root`` on ``127.0.0.1:<free port>`` until stopped."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        locations: Sequence[Location] = (),
        worker_processes: int | str = 1,
        port: int | None = None,
        default_type: str = "application/octet-stream",
    ) -> None:
        self.root = Path(root).resolve()
        self.locations = list(locations)
        self.worker_processes = worker_processes
        self.port = port or free_port()
        self.default_type = default_type
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _config(self, workdir: Path) -> str:
        user = "user root;\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
        temp = "\n".join(
            f"    {name}_temp_path {workdir / name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        locations = "\n".join(loc.render() for loc in self.locations)
        return f"""{user}worker_processes {self.worker_processes};
pid {workdir / "nginx.pid"};
error_log {workdir / "error.log"} warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120;
    keepalive_requests 100000000;
    types {{ application/json json; }}
    default_type {self.default_type};
{temp}
    server {{
        listen 127.0.0.1:{self.port};
        root {self.root};
{locations}
    }}
}}
"""

    def start(self) -> Nginx:
        binary = ensure_nginx()
        self._dir = tempfile.TemporaryDirectory(prefix="bench-nginx-")
        workdir = Path(self._dir.name)
        conf = workdir / "nginx.conf"
        conf.write_text(self._config(workdir))
        self._proc = subprocess.Popen(
            [binary, "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode() if self._proc.stderr else ""
                raise RuntimeError(f"nginx exited: {err}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
