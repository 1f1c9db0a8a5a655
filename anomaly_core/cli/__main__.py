"""``python -m anomaly_core.cli``."""

from . import main

raise SystemExit(main())
