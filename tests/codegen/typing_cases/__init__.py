"""Modules that ``test_contract_typing.py`` type-checks with ``mypy --strict`` (never run)."""
