"""The words of "reconcile first": what a person has to decide, per kind of finding.

A duplicate names every implementation to unify; a removal, rename or new
signature that another participant relies on names both sides and the two ways
out; contradicting edits name the symbol to settle; textual conflicts name the
files to resolve and who goes first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from driftcheck.model import CONTRADICTING_EDIT, DUPLICATE, STALE_CALLER, Finding

# A decision names this many problems in full; the rest are counted.
_SHOWN = 4


def decision(findings: Sequence[Finding]) -> str:
    """One paragraph: a sentence per problem, duplicates merged into one."""
    sentences: list[str] = []
    duplicates = [f for f in findings if f.kind == DUPLICATE]
    if duplicates:
        sentences.append(_unify(duplicates))
    seen: set[tuple[str, ...]] = set()
    for finding in findings:
        if finding.kind == DUPLICATE:
            continue
        sentence = _sentence(finding)
        key = (sentence,)
        if key not in seen:
            seen.add(key)
            sentences.append(sentence)
    shown = sentences[:_SHOWN]
    if len(sentences) > _SHOWN:
        shown.append(f"and {len(sentences) - _SHOWN} more (see the findings)")
    return "; ".join(shown)


def _unify(findings: Sequence[Finding]) -> str:
    """'unify the implementations of one thing: a adds discover_models
    (shop/discover.py:1), b adds find_models (...); keep one and drop the others'."""
    places: dict[str, list[str]] = {}
    for finding in findings:
        for location in _locations(finding):
            participant = str(location.get("participant") or "")
            symbol = str(location.get("symbol") or finding.symbol or "?").rpartition(".")[2]
            where = f"{symbol} ({location.get('path')}:{location.get('line')})"
            if participant and where not in places.setdefault(participant, []):
                places[participant].append(where)
    if not places:
        return _sentence(findings[0])
    listed = ", ".join(f"{who} adds {' and '.join(what)}" for who, what in places.items())
    count = len(places)
    return (
        f"unify {count} implementations of the same thing: {listed}; "
        "keep one, make the others use it and drop the rest"
    )


def _locations(finding: Finding) -> Iterable[dict[str, Any]]:
    found = finding.details.get("locations")
    if isinstance(found, list):
        return [loc for loc in found if isinstance(loc, dict)]
    return []


def _sentence(finding: Finding) -> str:
    at = f"{finding.path}:{finding.line}" if finding.path and finding.line else finding.path
    if finding.kind == STALE_CALLER:
        details = finding.details
        changer = str(details.get("changed_by") or "")
        caller = str(details.get("caller") or "")
        thing = str(details.get("removed_module") or finding.symbol or "a symbol")
        change = str(details.get("change") or "")
        if changer and caller:
            if details.get("removed_module") or change == "removed":
                return (
                    f"{changer} removes {thing}, which {caller} uses ({at}): decide whether "
                    f"it stays (then drop the removal from {changer}) or goes (then move "
                    f"{caller} off it)"
                )
            if change in ("renamed", "moved"):
                return (
                    f"{changer} {change[:-1]}s {thing}, which {caller} uses by its old name "
                    f"({at}): update {caller} to the new name, or keep the old one as an alias"
                )
            return (
                f"{changer} changes the signature of {thing}, which {caller} calls the old "
                f"way ({at}): update {caller}'s call, or keep the old signature working"
            )
    if finding.kind == CONTRADICTING_EDIT:
        names = " and ".join(dict.fromkeys(finding.participants))
        what = finding.symbol or at or "the same code"
        return f"{names} change {what} in ways that contradict ({finding.code}): keep one version"
    return f"{finding.message} ({finding.code})"


def rebase_after(
    waiting: str, first: Sequence[tuple[str, int | None]], findings: Sequence[Finding]
) -> str:
    """'after a merges (step 1), rebase b onto it and resolve the conflicts in x.py'."""
    paths = sorted({f.path for f in findings if f.path})
    files = ", ".join(paths[:_SHOWN]) + (
        f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else ""
    )
    before = " and ".join(
        f"{name} merges (step {step})" if step is not None else f"{name} merges"
        for name, step in first
    )
    return f"after {before}, rebase {waiting} onto the trunk and resolve the conflicts in {files}"


def rebase_on_trunk(waiting: str, trunk: str, findings: Sequence[Finding]) -> str:
    files = ", ".join(sorted({f.path for f in findings if f.path})[:_SHOWN]) or "its files"
    return (
        f"{waiting} conflicts with the trunk {trunk} in {files}: "
        f"rebase it onto {trunk} and resolve the conflicts"
    )


def pushes_first(worktree: str, pr: str) -> str:
    return (
        f"{worktree} has uncommitted work that its pull request {pr} lacks: commit and push "
        f"it to {pr} before {pr} merges, or drop it"
    )


def waits_on(dependent: str, needs: dict[str, Sequence[str]]) -> str:
    parts = [f"{', '.join(symbols[:3])} from {provider}" for provider, symbols in needs.items()]
    providers = " and ".join(needs)
    return (
        f"{dependent} uses {'; '.join(parts)}: it can merge only after {providers}, "
        "which must be reconciled first"
    )
