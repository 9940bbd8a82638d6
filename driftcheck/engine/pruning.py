"""The pairs a scan enumerates: footprints read in batches, then the overlap index.

Everything here costs a few git processes for all participants together: one
`rev-list` for every side's own commits and fork point (`merge-base --all` only for
a side with several), one first-parent log of the trunk, one `diff-tree --stdin`
for every side's own changes, one `cat-file --batch` for the words of its changed
source files. The pairs it keeps, with their merge bases where the footprints
already tell them, go to the detectors; the others are pruned (engine/overlap.py
says why that loses nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from driftcheck.config import Config
from driftcheck.engine.overlap import Footprint, Pairing, candidate_pairs, read_semantics
from driftcheck.engine.shards import Shard, ShardShare, share_of
from driftcheck.model import KINDS, Participant
from driftcheck.workspace import batch, history

if TYPE_CHECKING:
    from driftcheck.engine.options import ScanOptions
    from driftcheck.engine.session import AnalysisSession


@dataclass
class PairPlan:
    """The pairs worth analysing and what enumerating them found out."""

    reasons: dict[Pairing, set[str]]  # kept pair -> why
    # heads -> (merge base, its tree), where footprints settle it without git
    bases: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    # side head -> (fork commits with the trunk, the first one's tree)
    forks: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    footprints: dict[int, Footprint] = field(default_factory=dict)
    # With a shard: its share, planned from cheap facts only; `reasons` then holds
    # only the shard's own pairs (every other shard plans the same share for itself).
    share: ShardShare | None = None

    def semantic(self, pairing: Pairing) -> bool:
        """Whether the semantic detectors may find anything in this pair."""
        return bool(self.reasons.get(pairing, set()) - {"path", "trunk", "history"})


def plan_pairs(
    session: AnalysisSession,
    participants: list[Participant],
    trunk: Participant | None,
    options: ScanOptions,
    shard: Shard | None = None,
) -> PairPlan | None:
    """Which pairs can meet; None when the footprints cannot tell (no trunk with a
    commit, or a judgement of one proposal): then every pair is enumerated.

    With a `shard`, the pairs are shared out before anything is parsed (from the
    footprints alone, alike in every shard), and only this shard's participants
    are parsed for the semantic keys: the same keys, so the shards' pairs together
    are the unsharded plan's."""
    if trunk is None or trunk.head is None or options.focus is not None:
        return None
    cwd = str(session.repo.common_dir)
    env = session.scratch.env
    heads = [p.head for p in participants if p.head and p is not trunk]
    found = batch.forks(heads, trunk.head, cwd=cwd)
    fork_commits = sorted({c for forks in found.fork.values() for c in forks})
    fork_trees = history.trees_of(fork_commits, cwd=cwd)
    line = batch.trunk_history(trunk.head, depth=0, cwd=cwd)
    positions = {
        head: line.position.get(forks[0]) if len(forks) == 1 else None
        for head, forks in found.fork.items()
    }
    depth = max((p for p in positions.values() if p is not None), default=0)
    trunk_changes = batch.trunk_history(trunk.head, depth=depth, cwd=cwd).changes

    footprints = [Footprint(number=n, changes={}) for n in range(len(participants))]
    own_diffs: dict[int, tuple[str, str]] = {}
    for n, side in enumerate(participants):
        fp = footprints[n]
        forks = found.fork.get(side.head or "", [])
        if side is trunk or side.head is None or not forks:
            fp.everyone = True
            continue
        fp.position, fp.own = positions.get(side.head), found.own.get(side.head, frozenset())
        own_diffs[n] = (fork_trees[forks[0]], side.tree)
    changes = batch.diffs(own_diffs.values(), cwd=cwd, env=env)
    for n, key in own_diffs.items():
        fp, diff = footprints[n], changes[key]
        fp.changes = {p: c[0] for p, c in diff.items()}
        # Off the trunk's line, several fork points or no work of its own: the
        # argument for pruning does not hold, so this side meets everyone.
        fp.everyone = fp.position is None or not fp.changes
    semantic = any(k in options.only for k in KINDS if k != "textual-conflict")
    share = None
    if shard is not None and shard.count > 1:
        cheap = candidate_pairs(footprints, trunk_changes, options.only, semantic=False)
        share = share_of(footprints, cheap, shard, semantic=semantic, trunk_changes=trunk_changes)
    read = footprints if share is None else [footprints[n] for n in sorted(share.participants)]
    if semantic:
        bases = {n: key[0] for n, key in own_diffs.items()}
        config = options.config or Config()
        read_semantics(
            read,
            bases,
            participants,
            session.index,
            config.duplicate_min_statements,
            config.duplicate_similarity,
        )
    # Every key is a fact of the two sides alone: the reasons of a pair within `read`
    # are the same as among all participants.
    reasons = candidate_pairs(read, trunk_changes, options.only, semantic=semantic)
    if share is not None:
        reasons = {pairing: why for pairing, why in reasons.items() if pairing in share.pairs}
    plan = PairPlan(reasons=reasons, footprints={fp.number: fp for fp in footprints}, share=share)
    for head, forks in found.fork.items():
        if forks:
            plan.forks[head] = (forks, fork_trees[forks[0]])
    for a, b in plan.reasons:
        left, right = footprints[a], footprints[b]
        if left.everyone or right.everyone or left.own & right.own:
            continue
        # Disjoint own commits, both forked from the line: the older fork is the base.
        older = participants[a if (left.position or 0) >= (right.position or 0) else b]
        fork, tree = plan.forks[older.head or ""][0][0], plan.forks[older.head or ""][1]
        plan.bases[_heads(participants[a], participants[b])] = (fork, tree)
    return plan


def _heads(left: Participant, right: Participant) -> tuple[str, str]:
    a, b = sorted((left.head or "", right.head or ""))
    return a, b
