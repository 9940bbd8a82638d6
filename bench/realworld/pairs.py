"""Pairs of a window's participants: git's verdict, the checker's, driftcheck's findings.

Every pair of participants (the trunk and each chosen pull request) gets
- git's merge: `git merge-tree --write-tree --name-only --no-messages` (exit 1: conflict);
- when that merge is clean and both sides change source files since their merge base,
  the type-checker on the left tree, the right tree and the merged tree;
- driftcheck's findings whose participants are exactly this pair, and separately the
  single-participant findings (such as DC303) of each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gitio
from checkers import Checker, TreeResult, new_errors
from keys import finding_key, side_label, single_label
from projects import Project
from scan import Scan
from windows import Window


@dataclass(frozen=True)
class Side:
    """A participant: the trunk (pr None) or a pull request."""

    name: str
    ref: str
    pr: int | None
    head: str
    concurrent: bool

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "ref": self.ref,
            "pr": self.pr,
            "head": self.head,
            "concurrent": self.concurrent,
        }


@dataclass
class Merge:
    """git's verdict on one pair, and what the checker needs from it."""

    bases: list[str]
    conflict: bool
    paths: list[str]
    tree: str | None
    left_sources: int
    right_sources: int
    error: str | None = None

    @property
    def needs_check(self) -> bool:
        return (
            self.error is None
            and not self.conflict
            and self.tree is not None
            and self.left_sources > 0
            and self.right_sources > 0
        )


def sides(project: Project, window: Window, scan: Scan) -> list[Side]:
    """Participants in scan order: the trunk, then pull requests by ref name."""
    trunk_ref = f"refs/heads/{project.trunk}"
    found = [Side(scan.names.get(trunk_ref, project.trunk), trunk_ref, None, window.trunk, True)]
    for pr in sorted(window.chosen, key=lambda n: f"refs/pr/{n}"):
        ref = f"refs/pr/{pr}"
        candidate = window.candidate(pr)
        found.append(
            Side(scan.names.get(ref, f"pr/{pr}"), ref, pr, candidate.head, candidate.concurrent)
        )
    return found


def merge(project: Project, git_dir: Path, left: Side, right: Side) -> Merge:
    bases = gitio.merge_bases(git_dir, left.head, right.head)
    proc = gitio.run(
        git_dir,
        "merge-tree",
        "--write-tree",
        "--name-only",
        "--no-messages",
        left.head,
        right.head,
        ok=(0, 1, 128),
    )
    if proc.returncode not in (0, 1):
        return Merge(bases, False, [], None, 0, 0, error=proc.stderr.strip()[-500:])
    output = proc.stdout.splitlines()
    tree, paths = output[0].strip(), sorted({p for p in output[1:] if p})
    left_sources = right_sources = 0
    if bases:
        base = bases[0]
        left_sources = sum(map(project.is_source, gitio.changed_paths(git_dir, base, left.head)))
        right_sources = sum(map(project.is_source, gitio.changed_paths(git_dir, base, right.head)))
    return Merge(bases, proc.returncode == 1, paths, tree, left_sources, right_sources)


def typecheck(
    checker: Checker | None, git_dir: Path, left: Side, right: Side, result: Merge
) -> dict[str, object]:
    """The checker's verdict on the pair, or why it was not asked."""
    if result.error is not None:
        return {"ran": False, "new_errors": None, "reason": "merge-tree failed"}
    if result.conflict:
        return {"ran": False, "new_errors": None, "reason": "git conflict"}
    if not result.needs_check:
        reason = "one side changes no source file" if result.bases else "no merge base"
        return {"ran": False, "new_errors": None, "reason": reason}
    if checker is None:
        return {"ran": False, "new_errors": None, "reason": "checker disabled"}
    assert result.tree is not None
    runs: dict[str, TreeResult] = {}
    for label, tree in (
        ("left", gitio.tree_of(git_dir, left.head)),
        ("right", gitio.tree_of(git_dir, right.head)),
        ("merged", result.tree),
    ):
        runs[label] = checker.check(git_dir, tree)
    summary = {
        label: {
            "tree": run.tree,
            "status": run.status,
            "errors": len(run.errors) if run.errors is not None else None,
            "config": run.config,
        }
        for label, run in runs.items()
    }
    bad = [label for label, run in runs.items() if run.errors is None]
    if bad:
        statuses = ", ".join(f"{label}: {runs[label].status}" for label in bad)
        return {"ran": False, "new_errors": None, "reason": statuses, "trees": summary}
    errors = new_errors(runs["left"].errors, runs["right"].errors, runs["merged"].errors)
    configs = {run.config for run in runs.values()}
    return {
        "ran": True,
        "new_errors": [list(e) for e in errors],
        "reason": None,
        "trees": summary,
        "same_config": len(configs) == 1,
    }


def findings_for(project: Project, window: str, scan: Scan, left: Side, right: Side):
    """(pair findings, {side name: single-participant findings}); None when the scan failed."""
    if not scan.ok:
        return None, None
    pair, single = [], {left.name: [], right.name: []}
    labels = {left.name: side_label(left.pr), right.name: side_label(right.pr)}
    own = {
        left.name: {left.name: single_label(left.pr, window)},
        right.name: {right.name: single_label(right.pr, window)},
    }
    for finding in scan.document.get("findings", []):
        names = finding.get("participants", [])
        if sorted(names) == sorted([left.name, right.name]):
            pair.append({**finding, "key": finding_key(project.name, labels, finding)})
        elif len(set(names)) == 1 and names[0] in single:
            key = finding_key(project.name, own[names[0]], finding)
            single[names[0]].append({**finding, "key": key})
    return pair, single


def pair_record(
    project: Project,
    window: Window,
    scan: Scan,
    left: Side,
    right: Side,
    result: Merge,
    check: dict[str, object],
) -> dict[str, object]:
    pair_findings, single = findings_for(project, window.name, scan, left, right)
    return {
        "project": project.name,
        "window": window.name,
        "trunk_commit": window.trunk,
        "left": left.to_json(),
        "right": right.to_json(),
        "concurrent": left.concurrent and right.concurrent,
        "merge_bases": result.bases,
        "git_conflict": result.conflict,
        "conflict_paths": result.paths,
        "merge_error": result.error,
        "merged_tree": result.tree,
        "source_changes": [result.left_sources, result.right_sources],
        "typecheck": check,
        "scan_status": scan.status,
        "findings": pair_findings,
        "single_findings": single,
    }
