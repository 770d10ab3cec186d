"""``python -m seiswork ...``: see :mod:`seiswork.runner`."""

from seiswork.runner import main

raise SystemExit(main())
