"""The scan use case: participants -> pairs -> detectors -> a `ScanResult`."""

from __future__ import annotations

import itertools
import posixpath
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from driftcheck import detectors, git
from driftcheck.config import Config, load_config
from driftcheck.errors import UsageError
from driftcheck.languages import frontend_for
from driftcheck.model import KINDS, Finding, Pair, Participant, ScanResult
from driftcheck.participants import Discovery, discover

Progress = Callable[[int, int, str], None]


@dataclass
class ScanOptions:
    repo: str = "."
    trunk: str | None = None
    ref_patterns: Sequence[str] = ()
    committed_only: bool = False
    only: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))
    config: Config | None = None


def parse_kinds(value: str | None) -> frozenset[str]:
    """`--only a,b` -> {a, b}; unknown kinds are a usage error."""
    if not value:
        return frozenset(KINDS)
    kinds = {k.strip() for k in value.split(",") if k.strip()}
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        known = ", ".join(KINDS)
        raise UsageError(f"unknown kind for --only: {', '.join(unknown)} (known: {known})")
    return frozenset(kinds)


def scan(options: ScanOptions, progress: Progress | None = None) -> ScanResult:
    started = time.monotonic()
    repo = git.open_repo(options.repo)
    config = options.config or load_config(repo.toplevel)
    options = replace(options, config=config, trunk=options.trunk or config.trunk)
    with git.Scratch(repo) as scratch:
        found = discover(
            repo,
            scratch,
            ref_patterns=options.ref_patterns,
            trunk=options.trunk,
            committed_only=options.committed_only,
        )
        analysis = analyse_pairs(
            repo, scratch, list(itertools.combinations(found.participants, 2)), options, progress
        )
    return build_result(repo, found, analysis, config, started)


def build_result(
    repo: git.RepoInfo,
    found: Discovery,
    analysis: PairAnalysis,
    config: Config,
    started: float,
    findings: list[Finding] | None = None,
) -> ScanResult:
    """The v1 result: configured, sorted findings and the run's statistics."""
    stats: dict[str, Any] = {
        "participants": len(found.participants),
        "pairs": analysis.pairs,
        "pairs_analysed": analysis.analysed,
        "pairs_skipped_disjoint": analysis.skipped_disjoint,
        "pairs_without_merge_base": analysis.without_base,
        "merge_simulations": analysis.merge_simulations,
        "skipped_participants": found.skipped,
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    if findings is None:
        findings = configured(analysis.findings, config)
    return ScanResult(
        repo=str(main_worktree(repo, found.participants)),
        trunk=found.trunk,
        participants=found.participants,
        findings=sorted(findings, key=Finding.sort_key),
        stats=stats,
        changed_paths={k: len(v) for k, v in analysis.changed_by.items()},
        warnings=found.warnings,
        fail_on=config.fail_on,
    )


def configured(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """Apply severities, disabled kinds and ignored paths from configuration."""
    return [f for f in map(config.apply, findings) if f is not None]


def main_worktree(repo: git.RepoInfo, participants: Sequence[Participant]) -> Path:
    """The main worktree's folder (for a bare repository, the repository itself)."""
    if repo.is_bare:
        return repo.common_dir
    entries = git.run_git(["worktree", "list", "--porcelain", "-z"], cwd=repo.common_dir).stdout
    first = entries.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return Path(first.removeprefix("worktree "))


@dataclass
class PairAnalysis:
    pairs: int = 0
    analysed: int = 0
    skipped_disjoint: int = 0
    merge_simulations: int = 0
    without_base: list[list[str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    changed_by: dict[str, set[str]] = field(default_factory=dict)


def analyse_pairs(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    pairs: list[tuple[Participant, Participant]],
    options: ScanOptions,
    progress: Progress | None = None,
) -> PairAnalysis:
    """Run the selected detectors over every pair that can drift."""
    cwd = str(repo.common_dir)
    result = PairAnalysis(pairs=len(pairs))
    bases: dict[tuple[str, str], str | None] = {}
    diffs: dict[tuple[str, str], dict[str, str]] = {}
    services: dict[str, Any] = {}
    selected = [
        (kind, detector)
        for kind in KINDS
        if kind in options.only and (detector := detectors.load(kind)) is not None
    ]

    def diff(base_tree: str, tree: str) -> dict[str, str]:
        if (base_tree, tree) not in diffs:
            diffs[base_tree, tree] = git.changed_paths(base_tree, tree, cwd=cwd, env=scratch.env)
        return diffs[base_tree, tree]

    for index, (left, right) in enumerate(pairs):
        if progress:
            progress(index, len(pairs), f"{left.name} ↔ {right.name}")
        result.changed_by.setdefault(left.name, set())
        result.changed_by.setdefault(right.name, set())
        key = tuple(sorted((left.head or "", right.head or "")))
        if key not in bases:
            both = left.head and right.head
            bases[key] = git.merge_base(left.head, right.head, cwd=cwd) if both else None
        base = bases[key]
        if base is None:
            result.without_base.append([left.name, right.name])
            continue
        base_tree = git.tree_of(base, cwd=cwd)
        left_changes, right_changes = diff(base_tree, left.tree), diff(base_tree, right.tree)
        result.changed_by[left.name].update(left_changes)
        result.changed_by[right.name].update(right_changes)
        meet = paths_can_meet(left_changes, right_changes)
        context = detectors.PairContext(
            pair=Pair(left, right, base),
            repo=repo,
            scratch=scratch,
            base_tree=base_tree,
            left_changes=left_changes,
            right_changes=right_changes,
            paths_meet=meet,
            config=options.config,
            services=services,
        )
        if not meet:
            # No merge simulation for this pair; semantic detectors may still look.
            result.skipped_disjoint += 1
            if not (_semantic_selected(options) and _both_parsable(left_changes, right_changes)):
                continue
        result.analysed += 1
        if meet and any(kind == "textual-conflict" for kind, _ in selected):
            result.merge_simulations += 1
        for _kind, detector in selected:
            result.findings.extend(detector(context))
    if progress:
        progress(len(pairs), len(pairs), "done")
    return result


def _semantic_selected(options: ScanOptions) -> bool:
    return any(k in options.only for k in detectors.DETECTOR_MODULES if k != "textual-conflict")


def _both_parsable(left: Mapping[str, str], right: Mapping[str, str]) -> bool:
    """Semantic drift needs source changes on both sides (a definition and a use)."""
    return any(frontend_for(p) for p in left) and any(frontend_for(p) for p in right)


def paths_can_meet(left: Mapping[str, str], right: Mapping[str, str]) -> bool:
    """False only when no git merge of these two change sets can conflict.

    Besides equal paths this covers file/directory clashes (a path on one side is a
    folder on the other) and directory renames (one side empties a folder the other
    side adds to).
    """
    if not left or not right:
        return False
    if left.keys() & right.keys():
        return True
    if _ancestors(left) & right.keys() or _ancestors(right) & left.keys():
        return True
    return _adds_into_emptied(left, right) or _adds_into_emptied(right, left)


def _ancestors(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent and parent not in found:
            found.add(parent)
            parent = posixpath.dirname(parent)
    return found


def _adds_into_emptied(deleter: Mapping[str, str], adder: Mapping[str, str]) -> bool:
    # Every folder above a deleted file may be a renamed one (with its subfolders).
    emptied = _ancestors(p for p, s in deleter.items() if s == "D")
    if not emptied:
        return False
    added = [p for p, s in adder.items() if s == "A"]
    return any(_ancestors([p]) & emptied for p in added)
