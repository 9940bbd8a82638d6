"""Change classification between two versions of parsed snippets."""

from __future__ import annotations

import textwrap

import pytest

from driftcheck.symbols.changes import SymbolChange, classify_changes, signature_compatible
from driftcheck.symbols.languages.python.frontend import parse
from driftcheck.symbols.table import ModuleSymbols, Signature


def tables(files: dict[str, str]) -> dict[str, ModuleSymbols]:
    return {path: parse(path, textwrap.dedent(code).encode()) for path, code in files.items()}


def diff(before: str | dict[str, str], after: str | dict[str, str]) -> list[SymbolChange]:
    old = {"pkg/mod.py": before} if isinstance(before, str) else before
    new = {"pkg/mod.py": after} if isinstance(after, str) else after
    return classify_changes(tables(old), tables(new))


def kinds(changes: list[SymbolChange]) -> set[tuple[str, str, str | None]]:
    return {(c.kind, c.qualname, c.new_qualname) for c in changes}


def sig(code: str) -> Signature:
    symbols = parse("m.py", f"def f{code}: pass\n".encode()).symbols
    assert symbols[0].signature is not None
    return symbols[0].signature


BODY = """
class Cart:
    def total(self, items, rate):
        '''Add up.'''
        acc = 0
        for item in items:
            acc += item.price * rate
        return acc
"""


@pytest.mark.parametrize(
    "variant",
    [
        BODY.replace("acc", "running"),
        BODY.replace("'''Add up.'''", "'''Sum every item.'''"),
        BODY.replace("return acc", "return acc  # done"),
        BODY,
    ],
)
def test_no_change_for_local_renames_docs_and_comments(variant: str) -> None:
    assert diff(BODY, variant) == []


def test_added_and_removed() -> None:
    changes = diff("def old(): pass\nX = 1\n", "def new(): pass\nclass K: pass\n")
    assert kinds(changes) == {
        ("removed", "pkg.mod.old", None),
        ("removed", "pkg.mod.X", None),
        ("added", "pkg.mod.new", None),
        ("added", "pkg.mod.K", None),
    }


def test_body_change() -> None:
    (change,) = diff(BODY, BODY.replace("item.price", "item.cost"))
    assert (change.kind, change.qualname) == ("body", "pkg.mod.Cart.total")
    assert change.before is not None and change.after is not None


def test_constant_value_change_is_body() -> None:
    assert kinds(diff("RATE = 1\n", "RATE = 2\n")) == {("body", "pkg.mod.RATE", None)}


def test_compatible_signature_change() -> None:
    after = BODY.replace("(self, items, rate)", "(self, items, rate, *, currency='EUR')")
    (change,) = diff(BODY, after)
    assert change.kind == "signature" and change.compatible is True


def test_incompatible_signature_change_with_body() -> None:
    after = BODY.replace("(self, items, rate)", "(self, items, rate, currency)")
    after = after.replace("return acc", "return convert(acc, currency)")
    got = {(c.kind, c.compatible) for c in diff(BODY, after)}
    assert got == {("signature", False), ("body", None)}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("def m(self): pass", "@property\ndef m(self): pass"),
        ("def m(self): pass", "@staticmethod\ndef m(self): pass"),
        ("@classmethod\ndef m(cls): pass", "@staticmethod\ndef m(cls): pass"),
        ("def m(self): pass", "async def m(self): pass"),
    ],
)
def test_binding_and_async_changes_are_incompatible(before: str, after: str) -> None:
    old, new = ("class C:\n" + textwrap.indent(code, "    ") for code in (before, after))
    changes = [c for c in diff(old, new) if c.kind == "signature"]
    assert [(c.qualname, c.compatible) for c in changes] == [("pkg.mod.C.m", False)]


@pytest.mark.parametrize(
    ("old", "new", "compatible"),
    [
        ("(a, b)", "(a, b, c=1)", True),
        ("(a, b)", "(a, b, *args)", True),
        ("(a, b)", "(a, b, **kw)", True),
        ("(a, b)", "(a, b, *, c=1)", True),
        ("(a, b=1)", "(a, b=2)", True),
        ("(a, b)", "(a, b=2)", True),
        ("(a, /, b)", "(a, b)", True),
        ("(a, *, b)", "(a, b)", True),
        ("(a, b)", "(a, b, c)", False),
        ("(a, b)", "(a, b, *, c)", False),
        ("(a, b)", "(a)", False),
        ("(a, b)", "(a, c)", False),
        ("(a, b)", "(b, a)", False),
        ("(a, b=1)", "(a, b)", False),
        ("(a, b)", "(a, /, b)", False),
        ("(a, b)", "(a, *, b)", False),
        ("(a, *args)", "(a)", False),
        ("(a, **kw)", "(a)", False),
        ("(a, c=1)", "(a, b=1, c=1)", False),
    ],
)
def test_signature_compatible(old: str, new: str, compatible: bool) -> None:
    assert signature_compatible(sig(old), sig(new)) is compatible


def test_renamed_in_same_module() -> None:
    changes = diff(BODY, BODY.replace("def total", "def grand_total"))
    assert kinds(changes) == {("renamed", "pkg.mod.Cart.total", "pkg.mod.Cart.grand_total")}


def test_trivial_bodies_are_not_paired_as_renames() -> None:
    changes = diff("def a():\n    return 1\n", "def b():\n    return 1\n")
    assert kinds(changes) == {("removed", "pkg.mod.a", None), ("added", "pkg.mod.b", None)}


def test_moved_to_other_module_with_its_class() -> None:
    changes = diff(
        {"pkg/mod.py": BODY, "pkg/other.py": ""}, {"pkg/mod.py": "", "pkg/other.py": BODY}
    )
    assert kinds(changes) == {
        ("moved", "pkg.mod.Cart", "pkg.other.Cart"),
        ("moved", "pkg.mod.Cart.total", "pkg.other.Cart.total"),
    }


def test_moved_to_other_class_and_renamed() -> None:
    after = BODY.replace("class Cart:", "class Cart: pass\nclass Basket:").replace(
        "def total", "def sum_up"
    )
    changes = diff(BODY, after)
    assert ("moved", "pkg.mod.Cart.total", "pkg.mod.Basket.sum_up") in kinds(changes)


def test_moved_function_across_deleted_file_with_new_default() -> None:
    fn = "def price(items, rate):\n    acc = sum(i.p for i in items)\n    return acc * rate\n"
    changes = diff({"pkg/a.py": fn}, {"pkg/b.py": fn.replace("rate)", "rate, extra=0)")})
    assert {(c.kind, c.new_qualname, c.compatible) for c in changes} == {
        ("moved", "pkg.b.price", None),
        ("signature", "pkg.b.price", True),
    }


def test_dataclass_field_change_is_class_signature_change() -> None:
    before = "from dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\n"
    after = before + "    currency: str\n"
    got = {(c.kind, c.qualname, c.compatible) for c in diff(before, after)}
    assert got == {("signature", "pkg.mod.P", False), ("body", "pkg.mod.P", None)}


def test_method_edit_is_not_a_class_edit() -> None:
    changes = diff(BODY, BODY.replace("acc = 0", "acc = 1"))
    assert kinds(changes) == {("body", "pkg.mod.Cart.total", None)}


def test_unparsable_state_does_not_report_removals() -> None:
    broken = BODY + "\ndef half(:\n"
    changes = diff(BODY + "\ndef gone(): pass\n", broken)
    assert [c.kind for c in changes] == []


def test_deleted_file_reports_removals() -> None:
    changes = classify_changes(tables({"pkg/mod.py": "def f(): pass\n"}), {})
    assert kinds(changes) == {("removed", "pkg.mod.f", None)}
