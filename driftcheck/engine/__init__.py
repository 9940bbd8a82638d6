"""Use cases: scan every pair, judge one worktree's proposed state."""
