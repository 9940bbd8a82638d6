"""Turn a planned case (A's edits, B's edits) into a verified, labelled case on disk.

A planned case is verified before it is written: side A alone and side B alone must
type-check with no error the base does not have (otherwise it is discarded, and the
reason counted). Then the repository is built and labelled from git's own merge.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import CASES, Edits
from labels import CaseRepo, Checker, CheckerFailed, compare
from repos import build_case


@dataclass
class Plan:
    case_id: str
    kind: str
    language: str
    project: str
    project_commit: str
    target: str
    target_kind: str
    intent: (
        str  # positive: B uses the old form of a breaking change; negative: should merge cleanly
    )
    negative_type: str | None
    a_summary: str
    a_stage: str
    a_edits: Edits
    b_summary: str
    b_stage: str
    b_location: str
    b_edits: Edits
    b_changed_file: str
    a_branch: str
    b_branch: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    written: Counter[str] = field(default_factory=Counter)
    discarded: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, dict[str, int]]:
        parts = {"written": self.written, "discarded": self.discarded, "skipped": self.skipped}
        return {k: dict(sorted(v.items())) for k, v in parts.items()}


def side_ok(checker: Checker, edits: Edits) -> list[str] | None:
    """None when the side type-checks like the base; else its new errors."""
    new = checker.new_errors(edits)
    return None if not new else [f"{p}: {m} [{c}]" for p, m, c in new]


def realise(plan: Plan, checker: Checker, tally: Tally, root: Path = CASES) -> bool:
    """Verify, build and label one case; False when it was discarded."""
    try:
        a_errors = side_ok(checker, plan.a_edits)
        if a_errors:
            tally.discarded[f"{plan.language}/{plan.kind}: A does not type-check"] += 1
            return False
        b_errors = side_ok(checker, plan.b_edits)
        if b_errors:
            tally.discarded[f"{plan.language}/{plan.kind}: B does not type-check"] += 1
            return False
    except CheckerFailed:
        tally.discarded[f"{plan.language}/{plan.kind}: checker failed"] += 1
        return False
    folder = root / plan.case_id
    if folder.exists():
        shutil.rmtree(folder)
    build_case(
        folder,
        checker.base,
        plan.a_branch,
        plan.a_edits,
        plan.a_stage,
        plan.b_branch,
        plan.b_edits,
        plan.b_stage,
        (f"{plan.kind}: {plan.a_summary}", plan.b_summary),
    )
    repo = CaseRepo(folder)
    try:
        a_commit, b_commit = repo.state_commit("a"), repo.state_commit("b")
        a_state, b_state = repo.edits(a_commit), repo.edits(b_commit)
        if a_state != plan.a_edits or b_state != plan.b_edits:
            raise RuntimeError(f"{plan.case_id}: worktree states differ from the plan")
        merged = repo.merge(a_commit, b_commit)
        if merged is None:
            label, new_errors = "conflict", []
        else:
            try:
                errors = checker.errors(repo.edits(merged))
            except CheckerFailed:
                tally.discarded[f"{plan.language}/{plan.kind}: checker failed"] += 1
                shutil.rmtree(folder)
                return False
            new_errors = compare(errors, checker.errors(plan.a_edits), checker.errors(plan.b_edits))
            label = "breaks" if new_errors else "clean"
    finally:
        repo.close()
    data = {
        "id": plan.case_id,
        "kind": plan.kind,
        "language": plan.language,
        "project": plan.project,
        "project_commit": plan.project_commit,
        "target": plan.target,
        "target_kind": plan.target_kind,
        "intent": plan.intent,
        "negative_type": plan.negative_type,
        "a": {
            "branch": plan.a_branch,
            "worktree": "a",
            "stage": plan.a_stage,
            "did": plan.a_summary,
            "paths": sorted(plan.a_edits),
        },
        "b": {
            "branch": plan.b_branch,
            "worktree": "b",
            "stage": plan.b_stage,
            "did": plan.b_summary,
            "location": plan.b_location,
            "paths": sorted(plan.b_edits),
            "changed_file": plan.b_changed_file,
        },
        "label": label,
        "new_errors": [{"path": p, "message": m, "code": c} for p, m, c in new_errors],
        "checker": "mypy" if plan.language == "python" else "tsc",
        **plan.extra,
    }
    (folder / "case.json").write_text(json.dumps(data, indent=2) + "\n")
    tally.written[f"{plan.language}/{plan.kind}/{plan.intent}/{label}"] += 1
    return True
