"""Findings of a pair, cached for as long as nothing that decides them changes.

A pair's findings are a function of the merge base, both sides' state trees and
heads, the participants' names (findings quote them), the configuration, the
selected kinds and driftcheck's own code. The key holds all of these, so a warm
scan only analyses the pairs a new edit touched. The code is named by a hash of
driftcheck's sources (and the Python version, which the Python frontend parses
with), so an upgrade or a local change never reads an old answer.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from driftcheck.config import Config
from driftcheck.model import Finding, Participant

NAMESPACE = "pair"


@functools.cache
def code_fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def pair_key(
    left: Participant,
    right: Participant,
    base: str,
    base_tree: str,
    config: Config | None,
    kinds: Iterable[str],
    fork_points: Iterable[str] = (),
) -> str:
    """`fork_points`: where each side forked from the trunk (its own work is counted
    from there), when a trunk takes part."""
    sides = [(p.name, p.kind, p.head, p.tree, p.dirty) for p in (left, right)]
    settings = dataclasses.asdict(config) if config is not None else None
    described = json.dumps(
        [code_fingerprint(), base, base_tree, sides, sorted(kinds), settings, list(fork_points)],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(described.encode("utf-8", "surrogateescape")).hexdigest()


def distinct(findings: Iterable[Finding]) -> list[Finding]:
    """Findings without exact repeats. A finding about one side alone (DC303) is
    reported by the first pair that sees it; with some pairs answered from the
    cache, more than one pair may report it."""
    seen: set[tuple[Finding, str]] = set()
    out: list[Finding] = []
    for finding in findings:
        key = (finding, json.dumps(finding.details, sort_keys=True, default=str))
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out
