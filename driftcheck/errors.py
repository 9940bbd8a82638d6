"""Errors that map to the exit-code contract.

A `UsageError` (exit 2) is the user's input: not a repository, an unknown ref, a bad
flag value. Anything else that escapes is an internal error (exit 3).
"""

from __future__ import annotations


class DriftcheckError(Exception):
    """Base for errors driftcheck raises on purpose."""


class UsageError(DriftcheckError):
    """Bad input from the user; reported as one line on stderr, exit 2."""


class GitError(DriftcheckError):
    """A git command failed in a way we did not expect."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        self.git_args = args
        self.returncode = returncode
        self.stderr = stderr
        first = stderr.strip().splitlines()[0] if stderr.strip() else f"exit {returncode}"
        super().__init__(f"git {' '.join(args[:3])}: {first}")
