"""``python -m dslppl``: the same command line as the ``dslppl`` script."""
import sys

from .cli import main

sys.exit(main())
