"""Whether a stale use survives git's merge: the caller's file as git merges it still
names what the finding says is used. A use the removing side drops too, or one that
moved with a package renamed whole, is not stale.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from driftcheck.detectors.context import PairContext
from driftcheck.detectors.semantics import PairSemantics
from driftcheck.model import Finding
from driftcheck.symbols.languages import frontend_for


def use_survives(context: PairContext, semantics: PairSemantics, finding: Finding) -> bool:
    """Whether git's merge still names what the finding says is used: when the side
    that removes a symbol also drops its use, the merged file has no use left."""
    result = context.merge_result() if context.paths_meet else None
    if result is None or not result.tree or not finding.path or not finding.symbol:
        return True
    lines = semantics.index.lines(result.tree, finding.path)
    if lines:
        name = finding.symbol.rpartition(".")[2]
        return re.search(rf"\b{re.escape(name)}\b", "\n".join(lines)) is not None
    moved = renamed_file(context, finding)
    definition = finding.details.get("definition") or {}
    old_path = definition.get("path") if isinstance(definition, dict) else None
    frontend = frontend_for(old_path) if isinstance(old_path, str) else None
    if moved is None or frontend is None:
        return True  # git took the file away or it is unreadable: no evidence either way
    # The changer renamed the caller's file along with the symbol's module (a package
    # renamed whole): git carries the caller's edit into the renamed file, whose imports
    # the changer rewrote. The use is stale only where it still names the old module.
    module = frontend.module_name(old_path)
    text = "\n".join(semantics.index.lines(result.tree, moved))
    return re.search(rf"(?<![\w.]){re.escape(module)}\b", text) is not None


def renamed_file(context: PairContext, finding: Finding) -> str | None:
    """Where the changer renamed the caller's file to, where it deletes the old path:
    the one file of that name it adds, or, for a name many folders hold
    (`__init__.py`), the file of that name in the folder its other files of the old
    folder went to."""
    changer = finding.details.get("changed_by")
    left = context.pair.left.name == changer
    changes = context.left_changes if left else context.right_changes
    path = finding.path or ""
    if changes.get(path) != "D":
        return None
    added: dict[str, list[str]] = defaultdict(list)
    for other, status in changes.items():
        if status == "A":
            added[other.rpartition("/")[2]].append(other)
    folder, _, name = path.rpartition("/")
    if len(added[name]) == 1:
        return added[name][0]
    moves: Counter[str] = Counter()  # where the old folder's uniquely named files went
    for other, status in changes.items():
        old_folder, _, other_name = other.rpartition("/")
        if status == "D" and old_folder == folder and len(added[other_name]) == 1:
            moves[added[other_name][0].rpartition("/")[0]] += 1
    if len(moves) != 1:
        return None
    target = f"{next(iter(moves))}/{name}"
    return target if target in added[name] else None
