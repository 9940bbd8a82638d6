"""The key that names a finding stably across driftcheck versions.

`project|side|side|code|path|symbol`: the sides are "trunk" or a pull request's number,
sorted (trunk first, then by number). A single-participant finding (such as DC303) has
one side, and the trunk's own is `trunk@<window>`, since the trunk differs per window.
Messages, lines and participant names are left out: they may change between driftcheck
versions while the finding stays the same.
"""

from __future__ import annotations

from collections.abc import Mapping


def side_label(pr: int | None) -> str:
    return "trunk" if pr is None else str(pr)


def single_label(pr: int | None, window: str) -> str:
    """A single-participant finding's side: the trunk differs per window, so it says which."""
    return f"trunk@{window}" if pr is None else str(pr)


def _order(label: str) -> tuple[int, int]:
    if label == "trunk":
        return (0, 0)
    return (1, int(label)) if label.isdigit() else (2, 0)


def finding_key(project: str, labels: Mapping[str, str], finding: Mapping) -> str:
    """`labels` maps participant names to side labels ("trunk" or a PR number)."""
    names = finding.get("participants") or []
    sides = sorted({labels.get(name, name) for name in names}, key=_order)
    parts = [project, *sides, finding.get("code") or "", finding.get("path") or ""]
    parts.append(finding.get("symbol") or "")
    return "|".join(parts)
