"""Plain value objects that flow through the pipeline.

participants -> changes -> symbols -> graph -> detectors -> findings -> reporters.
Everything here is data: no git calls, no parsing, no printing.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA = "driftcheck/v1"

TEXTUAL_CONFLICT = "textual-conflict"
STALE_CALLER = "stale-caller"
DUPLICATE = "duplicate"
CONTRADICTING_EDIT = "contradicting-edit"
KINDS: tuple[str, ...] = (TEXTUAL_CONFLICT, STALE_CALLER, DUPLICATE, CONTRADICTING_EDIT)
# Found before an edit only (the pre-edit judgement), not by the pair detectors.
# `scan --verify` only: the project's checker fails on git's merge of a pair.
MERGE_BREAK = "merge-break"
VERIFY_KINDS: tuple[str, ...] = (MERGE_BREAK,)
CLAIM_OVERLAP = "claim-overlap"
PRE_EDIT_KINDS: tuple[str, ...] = (CLAIM_OVERLAP,)


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class ExitCode(enum.IntEnum):
    """The exit-code contract shared by every command."""

    CLEAN = 0
    FINDINGS = 1
    USAGE_OR_INPUT = 2
    INTERNAL = 3


def fails(severity: Severity, fail_on: str) -> bool:
    """True when a finding of `severity` reaches the `--fail-on` threshold."""
    if fail_on == "never":
        return False
    return severity.rank >= Severity(fail_on).rank


@dataclass(frozen=True)
class Participant:
    """One side of a comparison: a worktree's current state or a ref's commit.

    `tree` is the state that takes part: for a worktree the tree `git add -A` would
    record (or HEAD's tree with --committed-only), for a ref its commit's tree.
    `state_commit` is a commit whose tree is `tree` and whose parent is `head`: `head`
    itself for a clean worktree or a ref; None for a dirty worktree until a merge
    needs one (`capture.ensure_state_commit`).
    """

    name: str
    kind: Literal["worktree", "ref"]
    path: str | None
    branch: str | None
    head: str | None
    tree: str
    state_commit: str | None
    dirty: bool
    ref: str | None = None
    detached: bool = False
    locked: bool = False

    def to_json(self, *, changed_paths: int) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            "branch": self.branch,
            "head": self.head,
            "dirty": self.dirty,
            "changed_paths": changed_paths,
            "ref": self.ref,
            "detached": self.detached,
            "locked": self.locked,
        }


@dataclass(frozen=True)
class Finding:
    """One piece of drift, in the v1 JSON shape.

    `path`/`line` point where a person should look; `details` carries the structured
    facts a tool needs (conflict type, line ranges, signatures, ...).
    """

    kind: str
    code: str
    severity: Severity
    participants: tuple[str, ...]
    path: str | None
    line: int | None
    message: str
    symbol: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "code": self.code,
            "severity": self.severity.value,
            "participants": list(self.participants),
            "path": self.path,
            "line": self.line,
            "symbol": self.symbol,
            "message": self.message,
            "details": dict(self.details),
        }

    def fingerprint(self, occurrence: int = 1) -> str:
        """Hash of what identifies the drift, not where it currently sits.

        Line numbers and messages are left out on purpose: they change as agents keep
        editing, and the same conflict should stay the same finding (the SARIF
        fingerprint, and the JSON `id`'s source)."""
        parts = [
            self.kind,
            self.code,
            self.path or "",
            self.symbol or "",
            *sorted(set(self.participants)),
        ]
        # NUL cannot occur in paths or names, so joined parts cannot collide.
        digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
        if occurrence > 1:
            # Hashing the digest again keeps these apart from every plain recipe's input.
            digest = hashlib.sha256(f"{digest}#{occurrence}".encode()).hexdigest()
        return digest

    @property
    def id(self) -> str:
        """A short stable id: the same while the drift stays the same (JSON `id`,
        `--baseline`, `ignore-ids`)."""
        return "dc-" + self.fingerprint()[:16]

    def sort_key(self) -> tuple[Any, ...]:
        return (
            -self.severity.rank,
            self.participants,
            self.path or "",
            self.line or 0,
            self.kind,
            self.code,
            self.message,
        )


@dataclass(frozen=True)
class Pair:
    """Two participants and the merge base their changes are measured against."""

    left: Participant
    right: Participant
    merge_base: str | None

    @property
    def names(self) -> tuple[str, str]:
        return (self.left.name, self.right.name)


@dataclass
class ScanResult:
    """Everything a reporter needs; reporters never analyse."""

    repo: str
    trunk: str | None
    participants: list[Participant]
    findings: list[Finding]
    stats: dict[str, Any]
    changed_paths: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # The configured default for --fail-on; the command line overrides it.
    fail_on: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "repo": self.repo,
            "trunk": self.trunk,
            "participants": [
                p.to_json(changed_paths=self.changed_paths.get(p.name, 0))
                for p in self.participants
            ],
            "findings": [f.to_json() for f in self.findings],
            "stats": self.stats,
            "warnings": list(self.warnings),
        }


# --- the merge plan (`driftcheck plan`) -------------------------------------------

PLAN_SCHEMA = "driftcheck/plan/v1"
DEPENDS_ON = "depends-on"
CONFLICTS = "conflicts"
DUPLICATES = "duplicates"
EDGE_KINDS: tuple[str, ...] = (DEPENDS_ON, CONFLICTS, DUPLICATES)


@dataclass(frozen=True)
class InventoryRow:
    """One participant as an integrator sees it: where it stands against the trunk.

    `ahead`/`behind` count commits against the trunk (None: no trunk, or no common
    history); `status` holds the words of the inventory (documented in
    docs/json-schema.md), most telling first."""

    name: str
    kind: Literal["worktree", "ref"]
    status: tuple[str, ...]
    ahead: int | None
    behind: int | None
    dirty: bool
    empty: bool
    merged: bool
    path: str | None = None
    branch: str | None = None
    staged: int = 0
    unstaged: int = 0
    untracked: int = 0
    pr: str | None = None  # the ref taking part that is this worktree's pull request
    worktree: str | None = None  # for a pull request's ref: its worktree

    @property
    def safe_to_delete(self) -> bool:
        return (self.empty or self.merged) and "trunk" not in self.status

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": list(self.status),
            "ahead": self.ahead,
            "behind": self.behind,
            "dirty": self.dirty,
            "empty": self.empty,
            "merged": self.merged,
            "safe_to_delete": self.safe_to_delete,
            "path": self.path,
            "branch": self.branch,
            "staged": self.staged,
            "unstaged": self.unstaged,
            "untracked": self.untracked,
            "pr": self.pr,
            "worktree": self.worktree,
        }


@dataclass(frozen=True)
class PlanEdge:
    """`source` depends on `target`, or the two conflict or duplicate each other
    (then `source` comes first in scan order)."""

    source: str
    target: str
    kind: str  # one of EDGE_KINDS
    findings: tuple[str, ...] = ()  # finding codes
    symbols: tuple[str, ...] = ()  # for depends-on: what source uses of target's

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "findings": list(self.findings),
            "symbols": list(self.symbols),
        }


@dataclass(frozen=True)
class PlanStep:
    number: int
    merge: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"step": self.number, "merge": list(self.merge), "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Reconcile:
    """Participants that cannot be placed in the order until a person decides."""

    participants: tuple[str, ...]
    decision: str
    findings: tuple[Finding, ...] = ()
    waits_for: tuple[str, ...] = ()  # placed or held participants the decision names

    def to_json(self) -> dict[str, Any]:
        return {
            "participants": list(self.participants),
            "decision": self.decision,
            "findings": [f.to_json() for f in self.findings],
            "waits_for": list(self.waits_for),
        }


@dataclass
class Plan:
    """What to merge, in what order, and what to reconcile first; reporters render it."""

    scan: ScanResult
    trunk: str | None  # the trunk's participant name
    participants: list[InventoryRow]
    edges: list[PlanEdge]
    clusters: list[list[str]]
    steps: list[PlanStep]
    reconcile_first: list[Reconcile]
    cycles: list[list[str]]
    stats: dict[str, Any]

    def row(self, name: str) -> InventoryRow | None:
        return next((r for r in self.participants if r.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": PLAN_SCHEMA,
            "repo": self.scan.repo,
            "trunk": self.trunk,
            "trunk_ref": self.scan.trunk,
            "participants": [r.to_json() for r in self.participants],
            "edges": [e.to_json() for e in self.edges],
            "clusters": [list(c) for c in self.clusters],
            "steps": [s.to_json() for s in self.steps],
            "reconcile_first": [r.to_json() for r in self.reconcile_first],
            "cycles": [list(c) for c in self.cycles],
            "findings": [f.to_json() for f in sorted(self.scan.findings, key=Finding.sort_key)],
            "stats": self.stats,
            "warnings": list(self.scan.warnings),
        }
