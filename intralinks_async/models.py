"""Public data models of the Intralinks API (attrs classes generated from the spec).

Everything the generated ``models`` package exports is re-exported here, so a model added
to the spec appears after ``make generate`` alone. Response wrappers whose only property
is one array are not exported: the operations return the list itself. ``File`` is the
upload payload type used by :class:`UploadDocumentBody` (bytes, a binary file, an async
iterable, or a zero-argument callable returning a fresh async iterable, which lets the
client re-send the upload). ``Response`` and ``DownloadStream`` are what the resources'
``with_raw_response`` methods return.
"""

from intralinks_async._core.types import UNSET, DownloadStream, File, Response, Unset
from intralinks_async._generated.models import *  # noqa: F403
from intralinks_async._generated.models import __all__ as _generated_all

__all__ = [*_generated_all, "UNSET", "DownloadStream", "File", "Response", "Unset"]
