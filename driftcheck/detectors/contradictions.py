"""contradicting-edit: both sides change the same symbol in ways that disagree.

- DC401 (warning): both change the body of the same symbol, git merges the two edits
  cleanly, and the merged version is neither side's (one edit does not contain the
  other). Where git reports a conflict on those lines, the textual conflict says it.
- DC402 (error): one side deletes (or renames/moves) a symbol the other modifies, and
  git's merge confirms the modification is lost or orphaned (or conflicts there): an
  edit that git's rename detection carries into the new place is not reported.
- DC403 (error): both add the same qualified name with different definitions, and
  git's merge conflicts there or keeps both (in Python the later one silently wins).
  Definitions that differ only in annotations are not reported.

Every claim about the merge is checked against git's merged tree.
- DC404 (error): both set the same constant to different values where git's merge
  does not compose them: not where git conflicts on the line (the textual finding
  says it), not where the merged collection holds both sides' entries (`__all__`
  grown on one side and trimmed on the other), not for one type spelt two ways.

Each finding quotes what each side did (a short diff against the merge base, or the
new definition), so it can be acted on without opening the other worktree.

details: DC401 `textual_conflict` (true/false, null if not simulated), `left`/`right`
{participant, path, line, end_line, signature}, `left_change`/`right_change`,
`left_edit`/`right_edit` (diffs); DC402 `textual_conflict`, `change`, `removed_by`,
`modified_by`, `new_qualname`, `modified`, `modification` (diff); DC403 `textual_conflict`,
`left`/`right`, `left_definition`/`right_definition`; DC404 `values` {participant:
value} and `textual_conflict`.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterator

from driftcheck.detectors.context import PairContext
from driftcheck.detectors.contradiction_parts import (
    EXCERPT_LINES,
    both_kept_note,
    clip,
    finding,
    flat,
    kinds,
    merge_note,
    same,
    unannotated,
)
from driftcheck.detectors.edit_flow import EditFlow, edit_flow
from driftcheck.detectors.edit_lines import (
    additive,
    applied,
    composed,
    declares,
    entries,
    hunk_gap,
    hunk_header,
    hunks,
    inert,
    innermost,
    nested_spans,
    own_hunks,
)
from driftcheck.detectors.mechanical import follows_renames, rename_words
from driftcheck.detectors.semantics import PairSemantics, Side
from driftcheck.detectors.syntax_flow import syntax_edit_flow
from driftcheck.model import CONTRADICTING_EDIT, Finding, Severity
from driftcheck.symbols.changes import GONE, ORDER, SymbolChange
from driftcheck.symbols.table import Symbol
from driftcheck.symbols.types import type_spelling

_EDITS = ("body", "signature")
# Base lines between two edits that can still be one computation changed twice.
_NEAR = 3


def detect(context: PairContext) -> Iterator[Finding]:
    semantics = context.semantics()
    if semantics is None:
        return
    judge = _Judge(context, semantics)
    right = _primary(semantics.right)
    for qualname, lc in _primary(semantics.left).items():
        rc = right.get(qualname)
        if rc is None:
            continue
        found = judge.judge(lc, rc)
        if found is not None and not _ignored(lc, rc):
            yield found


def _primary(side: Side) -> dict[str, SymbolChange]:
    """One change per qualname: the most telling one (gone > re-signed > body)."""
    out: dict[str, SymbolChange] = {}
    for change in side.changes:
        held = out.get(change.qualname)
        if held is None or ORDER[change.kind] < ORDER[held.kind]:
            out[change.qualname] = change
    return out


def _ignored(*changes: SymbolChange) -> bool:
    symbols = [s for c in changes for s in (c.before, c.after) if s is not None]
    return any(s.ignores(CONTRADICTING_EDIT) for s in symbols)


def _overlaps(span: tuple[int, int] | None, symbol: Symbol) -> bool:
    return span is not None and span[0] <= symbol.end_line and symbol.start_line <= span[1]


class _Judge:
    def __init__(self, context: PairContext, semantics: PairSemantics) -> None:
        self.context = context
        self.semantics = semantics
        self.left, self.right = semantics.left, semantics.right
        self._words: dict[str, dict[str, str]] = {}

    # -- what git says ------------------------------------------------------------

    def conflicts(self, a: Symbol | None, b: Symbol | None) -> bool | None:
        """Whether git's conflicts touch `a` (left's lines) or `b` (right's lines)."""
        result = self.context.merge_result()
        if result is None:
            return None
        paths = {s.path for s in (a, b) if s is not None}
        for conflict in result.conflicts:
            if conflict.path not in paths:
                continue
            if not conflict.hunks:
                return True  # modify/delete, binary, ...: the whole file conflicts
            for hunk in conflict.hunks:
                if (a is not None and _overlaps(hunk.left, a)) or (
                    b is not None and _overlaps(hunk.right, b)
                ):
                    return True
        return False

    def merged_text(self, path: str) -> str | None:
        """`path` as git's merge has it; None when there is no merged tree (or no file)."""
        tree = self.context.merged_tree()
        lines = self.semantics.index.lines(tree, path) if tree else []
        return "\n".join(lines) if lines else None

    def merged_has(self, path: str) -> bool:
        tree = self.context.merged_tree()
        return tree is None or path in self.semantics.index.blob_ids(tree, [path])

    def merged_symbol(self, path: str, qualname: str) -> tuple[bool, Symbol | None]:
        """(known, what git's merge defines as `qualname` in `path`); known is False
        when there is no merged tree or the merged file does not parse."""
        tree = self.context.merged_tree()
        if tree is None:
            return False, None
        if not self.merged_has(path):
            return True, None  # the merge has no such file (git moved or deleted it)
        table = self.semantics.index.tables(tree, [path]).get(path)
        if table is None or table.parse_error:
            return False, None
        return True, table.get(qualname)

    # -- the cases ----------------------------------------------------------------

    def judge(self, lc: SymbolChange, rc: SymbolChange) -> Finding | None:
        if lc.kind == "added" and rc.kind == "added":
            return self._both_added(lc, rc)
        if lc.kind in _EDITS and rc.kind in _EDITS:
            return self._both_edited(lc, rc)
        if lc.kind in GONE and rc.kind in _EDITS:
            return self._gone_vs_edited(lc, rc, self.left, self.right)
        if rc.kind in GONE and lc.kind in _EDITS:
            return self._gone_vs_edited(rc, lc, self.right, self.left)
        return None

    def _both_added(self, lc: SymbolChange, rc: SymbolChange) -> Finding | None:
        a, b = lc.after, rc.after
        if a is None or b is None or a.text_hash == b.text_hash:
            return None
        if a.kind == "constant" and b.kind == "constant":
            return self._constants(a, b, added=True)
        if a.fingerprint == b.fingerprint and unannotated(a) == unannotated(b):
            return None  # the same definition, formatted, documented or annotated differently
        textual = self.conflicts(a, b)
        if textual is False and not self._both_kept(a, b):
            return None  # git merged the two additions into one definition
        left, right = self.left.name, self.right.name
        return finding(
            "DC403",
            Severity.ERROR,
            (left, right),
            a,
            f"{left} and {right} both add {a.qualname} with different definitions "
            f"({a.path}:{a.start_line} and {b.path}:{b.start_line}); "
            f"{merge_note(textual, clean=both_kept_note(a.path))}"
            "; agree on one definition",
            {
                "textual_conflict": textual,
                "left": self._version(self.left, a),
                "right": self._version(self.right, b),
                "left_definition": self._quote(self.left, a),
                "right_definition": self._quote(self.right, b),
            },
        )

    def _both_edited(self, lc: SymbolChange, rc: SymbolChange) -> Finding | None:
        a, b = lc.after, rc.after
        if a is None or b is None:
            return None
        if a.kind == "constant" and b.kind == "constant":
            before = lc.before.value if lc.before is not None else None
            if additive(before, a.value, b.value):
                return None  # both only add entries (`__all__`, a registry): they compose
            return self._constants(a, b, added=False, before=before)
        if a.fingerprint == b.fingerprint and a.signature == b.signature:
            return None  # the same behaviour, written differently
        if a.kind == "class" and b.kind == "class":
            return None  # member-level changes are judged on the members themselves
        if self._mechanical(self.left, lc) or self._mechanical(self.right, rc):
            return None  # one edit only follows its side's renames: nothing to choose
        mine, theirs = self._touched(self.left, lc), self._touched(self.right, rc)
        if mine is not None and theirs is not None and not mine & theirs:
            return None  # different nested functions of one outer function
        textual = self.conflicts(a, b)
        if textual:
            return None  # git reports a conflict on these lines: the textual finding says it
        known, merged = self.merged_symbol(a.path, a.qualname)
        if known and merged is not None and (same(merged, a) or same(merged, b)):
            return None  # one edit contains the other: the merge is that side's version
        doubled = self._doubled(lc, rc, merged) if known and merged is not None else []
        if not doubled and not self._one_computation(lc, rc):
            return None
        left, right = self.left.name, self.right.name
        how = merge_note(textual)
        severity, what = Severity.WARNING, "compare both edits and keep one"
        if doubled:
            # Both declare the same name in different places: git keeps both copies.
            how = f"both add `{doubled[0]}` in different places, so git's merge has it twice"
            what, severity = "keep one copy", Severity.ERROR
        return finding(
            "DC401",
            severity,
            (left, right),
            a,
            f"{left} and {right} both change {a.qualname} differently "
            f"({a.path}:{a.start_line}); {how}; {what}",
            {
                "textual_conflict": textual,
                "left": self._version(self.left, a),
                "right": self._version(self.right, b),
                "left_change": kinds(self.left, a.qualname),
                "right_change": kinds(self.right, b.qualname),
                "left_edit": self._diff(self.left, lc),
                "right_edit": self._diff(self.right, rc),
            },
        )

    def _gone_vs_edited(
        self, gone: SymbolChange, edit: SymbolChange, remover: Side, editor: Side
    ) -> Finding | None:
        before, after = gone.before, edit.after
        if before is None or after is None or self._mechanical(editor, edit):
            return None  # an edit that only follows the editor's own renames loses nothing
        on_left = editor is self.left
        textual = self.conflicts(after if on_left else None, None if on_left else after)
        if (
            textual
            and gone.kind == "removed"
            and after.path not in self.semantics.index.blob_ids(remover.tree, [after.path])
        ):
            return None  # the file is deleted: git's modify/delete conflict says it all
        outcome = "git reports a conflict there" if textual else self._lost_in_merge(gone, after)
        if outcome is None:
            return None
        verb = {"removed": "deletes", "renamed": "renames", "moved": "moves"}[gone.kind]
        where = f" to {gone.new_qualname}" if gone.new_qualname else ""
        fix = (
            f"apply the change to {gone.new_qualname} instead"
            if gone.new_qualname
            else "keep the symbol or drop the modification"
        )
        return finding(
            "DC402",
            Severity.ERROR,
            (editor.name, remover.name),
            after,
            f"{remover.name} {verb} {before.qualname}{where} while {editor.name} modifies it "
            f"({after.path}:{after.start_line}); {outcome}: {fix}",
            {
                "textual_conflict": bool(textual),
                "change": gone.kind,
                "removed_by": remover.name,
                "modified_by": editor.name,
                "new_qualname": gone.new_qualname,
                "modified": self._version(editor, after),
                "modification": self._diff(editor, edit),
            },
        )

    def _both_kept(self, a: Symbol, b: Symbol) -> bool:
        """Whether git's merged file holds both sides' definitions (unknown: True)."""
        merged = self.merged_text(a.path)
        if merged is None:
            return True
        texts = [
            self.semantics.index.definition_text(side.tree, symbol, limit=10_000)
            for side, symbol in ((self.left, a), (self.right, b))
        ]
        merged_flat = flat(merged)
        return all(flat(text) in merged_flat for text in texts)

    def _lost_in_merge(self, gone: SymbolChange, edited: Symbol) -> str | None:
        """What git's clean merge does with the edit to a symbol the other side
        deleted, renamed or moved, as the message says it; None when nothing is lost:
        git's rename detection carried the edit into the new place."""
        known, old = self.merged_symbol(edited.path, edited.qualname)
        if not known:
            return "the modification would be lost or orphaned"
        if not self.merged_has(edited.path):
            # git took the file away: a modify/delete conflict (reported as textual) or
            # a rename that carries the edit along, never a silent drop
            return None
        if gone.after is None:  # deleted: lost unless the merge kept it
            return "git's merge would drop the modification" if old is None else None
        if old is not None:
            return "git's merge would keep the modified old version beside the new one"
        moved, new = self.merged_symbol(gone.after.path, gone.after.qualname)
        if not moved:
            return None  # git's merged file is unreadable (its conflict is reported)
        if new is None or same(new, gone.after):
            return "git's merge would drop the modification"
        return None  # the merged new version differs from the remover's: the edit came along

    def _constants(
        self, a: Symbol, b: Symbol, *, added: bool, before: str | None = None
    ) -> Finding | None:
        if a.value == b.value or type_spelling(a.value) == type_spelling(b.value):
            return None  # equal, or the same type written two ways (`Dict[str, X]`, `dict[...]`)
        textual = self.conflicts(a, b)
        if textual:
            return None  # git reports a conflict on these lines: the textual finding says it
        known, merged = self.merged_symbol(a.path, a.qualname)
        if known and merged is not None:
            if merged.value in (a.value, b.value):
                return None  # one change contains the other
            if entries(merged.value) is None or composed(before, a.value, b.value, merged.value):
                # Different lines of one value, merged: a text or a call composes line
                # by line, a collection when it holds both sides' entries.
                return None
        left, right = self.left.name, self.right.name
        verb = "add" if added else "set"
        return finding(
            "DC404",
            Severity.ERROR,
            (left, right),
            a,
            f"{left} and {right} both {verb} {a.qualname} to different values: "
            f"{a.value} vs {b.value}; agree on one value",
            {"values": {left: a.value, right: b.value}, "textual_conflict": textual},
        )

    # -- quoting ------------------------------------------------------------------

    def _version(self, side: Side, symbol: Symbol) -> dict[str, object]:
        return {
            "participant": side.name,
            "path": symbol.path,
            "line": symbol.start_line,
            "end_line": symbol.end_line,
            "signature": symbol.signature.render() if symbol.signature else None,
        }

    def _quote(self, side: Side, symbol: Symbol) -> str:
        return self.semantics.index.definition_text(side.tree, symbol, EXCERPT_LINES)

    def _snippets(self, side: Side, change: SymbolChange) -> tuple[list[str], list[str]]:
        """The symbol's lines at the base and on `side`."""
        before, after = change.before, change.after
        if before is None or after is None:
            return [], []
        index = self.semantics.index
        old = index.lines(self.semantics.base_tree, before.path)
        new = index.lines(side.tree, after.path)
        return (
            old[before.start_line - 1 : before.end_line],
            new[after.start_line - 1 : after.end_line],
        )

    def _mechanical(self, side: Side, change: SymbolChange) -> bool:
        """Whether `side`'s edit of the symbol only applies its own renames (of files
        and symbols) to it."""
        words = self._words.get(side.name)
        if words is None:
            renamed = [(c.qualname, c.new_qualname) for c in side.changes if c.new_qualname]
            words = rename_words(self.context.file_renames(side.name), renamed)
            self._words[side.name] = words
        return bool(words) and follows_renames(*self._snippets(side, change), words)

    def _touched(self, side: Side, change: SymbolChange) -> set[tuple[int, int]] | None:
        """Which nested definitions of a Python symbol `side`'s edit falls in, as spans
        of the base snippet ((0, 0): the symbol's own statements); None if unknown."""
        if change.before is None or not change.before.path.endswith(".py"):
            return None
        old, new = self._snippets(side, change)
        spans = nested_spans(old)
        if spans is None:
            return None
        touched: set[tuple[int, int]] = set()
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal" or all(inert(line) for line in old[i1:i2] + new[j1:j2]):
                continue
            # A pure insertion sits between base lines i1 and i1 + 1.
            positions = range(i1 + 1, i2 + 1) if i2 > i1 else [i1 + 0.5]
            touched.update(innermost(spans, float(line)) for line in positions)
        return touched

    def _one_computation(self, lc: SymbolChange, rc: SymbolChange) -> bool:
        """Whether two clean-merging edits of one function change one computation:
        data flows between them, a few lines apart (the same off-by-one fixed twice).
        Hunks both make identically are set aside first (a backport). Edits farther
        apart, or linked only by a shared guard or call, were independent changes on
        real code (bench/realworld: 2 of 28 judged worth a look)."""
        base, mine = self._snippets(self.left, lc)
        theirs = self._snippets(self.right, rc)[1]
        own_mine, own_theirs = own_hunks(hunks(base, mine), hunks(base, theirs))
        gap = hunk_gap(own_mine, own_theirs)  # None: one edit is all in the other
        if gap is None or gap > _NEAR:
            return False
        mine_flow = self._flow(lc, base, applied(base, own_mine))
        their_flow = self._flow(rc, base, applied(base, own_theirs))
        return mine_flow is not None and their_flow is not None and mine_flow.exchanges(their_flow)

    def _doubled(self, lc: SymbolChange, rc: SymbolChange, merged: Symbol) -> list[str]:
        """Declarations both sides add, each once, that git's merge holds twice or more
        (a name declared twice). Other repeated lines (`default=False,` in two calls)
        are ordinary."""
        tree = self.context.merged_tree()
        if tree is None:
            return []
        lines = self.semantics.index.lines(tree, merged.path)
        body = Counter(" ".join(x.split()) for x in lines[merged.start_line - 1 : merged.end_line])
        added = []
        for side, change in ((self.left, lc), (self.right, rc)):
            old, new = self._snippets(side, change)
            before, after = (
                Counter(" ".join(x.split()) for x in old),
                Counter(" ".join(x.split()) for x in new),
            )
            added.append({x for x, n in (after - before).items() if n == 1 and not inert(x)})
        both = added[0] & added[1]
        return sorted(x for x in both if body[x] >= 2 and len(x) > 8 and declares(x))

    def _flow(self, change: SymbolChange, old: list[str], new: list[str]) -> EditFlow | None:
        """What an edit of a definition, from its base lines `old` to `new`, reads,
        writes and guards."""
        before = change.before
        if before is None or not old or not new:
            return None
        if before.path.endswith(".py"):
            return edit_flow(old, new)
        # tree-sitter reads whole files: the base file with this version in place
        lines = self.semantics.index.lines(self.semantics.base_tree, before.path)
        start, end = before.start_line, before.end_line
        edited = lines[: start - 1] + new + lines[end:]
        return syntax_edit_flow(
            before.path, lines, (start, end), edited, (start, start + len(new) - 1)
        )

    def _diff(self, side: Side, change: SymbolChange) -> str:
        """What `side` did to the symbol, as a short unified diff against the base."""
        before, after = change.before, change.after
        if before is None or after is None:
            return ""
        old, new = self._snippets(side, change)
        diff = difflib.unified_diff(old, new, "base", side.name, n=1, lineterm="")
        shift = (before.start_line - 1, after.start_line - 1)
        lines = [hunk_header(line, shift) for line in diff]
        return clip([line for line in lines if not line.startswith(("---", "+++"))])
