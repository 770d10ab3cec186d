"""``python -m seiswork ...``: see :mod:`seiswork.cli`."""

from seiswork.cli import main

raise SystemExit(main())
