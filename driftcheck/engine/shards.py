"""`scan --shard K/N`: a deterministic share of the pairs, balanced by estimated cost.

Every shard enumerates the same pairs (the same repository, refs and options give
the same list in every runner) and gives each to the shard with the least estimated
work so far, most expensive pair first. Counting pairs would not balance: a pair of
two large pull requests that meet costs a thousand pairs of documentation fixes.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from driftcheck.errors import UsageError

T = TypeVar("T")
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 1024


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as written: 1/8 .. 8/8
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(value: str | None) -> Shard | None:
    """`K/N` with 1 <= K <= N; anything else is a usage error."""
    if value is None:
        return None
    match = _SPEC.match(value)
    if not match:
        raise UsageError(f"--shard {value!r}: expected K/N, such as 3/8")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        raise UsageError(f"--shard {value}: K/N needs 1 <= K <= N <= {MAX_SHARDS}")
    return Shard(index, count)


def assign(items: Sequence[T], cost: Callable[[T], float], shard: Shard) -> list[int]:
    """Positions in `items` that belong to `shard`, balanced by `cost` (largest
    first, each to the least loaded shard; ties by position and shard number)."""
    if shard.count == 1:
        return list(range(len(items)))
    costs = [cost(item) for item in items]  # once each: an estimate may read diffs
    order = sorted(range(len(items)), key=lambda i: (-costs[i], i))
    loads = [(0.0, s) for s in range(shard.count)]
    mine: list[int] = []
    for i in order:
        load, s = heapq.heappop(loads)
        if s == shard.index - 1:
            mine.append(i)
        heapq.heappush(loads, (load + costs[i], s))
    return sorted(mine)
