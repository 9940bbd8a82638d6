"""DC205 (stale-caller): one side adds a member every implementer must define, the
other side adds an implementer without it.

Two agents each add a method to `interface UserService`, and each side's new class
implements only its own: git merges cleanly and the merged code does not compile. In
Python the member is an `@abstractmethod` and the new subclass cannot be
instantiated. Only contracts that existed at the merge base count (a new interface
is the side's own business), only classes the other side adds are judged (existing
implementers are the changer's to update), and a class that is itself abstract or
an interface owes nothing yet.
"""

from __future__ import annotations

from collections.abc import Iterator

from driftcheck.detectors.semantics import PairSemantics, Side
from driftcheck.model import STALE_CALLER, Finding, Severity
from driftcheck.symbols.table import Symbol

CODE = "DC205"
_ABSTRACT = frozenset({"abstractmethod", "abc.abstractmethod"})


def missing_members(semantics: PairSemantics) -> Iterator[Finding]:
    for changer, other in semantics.directions():
        required = _required(semantics, changer)
        if not required:
            continue
        for change in other.changes:
            new = change.after
            if change.kind != "added" or new is None or new.kind != "class":
                continue
            if _owes_nothing(semantics, other, new):
                continue
            yield from _missing(semantics, changer, other, new, required)


def is_required(symbol: Symbol) -> bool:
    """A member every concrete implementer must define."""
    return symbol.kind == "method" and bool(_ABSTRACT & set(symbol.decorators))


def _required(semantics: PairSemantics, changer: Side) -> dict[str, list[Symbol]]:
    """Contract (class qualname) -> members the changer makes required in it."""
    found: dict[str, list[Symbol]] = {}
    for change in changer.changes:
        member = change.after
        if change.kind != "added" or member is None or member.parent is None:
            continue
        if not is_required(member) or member.ignores(STALE_CALLER):
            continue
        if semantics.symbol(None, member.parent) is None:
            continue  # a contract new on this side: nobody else implements it yet
        found.setdefault(member.parent, []).append(member)
    return found


def _owes_nothing(semantics: PairSemantics, side: Side, cls: Symbol) -> bool:
    """An interface or abstract class (or one that says to be left alone)."""
    if cls.ignores(STALE_CALLER) or {"interface", "abstract"} & set(cls.decorators):
        return True
    prefix = cls.qualname + "."
    return any(
        is_required(s)
        for table in side.tables.values()
        for s in table.symbols
        if s.parent == cls.qualname and s.qualname.startswith(prefix)
    )


def _missing(
    semantics: PairSemantics,
    changer: Side,
    other: Side,
    cls: Symbol,
    required: dict[str, list[Symbol]],
) -> Iterator[Finding]:
    lineage = list(semantics.ancestors(other, cls.qualname))
    for contract in lineage[1:]:
        for member in required.get(contract, []):
            if semantics.find_method(other, cls.qualname, member.name) is not None:
                continue  # implemented here, inherited from a mixin, or a base's default
            signature = member.signature.render() if member.signature else "()"
            short = contract.rpartition(".")[2]
            message = (
                f"{other.name} adds {cls.name} ({cls.path}:{cls.start_line}), which derives "
                f"from {short}, but {changer.name} adds {short}.{member.name}{signature}, "
                f"which every implementer must define; add {member.name} to {cls.name}"
            )
            yield Finding(
                kind=STALE_CALLER,
                code=CODE,
                severity=Severity.ERROR,
                participants=(other.name, changer.name),
                path=cls.path,
                line=cls.start_line,
                symbol=cls.qualname,
                message=message,
                details={
                    "change": "required-member",
                    "changed_by": changer.name,
                    "caller": other.name,
                    "contract": contract,
                    "member": member.qualname,
                    "new_signature": f"{member.name}{signature}",
                    "definition": {"path": member.path, "line": member.start_line},
                },
            )
