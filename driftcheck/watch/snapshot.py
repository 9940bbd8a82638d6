"""What the live view shows: one scan, with when each participant last changed,
and which findings are new since the view started.

A snapshot arrives either from the daemon (the scan's v1 JSON, rebuilt here) or
from a scan in the view's own process. The view never analyses: participants are
rebuilt without their trees, which only analysis needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from driftcheck.model import Finding, Participant, ScanResult, Severity
from driftcheck.report import involved

# The identity of a finding across scans: lines move as people type, so they do not
# count; a finding whose code, pair, place and symbol stay is the same finding.
FindingKey = tuple[str, tuple[str, ...], str, str]


@dataclass
class Snapshot:
    result: ScanResult
    analysed_at: float  # wall time the scan finished
    source: str  # "daemon" or "local"
    changed_at: dict[str, float] = field(default_factory=dict)  # participant -> last event
    claims: dict[str, list[str]] = field(default_factory=dict)  # participant -> claim lines
    unwatched: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.result.participants]

    def participant(self, name: str) -> Participant | None:
        return next((p for p in self.result.participants if p.name == name), None)


def finding_key(finding: Finding) -> FindingKey:
    where = finding.path or ""
    what = finding.symbol or (finding.message if not finding.path else "")
    return (finding.code, tuple(sorted(set(finding.participants))), where, what)


def from_result(
    result: ScanResult,
    *,
    analysed_at: float,
    source: str,
    changed_at_by_path: Mapping[str, float],
    unwatched: Iterable[str] = (),
) -> Snapshot:
    """A snapshot of `result`; events are keyed by worktree folder, shown by name."""
    changed = {
        p.name: changed_at_by_path[p.path]
        for p in result.participants
        if p.path and p.path in changed_at_by_path
    }
    return Snapshot(result, analysed_at, source, changed, unwatched=list(unwatched))


def from_daemon(payload: Mapping[str, Any]) -> Snapshot:
    """The daemon's `scan` answer (feed.py): the v1 result and the watcher's facts.
    ValueError when it is not that shape."""
    try:
        data = payload["result"]
        participants = [_participant(p) for p in data["participants"]]
        findings = [_finding(f) for f in data["findings"]]
        result = ScanResult(
            repo=str(data["repo"]),
            trunk=data.get("trunk"),
            participants=participants,
            findings=findings,
            stats=dict(data.get("stats") or {}),
            changed_paths={
                p["name"]: int(p.get("changed_paths") or 0) for p in data["participants"]
            },
            warnings=[str(w) for w in data.get("warnings") or []],
        )
        changed = {str(k): float(v) for k, v in (payload.get("changed_at") or {}).items()}
        return from_result(
            result,
            analysed_at=float(payload["analysed_at"]),
            source="daemon",
            changed_at_by_path=changed,
            unwatched=[str(u) for u in payload.get("unwatched") or []],
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a scan snapshot: {exc!r}") from exc


def _participant(data: Mapping[str, Any]) -> Participant:
    return Participant(
        name=str(data["name"]),
        kind="ref" if data["kind"] == "ref" else "worktree",
        path=data.get("path"),
        branch=data.get("branch"),
        head=data.get("head"),
        tree="",  # not sent: the view never analyses
        state_commit=None,
        dirty=bool(data.get("dirty")),
        ref=data.get("ref"),
        detached=bool(data.get("detached")),
        locked=bool(data.get("locked")),
    )


def _finding(data: Mapping[str, Any]) -> Finding:
    return Finding(
        kind=str(data["kind"]),
        code=str(data["code"]),
        severity=Severity(data["severity"]),
        participants=tuple(str(p) for p in data["participants"]),
        path=data.get("path"),
        line=data.get("line"),
        message=str(data["message"]),
        symbol=data.get("symbol"),
        details=dict(data.get("details") or {}),
    )


def claims_by_participant(
    participants: Iterable[Participant], claims: Iterable[tuple[str, str]]
) -> dict[str, list[str]]:
    """(owner worktree folder, one line) pairs, filed under the participant there."""
    names = {str(Path(p.path).resolve()): p.name for p in participants if p.path}
    found: dict[str, list[str]] = {}
    for folder, line in claims:
        name = names.get(folder)
        if name is not None:
            found.setdefault(name, []).append(line)
    return found


class Marks:
    """Which findings are new to the person watching, and since when each is known.

    The first snapshot is what the person starts from: nothing in it is new. A
    finding seen later is new until it has been shown to the person (highlighted
    in the list, or opened); a finding that goes away and comes back is new again.
    """

    def __init__(self) -> None:
        self.first_seen: dict[FindingKey, float] = {}
        self.unseen: set[FindingKey] = set()
        self.started = False

    def update(self, findings: Iterable[Finding], now: float) -> list[Finding]:
        """Take the current findings; returns them newest first."""
        current = {finding_key(f): f for f in findings}
        for key in list(self.first_seen):
            if key not in current:
                del self.first_seen[key]
                self.unseen.discard(key)
        for key in current:
            if key not in self.first_seen:
                self.first_seen[key] = now
                if self.started:
                    self.unseen.add(key)
        self.started = True
        return sorted(
            current.values(),
            key=lambda f: (-self.first_seen[finding_key(f)], f.sort_key()),
        )

    def is_new(self, finding: Finding) -> bool:
        return finding_key(finding) in self.unseen

    def seen(self, finding: Finding) -> None:
        self.unseen.discard(finding_key(finding))


@dataclass(frozen=True)
class Cell:
    count: int
    worst: Severity | None
    new: bool  # holds a finding the person has not seen yet


def matrix(result: ScanResult, marks: Marks) -> dict[tuple[str, str], Cell]:
    """Count, worst severity and newness per (row, column); symmetric, a finding of
    one participant alone on the diagonal (as report.pair_matrix counts)."""
    counts: dict[tuple[str, str], list[Finding]] = {}
    for finding in result.findings:
        names = involved(result, finding)
        cells = [(n, n) for n in names] if len(names) == 1 else []
        cells += [(r, c) for r in names for c in names if r != c]
        for cell in cells:
            counts.setdefault(cell, []).append(finding)
    return {
        cell: Cell(
            count=len(found),
            worst=max((f.severity for f in found), key=lambda s: s.rank),
            new=any(marks.is_new(f) for f in found),
        )
        for cell, found in counts.items()
    }
