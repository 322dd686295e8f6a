"""``python -m intralinks_async``: the ``intralinks-async`` command."""

import sys

from intralinks_async._cli import main

sys.exit(main())
