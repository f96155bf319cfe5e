"""``python -m sitegen``: see ``sitegen.cli``."""

from sitegen.cli import main

raise SystemExit(main())
