"""DC202 (stale-caller): one side drops an import from a file in which the other
side's new code uses it.

Cleaning up an unused import and adding a use of it elsewhere in the same file
touch different lines, so git merges them, and the merged file uses a name nothing
binds any more (seen on chi: `ioutil` dropped on the trunk, `ioutil.ReadAll` added
in a pull request's new test). The claim is checked against git's merged file:
only a use the merge leaves unbound is reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftcheck.detectors.context import PairContext
from driftcheck.detectors.semantics import PairSemantics, Side
from driftcheck.model import STALE_CALLER, Finding, Severity
from driftcheck.symbols.graph import BASE
from driftcheck.symbols.table import ModuleSymbols, Reference

CODE = "DC202"


def lost_imports(context: PairContext, semantics: PairSemantics) -> Iterator[Finding]:
    for changer, caller in semantics.directions():
        for path in sorted(changer.tables.keys() & caller.tables.keys()):
            yield from _in_file(context, semantics, changer, caller, path)


def _in_file(
    context: PairContext, semantics: PairSemantics, changer: Side, caller: Side, path: str
) -> Iterator[Finding]:
    base = semantics.graph.module(participant=BASE, path=path)
    mine, theirs = changer.tables[path], caller.tables[path]
    if base is None or mine.parse_error or theirs.parse_error:
        return
    dropped = {n for n in base.imports if n not in mine.imports and not _defines(mine, n)}
    dropped &= theirs.imports.keys()  # the caller still has them (its code relies on them)
    if not dropped:
        return
    uses: dict[str, list[Reference]] = {}
    for ref_path, ref in caller.new_references:
        name = _root(ref)
        mine_here = ref_path == path and name in dropped and ref.kind != "import"
        if mine_here and not ref.ignores(STALE_CALLER):
            uses.setdefault(name, []).append(ref)
    if not uses:
        return
    merged = _merged_table(context, semantics, path)
    if merged is None or merged.star_imports:
        return  # unknown, or a star import may bind anything
    for name, refs in sorted(uses.items()):
        if name in merged.imports or _defines(merged, name):
            continue  # the merge binds it after all
        lines = sorted({r.line for r in refs})
        first = refs[0]
        where = f"{path}:{lines[0]}" if len(lines) == 1 else f"{path} (lines {_shown(lines)})"
        yield Finding(
            kind=STALE_CALLER,
            code=CODE,
            severity=Severity.ERROR,
            participants=(caller.name, changer.name),
            path=path,
            line=first.line,
            symbol=base.imports[name],
            message=(
                f"{caller.name} uses {name} in {where}, but {changer.name} removes its import "
                f"from {path}; git's merge keeps the use and drops the import: keep the "
                "import, or stop using it"
            ),
            details={
                "change": "removed",
                "changed_by": changer.name,
                "caller": caller.name,
                "removed_import": name,
                "import_target": base.imports[name],
                "call": first.text or first.target,
                "lines": lines,
            },
        )


def _root(ref: Reference) -> str:
    return ref.target.split("(", 1)[0].split(".", 1)[0]


def _defines(table: ModuleSymbols, name: str) -> bool:
    return table.get(f"{table.module}.{name}" if table.module else name) is not None


def _merged_table(
    context: PairContext, semantics: PairSemantics, path: str
) -> ModuleSymbols | None:
    tree = context.merged_tree()
    if tree is None:
        return None
    table = semantics.index.tables(tree, [path]).get(path)
    return table if table is not None and table.parse_error is None else None


def _shown(lines: list[int], most: int = 8) -> str:
    return ", ".join(map(str, lines[:most])) + (", …" if len(lines) > most else "")
