"""The v1 JSON document (schema: driftcheck/schema/driftcheck-v1.schema.json), and
the plan's (driftcheck/schema/driftcheck-plan-v1.schema.json).

Byte-for-byte deterministic for the same scan: findings are sorted with
`Finding.sort_key` rather than left in detector order, and keys keep the order the
model writes them in.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Set
from pathlib import PurePath
from typing import Any

from driftcheck.model import Finding, Plan, ScanResult
from driftcheck.report import fingerprints, ordered_findings


def render(result: ScanResult, *, color: bool = False) -> str:
    document = result.to_json()
    findings = ordered_findings(result)
    ids = finding_ids(findings)
    document["findings"] = [{**f.to_json(), "id": i} for f, i in zip(findings, ids, strict=True)]
    return dumps(document)


def finding_ids(findings: list[Finding]) -> list[str]:
    """Each finding's stable id: its SARIF fingerprint, short (a second finding with
    the same identity gets its occurrence mixed in there)."""
    return ["dc-" + digest[:16] for digest in fingerprints(findings)]


def render_plan(plan: Plan, *, color: bool = False) -> str:
    """The driftcheck/plan/v1 document (schema: driftcheck-plan-v1.schema.json)."""
    return dumps(plan.to_json())


def dumps(document: Mapping[str, Any]) -> str:
    """Indented JSON that tolerates the few non-JSON types details may carry."""
    return json.dumps(document, indent=2, sort_keys=False, default=_plain)


def _plain(value: Any) -> Any:
    # Detectors should hand over plain data; these keep a stray Path, enum or set
    # from turning a finished scan into a crash at the very last step.
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, Set):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable: {value!r}")
