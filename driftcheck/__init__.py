"""driftcheck: find drift between parallel worktrees before the write."""

from __future__ import annotations

__version__ = "0.1.0"
