"""``python -m ungeanalyse`` is the same as the ``ungeanalyse`` command."""

import sys

from .cli import main

sys.exit(main())
