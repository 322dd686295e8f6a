"""Hand-written core of the generated layer: what ``intralinks_async._generated`` imports.

The templates in ``generator-templates/`` render only what the spec decides (paths,
parameters, models, result types); the library code they rely on lives here, linted and
type-checked like the rest of the package:

* :mod:`.types` -- ``UNSET``, ``File``, ``Response`` (raw responses), ``DownloadStream``;
* :mod:`.multipart` -- the multipart/form-data and raw-body encoders (replayable bodies);
* :mod:`.sender` -- the ``RequestSender`` protocol and path-parameter encoding.
"""
