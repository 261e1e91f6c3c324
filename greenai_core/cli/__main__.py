"""``python -m greenai_core.cli``: the ``greenai`` command."""

import sys

from greenai_core.cli import main

sys.exit(main())
