"""The package version (read by the build backend, ``--version`` and ``__version__``)."""

__version__ = "0.1.0"
