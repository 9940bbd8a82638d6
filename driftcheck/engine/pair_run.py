"""One analysis of a list of pairs: what it asked for, and the facts it works out
once for all of them (merge bases, diffs, each side's own scope)."""

from __future__ import annotations

from dataclasses import dataclass, field

from driftcheck import detectors
from driftcheck.detectors.context import SharedFacts, SideScope
from driftcheck.engine.bases import MergeBase, heads_key, tree_changes
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.session import AnalysisSession
from driftcheck.model import Finding, Participant
from driftcheck.symbols.languages import frontend_for


@dataclass
class PairRun:
    """One analysis of a list of pairs: what it asked for and what it found out
    before the pairs are analysed one by one."""

    session: AnalysisSession
    options: ScanOptions
    selected: list[tuple[str, detectors.Detector]]
    bases: dict[str, MergeBase]  # by heads_key
    keys: dict[int, str]  # pair number -> its key in the pair cache
    answered: dict[str, list[Finding]]  # pair cache key -> findings kept from before
    shared: SharedFacts
    trunk: Participant | None = None
    forks: dict[str, MergeBase] = field(default_factory=dict)  # side -> trunk, by heads_key
    diffs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    sources: dict[tuple[str, str], int] = field(default_factory=dict)

    def diff(self, base_tree: str, tree: str) -> dict[str, str]:
        """path -> A/M/D/T from `base_tree` to `tree`, once per run."""
        if (base_tree, tree) not in self.diffs:
            session = self.session
            found = tree_changes(
                base_tree,
                tree,
                cwd=str(session.repo.common_dir),
                env=session.scratch.env,
                cache=session.cache,
            )
            # The blobs on both sides come with the diff: no ls-tree needed for them.
            session.index.learn(base_tree, {p: c[1] for p, c in found.items()})
            session.index.learn(tree, {p: c[2] for p, c in found.items()})
            self.diffs[base_tree, tree] = {p: c[0] for p, c in found.items()}
        return self.diffs[base_tree, tree]

    def source_files(self, base_tree: str, tree: str) -> int:
        """How many of a diff's paths a frontend parses, once per diff (thousands of
        pairs share a few hundred diffs)."""
        key = (base_tree, tree)
        if key not in self.sources:
            self.sources[key] = sum(1 for p in self.diff(base_tree, tree) if frontend_for(p))
        return self.sources[key]

    def base_of(self, left: Participant, right: Participant) -> MergeBase | None:
        return self.bases.get(heads_key(left, right))

    def fork_of(self, side: Participant) -> MergeBase | None:
        """Where `side` forked from the trunk (None: it is the trunk, or none is known)."""
        if self.trunk is None or side is self.trunk:
            return None
        return self.forks.get(heads_key(side, self.trunk))

    def scope(self, side: Participant, base: MergeBase) -> SideScope | None:
        """What `side` itself changed, when that differs from its changes against the
        pair's merge base: a side that forked from the trunk after that base carries
        the trunk's commits in between, which are not its work."""
        fork = self.fork_of(side)
        if fork is None or fork.tree == base.tree:
            return None
        return SideScope(fork.tree, self.diff(fork.tree, side.tree))
