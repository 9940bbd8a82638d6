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
    owner = owners(costs, shard.count)
    return [i for i in range(len(items)) if owner[i] == shard.index - 1]


def owners(costs: Sequence[float], count: int) -> list[int]:
    """The shard (0-based) of each item: largest first, to the least loaded."""
    order = sorted(range(len(costs)), key=lambda i: (-costs[i], i))
    loads = [(0.0, s) for s in range(count)]
    owner = [0] * len(costs)
    for i in order:
        load, s = heapq.heappop(loads)
        owner[i] = s
        heapq.heappush(loads, (load + costs[i], s))
    return owner


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
    trunk_changes: Sequence[Mapping[str, str]] = (),
) -> ShardShare:
    """This shard's candidate pairs: the pairs the footprints' paths, history and
    trunk keep (`cheap`), plus, when semantic detectors run, every pair of sides
    that both change source files (whether their symbols meet is decided inside the
    shard, from the same keys). Participants are dealt into blocks by weight; the
    block pairs go to the shards by estimated cost."""
    source = {fp.number for fp in footprints if not fp.everyone and fp.source}
    candidates: dict[Pairing, float] = {}
    size = {fp.number: sum(1 for p in fp.changes if frontend_for(p)) for fp in footprints}

    # Source files the trunk changed after each first-parent position: the side
    # that forked later carries those since the other's fork into the pair's diff
    # (they are parsed too), and the trunk or a merged side carries them all.
    seen: set[str] = set()
    since = [0]
    for changes in trunk_changes:
        seen.update(p for p in changes if frontend_for(p))
        since.append(len(seen))
    position = {
        fp.number: min(fp.position, len(trunk_changes)) if fp.position is not None else None
        for fp in footprints
    }

    def between(a: int, b: int) -> int:
        known = [p for p in (position[a], position[b]) if p is not None]
        if len(known) < 2:
            return since[max(known, default=len(trunk_changes))]
        return since[max(known)] - since[min(known)]

    def cost(pairing: Pairing, why: Iterable[str]) -> float:
        meets = "path" in why or "trunk" in why or "everyone" in why
        a, b = pairing
        return 1.0 + size[a] + size[b] + between(a, b) + (10.0 if meets else 0.0)

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
    # The block pairs decide which blocks each shard holds (it parses their
    # participants) ...
    held: list[set[int]] = [set() for _ in range(shard.count)]
    for unit, k in zip(units, owners([unit_cost[u] for u in units], shard.count), strict=True):
        held[k].update(unit)
    # ... then each pair goes to the least loaded shard that holds both its blocks:
    # the balance of single pairs, the parsing of whole blocks. A shard's load starts
    # at what parsing its blocks' participants costs.
    parse = {n: 2.0 * (size[n] or (since[-1] if position[n] is None else 0)) for n in numbers}
    loads = [sum(parse[n] for n in numbers if block[n] in blocks) for blocks in held]
    share = ShardShare(candidates=len(candidates))
    for pairing in sorted(candidates, key=lambda p: (-candidates[p], p)):
        a, b = block[pairing[0]], block[pairing[1]]
        k = min(
            (k for k in range(shard.count) if a in held[k] and b in held[k]),
            key=lambda k: (loads[k], k),
        )
        loads[k] += candidates[pairing]
        if k == shard.index - 1:
            share.pairs.add(pairing)
    share.participants = {n for n in numbers if block[n] in held[shard.index - 1]}
    return share


def _unit(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)
