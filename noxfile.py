"""Nox sessions: tests, lint, typecheck and the generated-code check."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck", "generated"]
nox.options.reuse_existing_virtualenvs = True


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """Run the whole test suite."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-q", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """Ruff lint and format check."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, generated code included."""
    session.install("-e", ".[dev]")
    session.run("mypy", "--strict", "intralinks_async")


@nox.session(python="3.11")
def generated(session: nox.Session) -> None:
    """Fail when intralinks_async/_generated differs from a fresh generation."""
    session.install("-e", ".[dev]")
    session.run("make", "check-generated", f"PY={session.bin}/python", external=True)
