from __future__ import annotations

from driftcheck.cli import entry

entry()
