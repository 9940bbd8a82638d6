"""What a caller asks of an analysis: which participants, which kinds, which files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from driftcheck.config import Config
from driftcheck.engine.shards import Shard
from driftcheck.errors import UsageError
from driftcheck.model import KINDS

# (pairs done, pairs in all, a label for the pair at hand)
Progress = Callable[[int, int, str], None]


@dataclass
class ScanOptions:
    repo: str = "."
    trunk: str | None = None
    ref_patterns: Sequence[str] = ()
    committed_only: bool = False
    use_cache: bool = True
    only: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))
    config: Config | None = None
    # Pre-write judgement: only these files of the left (current) side are analysed.
    focus: frozenset[str] | None = None
    # `--verify`: checkers run on both sides of each pair and on git's merge
    verify: tuple[str, ...] = ()
    verify_pattern: str | None = None
    # `--shard K/N`: analyse this share of the enumerated pairs only
    shard: Shard | None = None
    # Enumerate only the pairs the overlap index keeps (False: every pair, the
    # exhaustive reference the tests compare with)
    prune: bool = True


def parse_kinds(value: str | None) -> frozenset[str]:
    """`--only a,b` -> {a, b}; unknown kinds are a usage error."""
    if not value:
        return frozenset(KINDS)
    kinds = {k.strip() for k in value.split(",") if k.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        known = ", ".join(KINDS)
        raise UsageError(f"unknown kind for --only: {', '.join(unknown)} (known: {known})")
    return frozenset(kinds)
