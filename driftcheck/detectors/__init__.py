"""Detectors: each is `detect(context) -> Iterable[Finding]`, listed in one dict.

A detector never prints and never touches the repository; it reads the pair's
context and returns findings in the v1 shape.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from driftcheck.model import (
    CONTRADICTING_EDIT,
    DUPLICATE,
    STALE_CALLER,
    TEXTUAL_CONFLICT,
    Finding,
    Pair,
)
from driftcheck.workspace import git, merge


@dataclass
class PairContext:
    """What a detector may know about one pair of participants."""

    pair: Pair
    repo: git.RepoInfo
    scratch: git.Scratch
    base_tree: str
    left_changes: Mapping[str, str]  # path -> A/M/D/T against the merge base
    right_changes: Mapping[str, str]
    paths_meet: bool
    config: Any = None
    # Shared across pairs, lazily filled services (symbol index, ...), keyed by name.
    services: dict[str, Any] = field(default_factory=dict)
    # This pair's facts, shared by its detectors (merge result, semantics, ...).
    facts: dict[str, Any] = field(default_factory=dict)
    # When judging a proposed edit: the left side's files worth analysing.
    focus: frozenset[str] | None = None

    @property
    def cwd(self) -> str:
        return str(self.repo.common_dir)

    def state_commits(self) -> tuple[str | None, str | None]:
        """Commits wrapping both sides' states (made once per state, on first use)."""
        from driftcheck.workspace.capture import ensure_state_commit

        made: dict[str, str | None] = self.services.setdefault("state_commits", {})
        commits = []
        for side in (self.pair.left, self.pair.right):
            if side.tree not in made or side.head != made.get(side.tree + ":head"):
                made[side.tree] = ensure_state_commit(side, self.scratch, self.cwd)
                made[side.tree + ":head"] = side.head
            commits.append(made[side.tree])
        return commits[0], commits[1]

    def merge_result(self) -> merge.MergeResult | None:
        """git's merge of the two states, simulated once for all detectors: clean and
        empty when the changes cannot meet, None when a side has no commit to merge."""
        if "merge_result" not in self.facts:
            if not self.paths_meet:
                self.facts["merge_result"] = merge.MergeResult(tree="", clean=True, conflicts=[])
            else:
                left, right = self.state_commits()
                self.facts["merge_result"] = (
                    merge.simulate(left, right, cwd=self.cwd, scratch=self.scratch)
                    if left and right
                    else None
                )
        result: merge.MergeResult | None = self.facts["merge_result"]
        return result


Detector = Callable[[PairContext], Iterable[Finding]]

# kind -> module implementing `detect`; imported only when that kind runs.
DETECTOR_MODULES: dict[str, str] = {
    TEXTUAL_CONFLICT: "driftcheck.detectors.textual",
    STALE_CALLER: "driftcheck.detectors.stale_callers",
    DUPLICATE: "driftcheck.detectors.duplicates",
    CONTRADICTING_EDIT: "driftcheck.detectors.contradictions",
}


def load(kind: str) -> Detector | None:
    module = DETECTOR_MODULES.get(kind)
    if module is None:
        return None
    detect: Detector = importlib.import_module(module).detect
    return detect
