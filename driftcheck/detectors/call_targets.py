"""What a new reference in the caller's code may mean: the qualnames it can bind to,
each with what its receiver is (an instance, the class itself, or none). Only matches
that are certain are made (imports, self/cls, Class(...), module.func, typed locals),
or a method name exactly one class defines; anything else means nothing.
"""

from __future__ import annotations

import builtins

from driftcheck.detectors.semantics import PairSemantics, Side
from driftcheck.symbols.graph import resolve_name
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.table import ModuleSymbols, Reference, Symbol
from driftcheck.symbols.tree_index import is_test_path

# Methods of builtin types: on a receiver of unknown type `x.get(...)` is far more
# likely a dict than the one class in the repository that defines `get`.
_BUILTIN_METHODS = frozenset(
    name
    for kind in (object, str, bytes, list, dict, set, frozenset, tuple, int, float, complex)
    for name in dir(kind)
) | frozenset(n for n in dir(builtins) if not n.startswith("_"))


def meanings(
    semantics: PairSemantics, caller: Side, path: str, ref: Reference
) -> list[tuple[str, str | None]]:
    """Qualnames `ref` may mean, each with what the receiver is.

    The receiver is "instance" (self, Class(...), an object), "class" (cls, Class)
    or None (a module or no receiver); it decides whether a call binds `self`/`cls`.
    """
    if ref.kind == "import":
        return [(ref.resolved or ref.target, None)]
    receiver = ref.receiver or ""
    table = caller.tables.get(path)
    if ref.resolved:
        found: list[tuple[str, str | None]] = []
        owner, _, name = ref.resolved.rpartition(".")
        klass = _class(semantics, caller, owner) if owner and receiver else None
        if klass is None:
            found.append((ref.resolved, None))
        else:
            kind = _receiver_kind(semantics, caller, table, ref, klass)
            found.append((ref.resolved, kind))
            inherited = semantics.find_method(caller, klass.qualname, name)
            inherited = inherited or semantics.find_method(None, klass.qualname, name)
            if inherited is not None and inherited.qualname != ref.resolved:
                found.append((inherited.qualname, kind))
        if ref.kind != "call":
            return found  # an annotation or a bare name constructs nothing
        # Calling a class runs its __init__, which binds `self` (and may be inherited).
        found.append((f"{ref.resolved}.__init__", "instance"))
        called = _class(semantics, caller, ref.resolved)
        init = semantics.find_method(caller, called.qualname, "__init__") if called else None
        if init is not None and init.qualname != f"{ref.resolved}.__init__":
            found.append((init.qualname, "instance"))
        return found
    if receiver.endswith("(...)") and table is not None and ref.name:
        cls = resolve_name(receiver[: -len("(...)")], table)
        return [(f"{cls}.{ref.name}", "instance")]
    if (
        receiver
        and ref.kind == "call"
        and ref.name
        and ref.name not in _BUILTIN_METHODS
        and semantics.index.method_definers(caller.tree, ref.name, path) == 1
    ):
        # Unknown receiver: only a method name with a single definer is certain.
        methods = _base_methods_named(semantics, ref.name, path)
        return [(s.qualname, "instance") for s in methods]
    return []


def _class(semantics: PairSemantics, caller: Side, qualname: str) -> Symbol | None:
    found = semantics.symbol(caller, qualname) or semantics.symbol(None, qualname)
    return found if found is not None and found.kind == "class" else None


def _receiver_kind(
    semantics: PairSemantics,
    caller: Side,
    table: ModuleSymbols | None,
    ref: Reference,
    klass: Symbol,
) -> str:
    """ "class" when the receiver names the class itself (`Klass.m`, `cls.m`), else
    "instance" (`self.m`, `Klass(...).m`, a local known to hold an instance)."""
    receiver = ref.receiver or ""
    if receiver.endswith(("(...)", "]")):
        return "instance"
    if table is not None:
        named = semantics.index.canonical(caller.tree, resolve_name(receiver, table))
        if named == semantics.index.canonical(caller.tree, klass.qualname):
            return "class"  # `Klass.m(...)`: nothing is bound
    if ref.enclosing and ref.enclosing.startswith(klass.qualname + ".") and "." not in receiver:
        # Inside the class's own method: `self`/`cls` (whatever they are called).
        method = semantics.symbol(caller, ref.enclosing)
        if method is not None and method.binding == "classmethod":
            return "class"
        return "class" if receiver == "cls" else "instance"
    return "instance"


def canonical(
    semantics: PairSemantics, caller: Side, candidates: list[tuple[str, str | None]]
) -> list[tuple[str, str | None]]:
    """Candidates plus their definitions through re-exports (`from pkg import X`)."""
    found = list(candidates)
    for qualname, receiver in candidates:
        real = semantics.index.canonical(caller.tree, qualname)
        if real != qualname:
            found.append((real, receiver))
    return found


def _base_methods_named(semantics: PairSemantics, name: str, path: str) -> list[Symbol]:
    """Base methods `name` in `path`'s language: a TS call never means a Python method;
    and code outside the tests never calls a method only test code defines (a mock's
    `put`: the real receiver is a library's object)."""
    language = frontend_for(path)
    in_tests = is_test_path(path)
    return [
        s
        for s in semantics.graph.definitions_named(participant="base", name=name)
        if s.kind == "method"
        and frontend_for(s.path) is language
        and (in_tests or not is_test_path(s.path))
    ]
