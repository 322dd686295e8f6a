"""The ``distributed`` extra: a clear message when Dask is not installed."""

from __future__ import annotations

__all__ = ["INSTALL_HINT", "MissingExtraError", "require_dask"]

#: What to run when the extra is missing.
INSTALL_HINT = "pip install 'intralinks-async[distributed]'"


class MissingExtraError(ImportError):
    """Dask distributed is not installed (the ``distributed`` extra is missing)."""


def require_dask() -> None:
    """Raise :class:`MissingExtraError` with the install hint unless Dask can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise MissingExtraError(
            f"distributed migrations need Dask distributed: {INSTALL_HINT}"
        ) from exc
