"""Parts of the distributed package that need no cluster: credentials, sharding, progress."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")

from dask_helpers import SECRET

from intralinks_async.distributed import (
    Credentials,
    SharedStorageError,
    UnsupportedCredentialsError,
    upload_tree,
)
from intralinks_async.distributed._common import _raise_problems
from intralinks_async.distributed._progress import ClusterProgress
from intralinks_async.distributed._shards import FileResult, shard_stream
from intralinks_async.distributed._worker import (
    check_destination,
    check_source,
    dir_signature,
)

ROOT = Path(__file__).resolve().parents[2]


def test_credentials_are_masked_but_pickle_with_their_secret() -> None:
    creds = Credentials.create(base_url="http://127.0.0.1:1", client_id="id", client_secret=SECRET)
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}", repr([creds])):
        assert SECRET not in text
    assert SECRET not in creds.fingerprint
    back = pickle.loads(pickle.dumps(creds))
    assert back.client_secret == SECRET and back.fingerprint == creds.fingerprint
    token = Credentials.create(access_token=SECRET)
    assert SECRET not in repr(token) and "access_token" in repr(token)


def test_rotating_refresh_tokens_and_missing_credentials_are_refused() -> None:
    with pytest.raises(UnsupportedCredentialsError, match="refresh tokens rotate"):
        Credentials.create(client_id="id", client_secret="s", refresh_token=SECRET)
    with pytest.raises(UnsupportedCredentialsError):
        Credentials.create(client_id="id")
    with pytest.raises(UnsupportedCredentialsError):
        Credentials.create(client_id="id", client_secret="s", access_token="t")
    with pytest.raises(ValueError, match="auth"):
        Credentials.create(client_id="id", client_secret="s", client_options={"auth": None})


async def test_upload_tree_refuses_a_refresh_token_before_touching_a_cluster(
    tmp_path: Path,
) -> None:
    with pytest.raises(UnsupportedCredentialsError) as info:
        await upload_tree(
            tmp_path, "ws", dask="tcp://127.0.0.1:1", client_id="id", client_secret="s",
            refresh_token=SECRET,
        )  # fmt: skip
    assert SECRET not in str(info.value)


async def _collect(items: list[int], **limits: int) -> list[list[int]]:
    async def gen() -> Any:
        for item in items:
            yield item

    return [batch async for batch in shard_stream(gen(), lambda n: n, **limits)]


async def test_shards_split_by_count_and_by_bytes() -> None:
    assert await _collect([1] * 7, max_files=3, max_bytes=100) == [[1] * 3, [1] * 3, [1]]
    assert await _collect([40, 40, 40, 500, 10], max_files=10, max_bytes=100) == [
        [40, 40],
        [40],
        [500],
        [10],
    ]
    assert await _collect([], max_files=3, max_bytes=10) == []


def test_progress_replaces_a_lost_attempt_and_ignores_late_messages() -> None:
    events: list[Any] = []
    progress = ClusterProgress(events.append)
    progress.add_totals(items=4, nbytes=400)

    def msg(attempt: str, seq: int, nbytes: int, items: int) -> tuple[float, dict[str, Any]]:
        return (0.0, {"shard": 1, "attempt": attempt, "seq": seq, "bytes": nbytes, "items": items})

    progress.on_event(msg("a", 1, 150, 1))
    progress.on_event(msg("a", 3, 250, 2))
    progress.on_event(msg("a", 2, 200, 1))  # out of date
    assert (events[-1].bytes_done, events[-1].items_done) == (250, 2)
    progress.on_event(msg("b", 1, 100, 1))  # the rerun after a worker died
    assert (events[-1].bytes_done, events[-1].items_done) == (100, 1)
    results = [FileResult(f"f{i}", "succeeded", 100) for i in range(3)]
    progress.shard_done(1, [*results, FileResult("f3", "failed", 100, error="x")])
    progress.on_event(msg("b", 9, 400, 4))  # late: the shard is settled
    assert (events[-1].bytes_done, events[-1].items_done) == (300, 4)
    assert [e.kind for e in events[-4:]] == ["finished"] * 3 + ["failed"]


def test_storage_checks_name_the_worker_and_the_path(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    signature = dir_signature(os.fspath(tmp_path))
    assert signature is not None
    assert check_source(os.fspath(tmp_path), signature) is None
    assert "other entries" in (check_source(os.fspath(tmp_path), "0" * 64) or "")
    assert "does not exist" in (check_source(os.fspath(tmp_path / "missing"), signature) or "")
    (tmp_path / "probe").write_text("token")
    assert check_destination(os.fspath(tmp_path), "probe", "token") is None
    assert "probe file differs" in (check_destination(os.fspath(tmp_path), "probe", "t2") or "")
    with pytest.raises(SharedStorageError) as info:
        _raise_problems({"tcp://10.0.0.9:4000": "does not exist", "tcp://ok:1": None}, "/data")
    assert (info.value.worker, info.value.path) == ("tcp://10.0.0.9:4000", "/data")
    assert "tcp://10.0.0.9:4000" in str(info.value) and "'/data'" in str(info.value)
    again = pickle.loads(pickle.dumps(info.value))
    assert (again.worker, again.path) == (info.value.worker, info.value.path)


def test_missing_extra_gives_the_install_hint() -> None:
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "try:\n    import intralinks_async.distributed\n"
        "except ImportError as exc:\n    print(exc); sys.exit(3)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.fspath(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 3, proc.stderr
    assert "pip install 'intralinks-async[distributed]'" in proc.stdout
