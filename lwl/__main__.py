"""``python -m lwl``: the same as the ``lwl`` command."""
import sys

from .cli import main

sys.exit(main())
