"""`driftcheck merge-reports`: the shards' JSON reports read back as one scan result.

Each shard of `scan --shard K/N` analyses a disjoint share of the same enumerated
pairs, so the union of their findings (without the repeats of a one-sided finding,
DC303, that two shards both saw) is the unsharded scan's. Counters that are per
pair add up; what every shard counts alike (participants, pairs enumerated and
pruned) is taken once and must agree; `elapsed_ms` is the longest shard's.

A shard that planned only its own pairs (`stats.shard.plan` is "local") counts its
part of the enumerated and pruned pairs, and lists its participants' changed paths,
syntax errors and too-large files: those add up, or are united, here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from driftcheck.errors import UsageError
from driftcheck.model import SCHEMA, Finding, Participant, ScanResult, Severity
from driftcheck.report.syntax import warning_lines

# Per-pair counters: each shard counts its own pairs.
_SUMMED = (
    "pairs_analysed",
    "pairs_skipped_disjoint",
    "merge_simulations",
    "pairs_from_cache",
)
# Counted alike by every shard.
_SHARED = ("participants", "pairs", "pairs_enumerated", "pairs_pruned", "skipped_participants")


def load_report(path: str) -> dict[str, Any]:
    """One shard's `--format json` report; anything else is a one-line usage error."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not a driftcheck JSON report (not JSON)") from exc
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise UsageError(f"{path}: not a driftcheck JSON report (schema is not {SCHEMA})")
    for key, kind in (("participants", list), ("findings", list), ("stats", dict)):
        if not isinstance(document.get(key), kind):
            raise UsageError(f"{path}: not a driftcheck JSON report (no {key})")
    return document


def merge_reports(paths: Iterable[str]) -> ScanResult:
    """The shards' reports as one result; missing, repeated or foreign shards are
    usage errors (a merged report that silently lacks a shard would look clean)."""
    documents = [(path, load_report(path)) for path in paths]
    if not documents:
        raise UsageError("merge-reports needs at least one report")
    shards: dict[int, str] = {}
    count, state = None, None
    for path, document in documents:
        shard = document["stats"].get("shard")
        if not isinstance(shard, dict):
            if len(documents) == 1:
                continue  # one unsharded report: merged, it is itself
            raise UsageError(f"{path}: not a shard's report (scan it with --shard K/N)")
        index, its_count, its_state = shard.get("index"), shard.get("count"), shard.get("state")
        if count is None:
            count, state = its_count, its_state
        if its_count != count or its_state != state:
            raise UsageError(f"{path}: a shard of another scan (shard {index}/{its_count})")
        if index in shards:
            raise UsageError(f"{path}: shard {index}/{count} again (also {shards[index]})")
        shards[index] = path
    if count is not None:
        missing = [str(k) for k in range(1, count + 1) if k not in shards]
        if missing:
            raise UsageError(f"shards missing: {', '.join(missing)} of {count}")
    local = count is not None and all(
        d["stats"]["shard"].get("plan") == "local" for _, d in documents
    )
    for key in _SHARED:
        if local and key in ("pairs_enumerated", "pairs_pruned"):
            continue
        values = {json.dumps(d["stats"].get(key), sort_keys=True) for _, d in documents}
        if len(values) > 1:
            raise UsageError(f"the shards disagree on stats.{key}: not shards of one scan")
    try:
        merged = _merged([d for _, d in documents])
        if local:
            _unite_local([d for _, d in documents], merged)
        return merged
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UsageError(
            f"not a driftcheck JSON report: a finding or participant lacks {exc}"
        ) from exc


def _merged(documents: list[dict[str, Any]]) -> ScanResult:
    first = documents[0]
    participants = [_participant(p) for p in first["participants"]]
    findings: list[Finding] = []
    seen: set[tuple[Finding, str]] = set()
    for document in documents:
        for raw in document["findings"]:
            finding = _finding(raw)
            key = (finding, json.dumps(finding.details, sort_keys=True, default=str))
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    stats = {k: v for k, v in first["stats"].items() if k != "shard"}
    for key in _SUMMED:
        if key in stats:
            stats[key] = sum(d["stats"].get(key, 0) for d in documents)
    stats["pairs_without_merge_base"] = sorted(
        pair for d in documents for pair in d["stats"].get("pairs_without_merge_base", [])
    )
    stats["elapsed_ms"] = max(d["stats"].get("elapsed_ms", 0) for d in documents)
    verify = [d["stats"]["verify"] for d in documents if isinstance(d["stats"].get("verify"), dict)]
    if verify:
        stats["verify"] = _sum_counts(verify)
    return ScanResult(
        repo=str(first.get("repo", "")),
        trunk=first.get("trunk"),
        participants=participants,
        findings=sorted(findings, key=Finding.sort_key),
        stats=stats,
        changed_paths={p["name"]: int(p.get("changed_paths", 0)) for p in first["participants"]},
        warnings=list(first.get("warnings", [])),
    )


def _unite_local(documents: list[dict[str, Any]], merged: ScanResult) -> None:
    """What each local-plan shard saw of the participants, as one scan saw it all."""
    stats = merged.stats
    for key in ("pairs_enumerated", "pairs_pruned"):
        stats[key] = sum(int(d["stats"].get(key, 0)) for d in documents)
    too_large: dict[str, int] = {}
    changed: dict[str, set[str]] = {}
    errors: set[tuple[str, str, str | None]] = set()
    for document in documents:
        for entry in document["stats"].get("files_too_large", []):
            too_large[str(entry["path"])] = int(entry["bytes"])
        shard = document["stats"]["shard"]
        for name, paths in shard.get("changed_paths", {}).items():
            changed.setdefault(str(name), set()).update(map(str, paths))
        for name, path, line in shard.get("syntax_errors", []):
            errors.add((str(name), str(path), None if line is None else str(line)))
    stats["files_too_large"] = [{"path": p, "bytes": b} for p, b in sorted(too_large.items())]
    merged.changed_paths = {name: len(paths) for name, paths in changed.items()}
    order = {p.name: n for n, p in enumerate(merged.participants)}
    ranked = sorted(errors, key=lambda e: (order.get(e[0], len(order)), e[0], e[1]))
    first = documents[0]
    discovered = list(first.get("warnings", []))[
        : int(first["stats"]["shard"].get("discovery_warnings", 0))
    ]
    merged.warnings = [*discovered, *warning_lines(ranked)]


def _sum_counts(stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Numbers add up, anything else is the first shard's."""
    out: dict[str, Any] = dict(stats[0])
    for key, value in stats[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = sum(s.get(key, 0) for s in stats)
    return out


def _participant(raw: dict[str, Any]) -> Participant:
    return Participant(
        name=raw["name"],
        kind=raw["kind"],
        path=raw.get("path"),
        branch=raw.get("branch"),
        head=raw.get("head"),
        tree="",  # reporters never read it
        state_commit=None,
        dirty=bool(raw.get("dirty")),
        ref=raw.get("ref"),
        detached=bool(raw.get("detached")),
        locked=bool(raw.get("locked")),
    )


def _finding(raw: dict[str, Any]) -> Finding:
    return Finding(
        kind=raw["kind"],
        code=raw["code"],
        severity=Severity(raw["severity"]),
        participants=tuple(raw["participants"]),
        path=raw.get("path"),
        line=raw.get("line"),
        message=raw["message"],
        symbol=raw.get("symbol"),
        details=raw.get("details") or {},
    )
