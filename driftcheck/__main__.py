from __future__ import annotations

from driftcheck.launch import entry

entry()
