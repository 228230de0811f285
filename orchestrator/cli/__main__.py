"""``python -m orchestrator.cli`` = ``octant`` (used by batch jobs where the script is not on PATH)."""

import sys

from . import main

sys.exit(main())
