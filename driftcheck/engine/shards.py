"""`scan --shard K/N`: a deterministic share of the pairs, balanced by estimated cost.

Every shard sees the same facts (the same repository, refs and options give the
same list in every runner) and gives each piece of work to the shard with the least
estimated work so far, most expensive first. Counting pairs would not balance: a
pair of two large pull requests that meet costs a thousand pairs of documentation
fixes.

With a trunk the share is planned before anything is parsed (`share_of`): the
participants are dealt into blocks, and a shard takes whole pairs of blocks, so it
parses only its blocks' participants (about 2/sqrt(2N) of them) instead of all.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, TypeVar

from driftcheck.errors import UsageError
from driftcheck.symbols.languages import frontend_for

if TYPE_CHECKING:
    from driftcheck.engine.overlap import Footprint, Pairing

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


@dataclass
class ShardShare:
    """A shard's part of the pairs that may meet, planned from footprints alone."""

    pairs: set[Pairing] = field(default_factory=set)  # this shard's candidate pairs
    participants: set[int] = field(default_factory=set)  # its blocks' participants
    candidates: int = 0  # candidate pairs in all shards together


def share_of(
    footprints: Sequence[Footprint],
    cheap: Mapping[Pairing, set[str]],
    shard: Shard,
    *,
    semantic: bool,
) -> ShardShare:
    """This shard's candidate pairs: the pairs the footprints' paths, history and
    trunk keep (`cheap`), plus, when semantic detectors run, every pair of sides
    that both change source files (whether their symbols meet is decided inside the
    shard, from the same keys). Participants are dealt into blocks by weight; the
    block pairs go to the shards by estimated cost."""
    source = {fp.number for fp in footprints if not fp.everyone and fp.source}
    candidates: dict[Pairing, float] = {}
    size = {fp.number: sum(1 for p in fp.changes if frontend_for(p)) for fp in footprints}

    def cost(pairing: Pairing, why: Iterable[str]) -> float:
        meets = "path" in why or "trunk" in why or "everyone" in why
        return 1.0 + size[pairing[0]] + size[pairing[1]] + (10.0 if meets else 0.0)

    for pairing, why in cheap.items():
        candidates[pairing] = cost(pairing, why)
    if semantic:
        for pairing in combinations(sorted(source), 2):
            if pairing not in candidates:
                candidates[pairing] = cost(pairing, ())
    numbers = [fp.number for fp in footprints]
    count = max(1, min(len(numbers), math.ceil(math.sqrt(2 * shard.count))))
    weight = dict.fromkeys(numbers, 0.0)
    for (a, b), c in candidates.items():
        weight[a] += c
        weight[b] += c
    block: dict[int, int] = {}
    # Heaviest first, dealt back and forth: the blocks weigh about the same.
    for rank, n in enumerate(sorted(numbers, key=lambda n: (-weight[n], n))):
        lap, place = divmod(rank, count)
        block[n] = place if lap % 2 == 0 else count - 1 - place
    units = [(i, j) for i in range(count) for j in range(i, count)]
    unit_cost = dict.fromkeys(units, 0.0)
    for (a, b), c in candidates.items():
        unit_cost[_unit(block[a], block[b])] += c
    mine = {units[i] for i in assign(units, lambda u: unit_cost[u], shard)}
    share = ShardShare(candidates=len(candidates))
    share.pairs = {p for p in candidates if _unit(block[p[0]], block[p[1]]) in mine}
    share.participants = {n for n in numbers if any(block[n] in u for u in mine)}
    return share


def _unit(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)
