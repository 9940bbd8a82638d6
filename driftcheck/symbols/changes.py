"""Classify what changed between two symbol tables (base -> state).

Works on qualnames and fingerprints only, so it is language-neutral. Fingerprints
ignore local renames, docstrings and comments, so such edits are not changes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from driftcheck.symbols.similarity import similarity, size_bound
from driftcheck.symbols.table import POSITIONAL, ModuleSymbols, Signature, Symbol

ChangeKind = Literal["added", "removed", "signature", "body", "renamed", "moved"]
# Most telling first: a symbol gone outranks a new signature, which outranks a body edit.
ORDER = {"removed": 0, "renamed": 1, "moved": 2, "signature": 3, "body": 4, "added": 5}
GONE = ("removed", "renamed", "moved")
# A body this small (e.g. `return self.x`) is too common to identify a rename/move.
TRIVIAL_TOKENS = 10
# A rename that also edits the body: the old and new bodies must be this alike.
EDITED_RENAME_SIMILARITY = 0.6
# Beyond this many comparisons in one place (a file rewritten), edited renames are
# not looked for: the symbols stay removed and added.
_EDITED_RENAME_BUDGET = 400


@dataclass(frozen=True)
class SymbolChange:
    """One change to one symbol. `new_qualname` is set for renamed/moved symbols
    (and signature changes that come with them); `compatible` only for "signature"."""

    kind: ChangeKind
    qualname: str
    before: Symbol | None
    after: Symbol | None
    new_qualname: str | None = None
    compatible: bool | None = None

    @property
    def path(self) -> str:
        sym = self.after or self.before
        assert sym is not None
        return sym.path


def is_trivial(sym: Symbol) -> bool:
    return sym.body_size <= 1 and len(sym.body_tokens) < TRIVIAL_TOKENS


def signature_compatible(old: Signature, new: Signature) -> bool:
    """True when every call that binds to `old` also binds to `new` the same way.

    Compatible: new optional params (defaulted, `*args`, `**kwargs`, defaulted
    keyword-only), a default added, positional-only -> positional-or-keyword.
    Incompatible: removed/renamed/reordered params, new required params, a default
    removed, a parameter that stops accepting keywords or positions.
    """
    new_pos = [p for p in new.params if p.kind in POSITIONAL]
    new_by_name = {p.name: p for p in new.params}
    new_kinds = {p.kind for p in new.params}
    old_names = set()
    index = 0
    for p in old.params:
        old_names.add(p.name)
        if p.kind in ("var_positional", "var_keyword"):
            if p.kind not in new_kinds:
                return False
            continue
        if p.kind in POSITIONAL:
            if index >= len(new_pos):
                return False
            target = new_pos[index]
            index += 1
            # Keyword callers need the same name, still accepting keywords.
            if p.kind == "positional" and (target.name != p.name or target.kind != "positional"):
                return False
        else:
            target = new_by_name.get(p.name)  # type: ignore[assignment]
            if target is None or target.kind not in ("positional", "keyword_only"):
                return False
        if p.has_default and not target.has_default:
            return False
    return not any(p.required for p in new.params if p.name not in old_names)


def classify_changes(
    base: Mapping[str, ModuleSymbols], state: Mapping[str, ModuleSymbols]
) -> list[SymbolChange]:
    """Changes between two sets of tables (path -> table, changed files only).

    A path on one side only is a file added or deleted. Where one side failed to
    parse, symbols missing from it are not reported as added/removed: they are
    more likely unparsed than gone.
    """
    before = _index(base.values())
    after = _index(state.values())
    unsure_after = {p for p, t in state.items() if t.parse_error}
    unsure_before = {p for p, t in base.items() if t.parse_error}
    changes: list[SymbolChange] = []
    removed: list[Symbol] = []
    added: list[Symbol] = []
    for qualname, old in before.items():
        new = after.get(qualname)
        if new is not None and new.kind == old.kind:
            changes.extend(_compare(old, new))
            continue
        if old.path not in unsure_after:
            removed.append(old)
        if new is not None and new.path not in unsure_before:
            added.append(new)
    added.extend(s for q, s in after.items() if q not in before and s.path not in unsure_before)
    changes.extend(_match_moves(removed, added))
    changes.sort(key=lambda c: (c.qualname, ORDER[c.kind], c.new_qualname or ""))
    return changes


def _index(tables: Iterable[ModuleSymbols]) -> dict[str, Symbol]:
    out: dict[str, Symbol] = {}
    for table in sorted(tables, key=lambda t: t.path):
        for sym in table.symbols:
            out.setdefault(sym.qualname, sym)
    return out


def _signature_change(old: Symbol, new: Symbol) -> SymbolChange | None:
    if old.kind == "class":
        a, b = old.init_signature, new.init_signature
        if a is None or b is None or a == b:
            return None
        return _change("signature", old, new, compatible=signature_compatible(a, b))
    if old.signature is None or new.signature is None:
        return None
    same_binding = old.binding == new.binding and old.is_async == new.is_async
    if old.signature == new.signature and same_binding:
        return None
    compatible = same_binding and signature_compatible(old.signature, new.signature)
    return _change("signature", old, new, compatible=compatible)


def _change(
    kind: ChangeKind, old: Symbol | None, new: Symbol | None, *, compatible: bool | None = None
) -> SymbolChange:
    qualname = (old or new).qualname  # type: ignore[union-attr]
    renamed = old is not None and new is not None and old.qualname != new.qualname
    return SymbolChange(
        kind,
        qualname,
        old,
        new,
        new.qualname if renamed else None,
        compatible,  # type: ignore[union-attr]
    )


def _compare(old: Symbol, new: Symbol) -> list[SymbolChange]:
    out: list[SymbolChange] = []
    sig = _signature_change(old, new)
    if sig is not None:
        out.append(sig)
    if old.kind == "class":
        body_changed = old.own_fingerprint != new.own_fingerprint or old.bases != new.bases
    else:
        body_changed = old.fingerprint != new.fingerprint
    if body_changed:
        out.append(_change("body", old, new))
    return out


def _location(sym: Symbol) -> str:
    return sym.parent if sym.parent is not None else sym.module


def _match_moves(removed: list[Symbol], added: list[Symbol]) -> list[SymbolChange]:
    """Pair removed with added symbols of identical fingerprint: same name elsewhere
    is a move; a new name in the same place is a rename; a new name elsewhere is a
    move too (with `new_qualname`). Ambiguous pairings are left as removed/added."""
    pool: dict[tuple[str, str], list[Symbol]] = defaultdict(list)
    for sym in added:
        pool[(sym.kind, sym.fingerprint)].append(sym)
    gone = Counter((s.kind, s.fingerprint) for s in removed)
    taken: set[str] = set()
    out: list[SymbolChange] = []
    unmatched: list[Symbol] = []
    matches: list[tuple[Symbol, Symbol]] = []
    for old in sorted(removed, key=lambda s: s.qualname):
        pooled = pool.get((old.kind, old.fingerprint), [])
        candidates = [s for s in pooled if s.qualname not in taken]
        new = _pick(old, candidates, unique=gone[old.kind, old.fingerprint] == 1)
        if new is None:
            unmatched.append(old)
            continue
        taken.add(new.qualname)
        matches.append((old, new))
    left_over = [s for s in added if s.qualname not in taken]
    edited = _edited_renames(unmatched, left_over)
    taken.update(new.qualname for new in edited.values())
    followed = _follow_classes(
        [s for s in unmatched if s.qualname not in edited],
        [s for s in added if s.qualname not in taken],
        matches + [(o, edited[o.qualname]) for o in unmatched if o.qualname in edited],
    )
    edited.update(followed)
    taken.update(new.qualname for new in followed.values())
    for old in unmatched:
        if old.qualname in edited:
            matches.append((old, edited[old.qualname]))
        else:
            out.append(_change("removed", old, None))
    for old, new in sorted(matches, key=lambda m: m[0].qualname):
        kind: ChangeKind = "renamed" if _location(old) == _location(new) else "moved"
        out.append(_change(kind, old, new))
        sig = _signature_change(old, new)
        if sig is not None:
            out.append(sig)
    out.extend(_change("added", None, s) for s in added if s.qualname not in taken)
    return out


def _follow_classes(
    removed: list[Symbol], added: list[Symbol], matches: list[tuple[Symbol, Symbol]]
) -> dict[str, Symbol]:
    """A removed class whose matched members all went to one added class was renamed
    or moved to it, and its other members follow it under their own name, or with a
    leading underscore put on or taken off (`CallSpec2.setmulti` becomes
    `CallSpec._setmulti`), however much their bodies changed: old qualname -> new."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for old, new in matches:
        if old.parent is not None and new.parent is not None and old.parent != new.parent:
            votes[old.parent][new.parent] += 1
    gone = {s.qualname: s for s in removed}
    fresh = {s.qualname: s for s in added}
    classes = {
        old_class: new_class
        for old_class, counter in votes.items()
        if len(counter) == 1
        and (new_class := next(iter(counter))) in fresh
        and old_class in gone
        and gone[old_class].kind == fresh[new_class].kind == "class"
    }
    found = {old: fresh[new] for old, new in classes.items()}
    taken = set(classes.values())
    # classes matched already (renamed or moved as a whole) lead their members too
    classes.update((o.qualname, n.qualname) for o, n in matches if o.kind == n.kind == "class")
    for sym in removed:
        new_class = classes.get(sym.parent or "")
        if new_class is None:
            continue
        name = sym.name
        for candidate in (name, f"_{name}", name[1:] if name.startswith("_") else None):
            target = fresh.get(f"{new_class}.{candidate}") if candidate else None
            if target is not None and target.kind == sym.kind and target.qualname not in taken:
                found[sym.qualname] = target
                taken.add(target.qualname)
                break
    return found


def _edited_renames(removed: list[Symbol], added: list[Symbol]) -> dict[str, Symbol]:
    """Renames and moves that also edit the body: old qualname -> new symbol.

    A removed symbol and an added one pair up when they are of the same kind, either
    in the same place under a new name (renamed) or under the same name elsewhere
    (moved), their bodies are alike, and each is the other's only good match. A
    renamed `format_path` that also gained a line is then "renamed to
    `display_path`", not "removed"; anything less certain stays removed and added.
    """
    scores: dict[tuple[str, str], float] = {}
    by_place: dict[tuple[str, str], list[Symbol]] = defaultdict(list)
    by_name: dict[tuple[str, str], list[Symbol]] = defaultdict(list)
    for new in added:
        if new.kind in ("function", "method", "class") and not is_trivial(new):
            by_place[(new.kind, _location(new))].append(new)
            by_name[(new.kind, new.name)].append(new)
    olds = [s for s in removed if s.kind in ("function", "method", "class") and not is_trivial(s)]
    for index in (by_place, by_name):
        groups: dict[tuple[str, str], list[Symbol]] = defaultdict(list)
        for old in olds:
            groups[(old.kind, _location(old) if index is by_place else old.name)].append(old)
        for key, group in groups.items():
            candidates = index.get(key, [])
            if len(group) * len(candidates) > _EDITED_RENAME_BUDGET:
                continue
            for old in group:
                for new in candidates:
                    if size_bound(old.body_tokens, new.body_tokens) < EDITED_RENAME_SIMILARITY:
                        continue
                    score = similarity(old.body_tokens, new.body_tokens)
                    if score >= EDITED_RENAME_SIMILARITY:
                        scores[old.qualname, new.qualname] = score
    best_new = _best_partner(scores, side=0)
    best_old = _best_partner(scores, side=1)
    found: dict[str, Symbol] = {}
    by_qualname = {s.qualname: s for s in added}
    for old_name, new_name in best_new.items():
        if best_old.get(new_name) == old_name:
            found[old_name] = by_qualname[new_name]
    return found


def _best_partner(scores: dict[tuple[str, str], float], *, side: int) -> dict[str, str]:
    """For each symbol on `side` of the pairs, its partner when one clearly beats the
    others (ties are ambiguous: no partner)."""
    ranked: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for pair, score in scores.items():
        ranked[pair[side]].append((score, pair[1 - side]))
    best: dict[str, str] = {}
    for name, options in ranked.items():
        options.sort(reverse=True)
        if len(options) == 1 or options[0][0] - options[1][0] >= 0.05:
            best[name] = options[0][1]
    return best


def _pick(old: Symbol, candidates: list[Symbol], *, unique: bool) -> Symbol | None:
    same_name = [s for s in candidates if s.name == old.name]
    if same_name:
        return same_name[0] if len(same_name) == 1 else None
    same_place = [s for s in candidates if _location(s) == _location(old)]
    if old.kind == "constant":
        # A value says who it is when it is not a commonplace one (`None`, `0`, `[]`).
        if unique and len(candidates) == 1 and same_place and _telling_value(old.value):
            return same_place[0]
        return None
    if is_trivial(old):
        # A one-liner renamed in place is still a rename when nothing else could be
        # meant: the only removal and the only addition with that body, same
        # signature, and a body that uses something (not `return 1`).
        if unique and len(candidates) == 1 and same_place and _distinctive(old):
            new = same_place[0]
            return new if new.signature == old.signature else None
        return None
    tier = same_place or candidates
    return tier[0] if len(tier) == 1 else None


def _distinctive(sym: Symbol) -> bool:
    """The body mentions a parameter, an attribute or a global, not only constants."""
    return any(
        t.startswith(("$p", ".")) or (t[:1].islower() and not t.startswith(("c:", "c#")))
        for t in sym.body_tokens
    )


def _telling_value(value: str | None) -> bool:
    """A constant's value distinctive enough to follow it through a rename."""
    if value is None:
        return False
    text = value.strip()
    return len(text) >= 6 and text not in ("None", "True", "False", "[]", "{}", "()", '""', "''")
