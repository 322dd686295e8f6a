"""``python -m intralinks_async.cli``: the same command as ``python -m intralinks_async``.

The command itself lives in the private :mod:`intralinks_async._cli` package.
"""

from __future__ import annotations

import sys

from intralinks_async._cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
