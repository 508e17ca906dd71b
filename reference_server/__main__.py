"""``python -m reference_server``: the same as the ``reference-server`` console script."""

from reference_server.cli import main

raise SystemExit(main())
