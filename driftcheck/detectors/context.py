"""What a detector may know about one pair of participants, and what it may share.

`SharedFacts` lives for one analysis (all its pairs): the symbol index and what
pairs have in common (a participant's state commit, a side's symbol changes
against a merge base); the part of it keyed by content (`KeptFacts`) may outlive
the analysis in a long-lived session. `PairFacts` lives for one pair: git's merge of it and its
semantic facts, each worked out on first ask and then shared by its detectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from driftcheck.config import Config
from driftcheck.detectors.semantics import PairSemantics, SideFactsCache, build_semantics
from driftcheck.model import Pair, Participant
from driftcheck.symbols.index import SymbolIndex
from driftcheck.symbols.table import Symbol
from driftcheck.workspace import git, merge
from driftcheck.workspace.capture import ensure_state_commit


@dataclass(frozen=True)
class SideScope:
    """What one side itself changed: against its own fork point from the trunk when
    that differs from the pair's merge base (two pull requests forked at different
    trunk commits must not be charged with the trunk's commits in between)."""

    base_tree: str
    changes: Mapping[str, str]  # path -> A/M/D/T against base_tree


# DC303's lookups, by what decides them: (base tree, added symbol, minimum size) ->
# the base functions it may repeat; and, with the threshold and which of those the
# side itself removed or rewrote, the best match (None: no match).
ExistingKey = tuple[str, Symbol, int]
ExistingMatches = dict[tuple[ExistingKey, float, frozenset[str]], tuple[Symbol, float] | None]


@dataclass
class KeptFacts:
    """The facts of `SharedFacts` that are keyed by content (trees, blobs, symbols),
    so a long-lived session (the daemon's) keeps them between analyses: after one
    write, the pairs of the worktree written to are analysed again, and the other
    side of each finds its own facts worked out already. Each entry names everything
    that decides it; a kept state commit lives in the session's own scratch store."""

    state_commits: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    side_facts: SideFactsCache = field(default_factory=dict)
    renames: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    existing_candidates: dict[ExistingKey, list[Symbol]] = field(default_factory=dict)
    existing_matches: ExistingMatches = field(default_factory=dict)

    def size(self) -> int:
        return sum(len(kept) for kept in vars(self).values())


@dataclass
class SharedFacts:
    """Shared by every pair of one analysis."""

    index: SymbolIndex
    # Kept across analyses by a long-lived session; else this analysis' own.
    kept: KeptFacts = field(default_factory=KeptFacts)
    # DC303 ("exists at the base already") is reported once per side, base and symbol
    # in one analysis (never kept: which pair reports it is this analysis' choice).
    existing_reported: set[tuple[str, str, str]] = field(default_factory=set)
    # (left state commit, right state commit) -> git's merge, made ahead for pairs
    # about to be analysed; taken by the pair that uses it.
    merges: dict[tuple[str, str], merge.MergeResult] = field(default_factory=dict)

    @property
    def state_commits(self) -> dict[str, tuple[str | None, str | None]]:
        """state tree -> (the head it was made on, the commit wrapping it)"""
        return self.kept.state_commits

    @property
    def side_facts(self) -> SideFactsCache:
        """A participant meets the same merge base in many pairs: its changes, once."""
        return self.kept.side_facts

    @property
    def renames(self) -> dict[tuple[str, str], dict[str, str]]:
        """(base tree, tree) -> git's file renames between them (old path -> new
        path): a side meets the same base in many pairs."""
        return self.kept.renames


@dataclass
class PairFacts:
    """One pair's facts, each worked out once (`*_known` says whether it has been)."""

    merge: merge.MergeResult | None = None
    merge_known: bool = False
    semantics: PairSemantics | None = None
    semantics_known: bool = False


@dataclass
class PairContext:
    pair: Pair
    repo: git.RepoInfo
    scratch: git.Scratch
    base_tree: str
    left_changes: Mapping[str, str]  # path -> A/M/D/T against the merge base
    right_changes: Mapping[str, str]
    paths_meet: bool
    shared: SharedFacts
    config: Config | None = None
    # When judging a proposed edit: the left side's files worth analysing.
    focus: frozenset[str] | None = None
    # What each side itself changed, for the semantic detectors (None: its changes
    # against the merge base). The textual merge is always git's, from the base.
    left_scope: SideScope | None = None
    right_scope: SideScope | None = None
    # The trunk's participant name, when one takes part: its code is merged already.
    trunk: str | None = None
    facts: PairFacts = field(default_factory=PairFacts)

    def scopes(self) -> tuple[SideScope, SideScope]:
        return (
            self.left_scope or SideScope(self.base_tree, self.left_changes),
            self.right_scope or SideScope(self.base_tree, self.right_changes),
        )

    @property
    def cwd(self) -> str:
        return str(self.repo.common_dir)

    @property
    def index(self) -> SymbolIndex:
        """The analysis' symbol index (the engine makes it and stops its processes)."""
        return self.shared.index

    def state_commits(self) -> tuple[str | None, str | None]:
        """Commits wrapping both sides' states (made once per state, on first use)."""
        return (
            state_commit(self.shared, self.pair.left, self.scratch, self.cwd),
            state_commit(self.shared, self.pair.right, self.scratch, self.cwd),
        )

    def merge_result(self) -> merge.MergeResult | None:
        """git's merge of the two states, simulated once for all detectors: clean and
        empty when the changes cannot meet, None when a side has no commit to merge."""
        facts = self.facts
        if not facts.merge_known:
            if not self.paths_meet:
                facts.merge = merge.MergeResult(tree="", clean=True, conflicts=[])
            else:
                left, right = self.state_commits()
                facts.merge = None
                if left and right:
                    # Made ahead with the other pairs' merges (engine/merges.py), or now.
                    facts.merge = self.shared.merges.pop((left, right), None) or merge.simulate(
                        left, right, cwd=self.cwd, scratch=self.scratch
                    )
            facts.merge_known = True
        return facts.merge

    def merged_tree(self) -> str | None:
        """The tree of git's merge of the two states; None when no merge was made
        (the changes cannot meet, or a side has no commit)."""
        result = self.merge_result()
        return result.tree if result is not None and result.tree else None

    def file_renames(self, name: str) -> Mapping[str, str]:
        """old path -> new path for the files participant `name` renames, paired by
        git's own rename detection against its scope's base; asked of git only where
        the side both deletes and adds files."""
        for side, scope in zip((self.pair.left, self.pair.right), self.scopes(), strict=True):
            if side.name != name or not side.tree or not {"A", "D"} <= set(scope.changes.values()):
                continue
            key = (scope.base_tree, side.tree)
            known = self.shared.renames.get(key)
            if known is None:
                known = git.renames(*key, cwd=self.cwd, env=self.scratch.env)
                self.shared.renames[key] = known
            return known
        return {}

    def semantics(self) -> PairSemantics | None:
        """The pair's semantic facts, computed once; None when no parsable file changed."""
        facts = self.facts
        if not facts.semantics_known:
            left, right = self.scopes()
            facts.semantics = build_semantics(
                index=self.index,
                side_facts=self.shared.side_facts,
                pair=self.pair,
                base_tree=self.base_tree,
                scopes=((left.base_tree, left.changes), (right.base_tree, right.changes)),
                focus=self.focus,
            )
            facts.semantics_known = True
        return facts.semantics


def state_commit(
    shared: SharedFacts, side: Participant, scratch: git.Scratch, cwd: str
) -> str | None:
    """The commit wrapping `side`'s state, made once per state and head."""
    made = shared.state_commits
    known = made.get(side.tree)
    if known is None or known[0] != side.head:
        known = made[side.tree] = (side.head, ensure_state_commit(side, scratch, cwd))
    return known[1]
