"""Whether a stale use survives git's merge: the caller's file as git merges it still
names what the finding says is used. A use the removing side drops too, or one that
moved with a package renamed whole, is not stale; one that stands only inside a
conflict block is the textual conflict's to settle (bench/realworld: black's package
rename, where every such use restated git's conflict on the import block).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Mapping

from driftcheck.detectors.context import PairContext
from driftcheck.detectors.semantics import PairSemantics
from driftcheck.model import Finding
from driftcheck.symbols.languages import frontend_for
from driftcheck.workspace.merge import in_conflicts, outside_conflicts


def use_survives(context: PairContext, semantics: PairSemantics, finding: Finding) -> bool:
    """Whether git's merge still names what the finding says is used: when the side
    that removes a symbol also drops its use, the merged file has no use left; when
    it renames the symbol's module with its users' imports (a package renamed whole),
    a use is stale only where it still names the old module."""
    tree = context.merged_tree()
    if tree is None or not finding.path or not finding.symbol:
        return True
    path: str | None = finding.path
    lines = semantics.index.lines(tree, path)
    moved_along = not lines
    if moved_along:
        # git carries the caller's edit into the file the changer renamed it to
        path = _renamed_file(context, finding)
        if path is not None and _moved_into(finding, path):
            return False  # a use in the symbol's own module, which moved as one file
        lines = semantics.index.lines(tree, path) if path else []
        if not lines:
            return True  # git took the file away or it is unreadable: no evidence
    clean = _clean_uses(context, semantics, finding, lines)
    if clean is not None and not clean:
        return False  # git rewrote every use line, or left each inside a conflict block
    text = "\n".join(outside_conflicts(lines))
    name = finding.symbol.rpartition(".")[2]
    bare = re.search(rf"\b{re.escape(name)}\b", text) is not None
    module = _moved_module(context, finding)
    if module is None:
        return bare
    if bare and _new_name(finding) not in (None, name):
        return True  # the symbol itself was renamed: its old name is stale anywhere
    if clean is None or "/" in module:
        # a relative import in a file that moved with the package still resolves
        named = _names_module(text, module, relative=not moved_along)
        return named or _qualified(text, module, name)
    if any(
        _names_module(line, module, relative=False) or _qualified(line, module, name)
        for line in clean
    ):
        return True  # `black.nodes.x` or `black.Mode(...)` on a line git merged cleanly
    # A bare use is stale where a clean import still binds it from the old module.
    return _bound_from(text, module, name, _gone_modules(context, finding), moved_along)


def _clean_uses(
    context: PairContext, semantics: PairSemantics, finding: Finding, merged: list[str]
) -> list[str] | None:
    """The finding's use lines that reach git's merged file unchanged and outside
    every conflict block (None: unknown)."""
    caller = finding.details.get("caller")
    side = next((p for p in (context.pair.left, context.pair.right) if p.name == caller), None)
    uses = finding.details.get("lines") or [finding.line]
    mine = semantics.index.lines(side.tree, finding.path or "") if side is not None else []
    if not mine or not all(isinstance(n, int) for n in uses):
        return None
    wanted = {n - 1 for n in uses}
    conflicted = in_conflicts(merged)
    matcher = difflib.SequenceMatcher(None, mine, merged)
    clean = []
    for start, merged_start, size in matcher.get_matching_blocks():
        for n in wanted:
            if start <= n < start + size and not conflicted[merged_start + n - start]:
                clean.append(merged[merged_start + n - start])
    return clean


_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)


def _bound_from(text: str, module: str, name: str, gone: set[str], moved_along: bool) -> bool:
    """Whether a `from ... import` in `text` binds `name` from `module`, or from a
    package above it that is gone too (`from black import Mode`); a relative import
    of it counts only in a file that did not move with the package."""
    last = module.rpartition(".")[2]
    for found in _FROM_IMPORT.finditer(text):
        source, names = found.group(1), found.group(2)
        if not re.search(rf"\b{re.escape(name)}\b", names):
            continue
        if source.startswith("."):
            if not moved_along and source.rstrip(".").rpartition(".")[2] == last:
                return True
        elif source == module or (module.startswith(source + ".") and source in gone):
            return True
    return False


def _gone_modules(context: PairContext, finding: Finding) -> set[str]:
    """The modules whose files the changer deletes (or renames away)."""
    gone = set()
    for path, status in _changes_of_changer(context, finding).items():
        frontend = frontend_for(path) if status == "D" else None
        if frontend is not None:
            gone.add(frontend.module_name(path))
    return gone


def _new_name(finding: Finding) -> str | None:
    new = finding.details.get("new_qualname")
    return new.rpartition(".")[2] if isinstance(new, str) else None


def _qualified(text: str, module: str, name: str) -> bool:
    """Whether `text` reaches `name` through the old module's top package
    (`black.NothingChanged` for `black.report.NothingChanged`, re-exported)."""
    top = re.escape(re.split(r"[./]", module)[0])
    return re.search(rf"(?<![\w.]){top}(\.\w+)*\.{re.escape(name)}\b", text) is not None


def _moved_into(finding: Finding, renamed: str) -> bool:
    """The use sits in the file that defined the symbol, and the symbol went where
    that file went under its own name: the module was renamed whole, its own uses
    with it."""
    definition = finding.details.get("definition")
    location = finding.details.get("new_location")
    return (
        isinstance(definition, dict)
        and isinstance(location, dict)
        and definition.get("path") == finding.path
        and location.get("path") == renamed
        and _new_name(finding) in (None, (finding.symbol or "").rpartition(".")[2])
    )


def _names_module(text: str, module: str, *, relative: bool) -> bool:
    """Whether a file's text names `module`: by its dotted name or, when `relative`,
    by a relative Python import (`from .nodes import`) or in a quoted import path
    (`'./nodes'`, Go's `"example.com/app/nodes"`)."""
    named = re.escape(module)
    patterns = [rf"(?<![\w.]){named}\b"]
    if "/" not in module:
        # as code names a module: `black.nodes.x` or `import black`, not "black" in a comment
        patterns = [
            rf"(?<![\w.]){named}\.\w",
            rf"\bimport\s+(?:[\w.]+\s*,\s*)*{named}\b",
            rf"\bfrom\s+{named}\s+import\b",
        ]
    if any(re.search(pattern, text) for pattern in patterns):
        return True
    if not relative:
        return False
    last = re.escape(re.split(r"[./]", module)[-1])
    by_dots = rf"from\s+\.+(\w+\.)*{last}\b"
    quoted = rf"['\"][^'\"\n]*\b{last}(\.\w+)?['\"]"
    return bool(re.search(by_dots, text) or re.search(quoted, text))


def _moved_module(context: PairContext, finding: Finding) -> str | None:
    """The old module of the symbol, where the changer deleted its file (renamed or
    moved it away); None otherwise."""
    definition = finding.details.get("definition")
    old_path = definition.get("path") if isinstance(definition, dict) else None
    old_path = old_path or finding.details.get("removed_path")  # a module deleted
    frontend = frontend_for(old_path) if isinstance(old_path, str) else None
    if frontend is None or _changes_of_changer(context, finding).get(old_path or "") != "D":
        return None
    return frontend.module_name(old_path or "")


def _changes_of_changer(context: PairContext, finding: Finding) -> Mapping[str, str]:
    left = context.pair.left.name == finding.details.get("changed_by")
    return context.left_changes if left else context.right_changes


def _renamed_file(context: PairContext, finding: Finding) -> str | None:
    """Where the changer renamed the caller's file to, where it deletes the old path:
    the one file of that name it adds, or, for a name many folders hold
    (`__init__.py`), the file of that name in the folder its other files of the old
    folder went to."""
    changes = _changes_of_changer(context, finding)
    path = finding.path or ""
    if changes.get(path) != "D":
        return None
    changer = finding.details.get("changed_by")
    renamed = context.file_renames(changer).get(path) if isinstance(changer, str) else None
    if renamed is not None:
        return renamed
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


def say_renamed_module(context: PairContext, finding: Finding) -> Finding:
    """A module "deleted" that git's rename detection pairs with a new file was
    renamed (a package renamed whole): say where it went, and what to use instead."""
    deleted, changer = finding.details.get("removed_path"), finding.details.get("changed_by")
    if not isinstance(deleted, str) or not isinstance(changer, str):
        return finding
    new_path = context.file_renames(changer).get(deleted)
    frontend = frontend_for(new_path) if new_path else None
    old_module = finding.details.get("removed_module")
    if new_path is None or frontend is None or not isinstance(old_module, str):
        return finding
    new_module = frontend.module_name(new_path)
    head, _, _ = finding.message.partition(f", but {changer} deletes ")
    message = (
        f"{head}, but {changer} renames {deleted} to {new_path} (module {old_module} "
        f"becomes {new_module}); use {new_module} instead"
    )
    details = {**finding.details, "new_path": new_path, "new_module": new_module}
    return dataclasses.replace(finding, message=message, details=details)
