"""Tree migrations sharded over a Dask cluster (the ``distributed`` extra).

:func:`upload_tree` and :func:`download_tree` run the same migrations as
``client.transfers.upload_tree`` / ``download_tree``, with the files moved by the worker
processes of a Dask cluster: pass ``dask=`` a ``distributed.Client``, a scheduler address
(``"tls://scheduler:8786"``) or a number of local worker processes to start. They return
the same :class:`~intralinks_async.transfers.TransferReport`.

Importing this package without Dask raises :class:`MissingExtraError` (an ``ImportError``)
whose message says ``pip install 'intralinks-async[distributed]'``.
"""

from __future__ import annotations

from intralinks_async.distributed._extra import INSTALL_HINT, MissingExtraError, require_dask

require_dask()

from intralinks_async.distributed._shards import (  # noqa: E402
    DEFAULT_SHARD_BYTES,
    DEFAULT_SHARD_FILES,
)
from intralinks_async.distributed.credentials import Credentials  # noqa: E402
from intralinks_async.distributed.download import download_tree  # noqa: E402
from intralinks_async.distributed.errors import (  # noqa: E402
    DistributedError,
    ShardLostError,
    SharedStorageError,
    UnsupportedCredentialsError,
    WorkerTransferError,
)
from intralinks_async.distributed.upload import upload_tree  # noqa: E402

__all__ = [
    "DEFAULT_SHARD_BYTES",
    "DEFAULT_SHARD_FILES",
    "INSTALL_HINT",
    "Credentials",
    "DistributedError",
    "MissingExtraError",
    "ShardLostError",
    "SharedStorageError",
    "UnsupportedCredentialsError",
    "WorkerTransferError",
    "download_tree",
    "upload_tree",
]
