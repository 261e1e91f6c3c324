import sys

from greenai_core.cli import main

sys.exit(main())
