from __future__ import annotations

from driftcheck.cli.launch import entry

entry()
