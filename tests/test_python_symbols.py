"""Snippet tests for the Python frontend: parse a snippet, assert on the tables."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftcheck.symbols.languages import frontend_for, get_frontend
from driftcheck.symbols.languages.python.frontend import module_name, parse
from driftcheck.symbols.table import ModuleSymbols, Param, Reference, Signature, Symbol


def table(code: str, path: str = "pkg/mod.py") -> ModuleSymbols:
    return parse(path, textwrap.dedent(code).encode())


def symbol(code: str, qualname: str, path: str = "pkg/mod.py") -> Symbol:
    found = table(code, path).get(qualname)
    assert found is not None, f"{qualname} not defined"
    return found


def refs(code: str, kind: str = "call", path: str = "pkg/mod.py") -> list[Reference]:
    return [r for r in table(code, path).references if r.kind == kind]


def ref(code: str, target: str, kind: str = "call") -> Reference:
    matches = [r for r in refs(code, kind) if r.target == target]
    assert len(matches) == 1, [r.target for r in refs(code, kind)]
    return matches[0]


# -- module names and registry -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "module", "is_package"),
    [
        ("pkg/mod.py", "pkg.mod", False),
        ("src/pkg/mod.py", "pkg.mod", False),
        ("lib/pkg/__init__.py", "pkg", True),
        ("pkg/__init__.py", "pkg", True),
        ("setup.py", "setup", False),
        ("src.py", "src", False),
    ],
)
def test_module_name(path: str, module: str, is_package: bool) -> None:
    assert module_name(path) == (module, is_package)


def test_registry_picks_frontend_by_extension() -> None:
    frontend = frontend_for("a/b.py")
    assert frontend is not None and frontend.name == "python"
    assert frontend is get_frontend("python")
    assert frontend.parser_version
    assert frontend_for("README.md") is None


def test_importing_registry_loads_no_parser() -> None:
    code = (
        "import sys, driftcheck.symbols.languages;"
        "print(any(m in sys.modules for m in ('libcst', 'driftcheck.symbols.languages.python')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- definitions ---------------------------------------------------------------

DEFS = """
    LIMIT = 10
    NAME: str = 'x'

    def top(): pass

    class Outer(Base, metaclass=Meta):
        attr = 1
        def method(self): pass
        class Inner:
            def deep(self): pass

    if True:
        def conditional(): pass
"""


def test_qualnames_kinds_and_parents() -> None:
    got = {s.qualname: (s.kind, s.parent) for s in table(DEFS).symbols}
    assert got == {
        "pkg.mod.LIMIT": ("constant", None),
        "pkg.mod.NAME": ("constant", None),
        "pkg.mod.top": ("function", None),
        "pkg.mod.Outer": ("class", None),
        "pkg.mod.Outer.attr": ("constant", "pkg.mod.Outer"),
        "pkg.mod.Outer.method": ("method", "pkg.mod.Outer"),
        "pkg.mod.Outer.Inner": ("class", "pkg.mod.Outer"),
        "pkg.mod.Outer.Inner.deep": ("method", "pkg.mod.Outer.Inner"),
        "pkg.mod.conditional": ("function", None),
    }
    assert symbol(DEFS, "pkg.mod.Outer").bases == ("Base",)


def test_nested_functions_are_part_of_their_parent_not_symbols() -> None:
    t = table("def f():\n    def g(): pass\n    class H: pass\n")
    assert [s.qualname for s in t.symbols] == ["pkg.mod.f"]


def test_later_definition_wins_and_property_setter_is_separate() -> None:
    code = """
        def f(a): pass
        def f(a, b): pass
        class C:
            @property
            def x(self): return 1
            @x.setter
            def x(self, value): pass
    """
    assert symbol(code, "pkg.mod.f").signature.render() == "(a, b)"  # type: ignore[union-attr]
    assert symbol(code, "pkg.mod.C.x").binding == "property"
    assert symbol(code, "pkg.mod.C.x.setter").name == "x"


def test_lines_include_decorators() -> None:
    code = "\n@deco\n@other(1)\ndef f():\n    return 1\n"
    s = symbol(code, "pkg.mod.f")
    assert (s.start_line, s.end_line) == (2, 5)
    assert s.decorators == ("deco", "other")


def test_decorators_and_binding() -> None:
    code = """
        import functools
        class C:
            @staticmethod
            def s(): pass
            @classmethod
            def c(cls): pass
            @functools.cache
            def m(self): pass
            @functools.lru_cache(maxsize=None)
            def n(self): pass
    """
    assert symbol(code, "pkg.mod.C.s").binding == "staticmethod"
    assert symbol(code, "pkg.mod.C.c").binding == "classmethod"
    assert symbol(code, "pkg.mod.C.m").decorators == ("functools.cache",)
    assert symbol(code, "pkg.mod.C.n").decorators == ("functools.lru_cache",)
    assert symbol(code, "pkg.mod.C.n").binding == "instance"


def test_constant_value_is_normalised() -> None:
    a = symbol("RATES = {'a' : 1,\n   'b':2}\n", "pkg.mod.RATES")
    b = symbol('RATES = {"a": 1, "b": 2}  # same\n', "pkg.mod.RATES")
    assert a.value == b.value == "{'a': 1, 'b': 2}"
    assert a.fingerprint == b.fingerprint and a.text_hash != b.text_hash
    assert table("a, b = 1, 2\nx.y = 3\n").symbols == ()


def test_async_is_recorded() -> None:
    assert symbol("async def f(): pass", "pkg.mod.f").is_async


# -- signatures ------------------------------------------------------------------


def test_signature_parameter_kinds_and_defaults() -> None:
    s = symbol("def f(a, /, b, c=1, *args, d, e='x', **kw) -> int: pass", "pkg.mod.f")
    sig = s.signature
    assert sig is not None
    assert [(p.name, p.kind, p.has_default, p.default) for p in sig.params] == [
        ("a", "positional_only", False, None),
        ("b", "positional", False, None),
        ("c", "positional", True, "1"),
        ("args", "var_positional", False, None),
        ("d", "keyword_only", False, None),
        ("e", "keyword_only", True, "'x'"),
        ("kw", "var_keyword", False, None),
    ]
    assert sig.returns == "int"
    assert sig.render() == "(a, /, b, c=1, *args, d, e='x', **kw)"


def test_signature_render_bare_star_and_annotations() -> None:
    sig = symbol("def m(self, order: Order, *, discount: float = 0.0): pass", "pkg.mod.m").signature
    assert sig is not None
    assert sig.render() == "(self, order, *, discount=0.0)"
    assert sig.render(annotations=True) == "(self, order: Order, *, discount: float = 0.0)"
    assert symbol("class C: pass", "pkg.mod.C").signature is None


SIG = Signature(
    (
        Param("self", "positional"),
        Param("order", "positional"),
        Param("currency", "positional"),
        Param("discount", "keyword_only", True, "0.0"),
    )
)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ({"positional_count": 2}, None),
        ({"positional_count": 1, "keywords": frozenset({"currency"})}, None),
        ({"positional_count": 3}, "takes 2 positional arguments but 3 were given"),
        ({"positional_count": 1}, "missing required argument 'currency'"),
        ({"positional_count": 2, "keywords": frozenset({"verify"})}, "no parameter named 'verify'"),
        ({"positional_count": 2, "keywords": frozenset({"order"})}, "got multiple values"),
        ({"positional_count": 1, "has_star": True}, None),
        ({"positional_count": 0, "has_double_star": True}, None),
        ({"positional_count": 3, "has_star": True}, "takes 2 positional"),
        (
            {"positional_count": 1, "has_double_star": True, "keywords": frozenset({"x"})},
            "no param",
        ),
    ],
)
def test_accepts_bound_method(call: dict, expected: str | None) -> None:
    reason = SIG.accepts(drop_first=True, **call)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith(expected)


def test_accepts_positional_only_var_args_and_kwargs() -> None:
    sig = symbol("def f(a, /, b=2, *rest, **kw): pass", "pkg.mod.f").signature
    assert sig is not None
    assert sig.accepts(5) is None
    assert sig.accepts(1, frozenset({"anything"})) is None
    strict = symbol("def g(a, /): pass", "pkg.mod.g").signature
    assert strict is not None
    assert strict.accepts(0, frozenset({"a"})) == "argument 'a' is positional-only"
    assert strict.accepts(0, frozenset({"d"}), has_star=True) == "no parameter named 'd'"
    kw = symbol("def h(*, key): pass", "pkg.mod.h").signature
    assert kw is not None
    assert kw.accepts(0) == "missing required keyword-only argument 'key'"
    assert Signature().accepts(0, drop_first=True) is not None  # method without self


def test_init_signature_explicit_and_generated() -> None:
    code = """
        from dataclasses import dataclass, field
        from typing import ClassVar, NamedTuple
        class Plain:
            def __init__(self, a, b=1): pass
        @dataclass(kw_only=False)
        class Item:
            registry: ClassVar[dict] = {}
            name: str
            qty: int = 1
            tags: list = field(default_factory=list)
            cache: dict = field(init=False)
            unit: str = field(default='pc', kw_only=True)
        class Point(NamedTuple):
            x: int
            y: int = 0
        class Derived(Plain): pass
        class Empty: pass
    """
    render = {
        q: (s.init_signature.render() if s.init_signature else None)
        for q, s in table(code).by_qualname.items()
        if s.kind == "class"
    }
    assert render == {
        "pkg.mod.Plain": "(self, a, b=1)",
        "pkg.mod.Item": "(self, name, qty=1, tags=<factory>, *, unit='pc')",
        "pkg.mod.Point": "(self, x, y=0)",
        "pkg.mod.Derived": None,
        "pkg.mod.Empty": "(self)",
    }


# -- fingerprints ----------------------------------------------------------------

BASE_FN = """
def total(order, rate):
    '''Sum the order.'''
    acc = 0
    for line in order.lines:  # every line
        acc += line.price * rate
    return round(acc, 2)
"""


@pytest.mark.parametrize(
    "variant",
    [
        BASE_FN.replace("acc", "subtotal"),
        BASE_FN.replace("order", "o").replace("rate", "r"),
        BASE_FN.replace("'''Sum the order.'''", "'''Totally different doc.'''"),
        BASE_FN.replace("  # every line", ""),
        BASE_FN.replace("acc += line.price * rate", "acc += (line.price\n              * rate)"),
    ],
)
def test_fingerprint_ignores_locals_docstrings_comments_layout(variant: str) -> None:
    base = symbol(BASE_FN, "pkg.mod.total")
    other = symbol(variant, "pkg.mod.total")
    assert base.fingerprint == other.fingerprint
    assert base.body_tokens == other.body_tokens


@pytest.mark.parametrize(
    "variant",
    [
        BASE_FN.replace("line.price", "line.cost"),  # attribute name
        BASE_FN.replace("round(", "ceil("),  # called global
        BASE_FN.replace("acc = 0", "acc = 1"),  # constant
        BASE_FN.replace("*", "+"),  # operator
        BASE_FN.replace("line.price * rate", "rate * line.price"),  # operand order
        BASE_FN.replace("def total(order, rate)", "def total(rate, order)"),  # param order
    ],
)
def test_fingerprint_changes_on_real_edits(variant: str) -> None:
    assert (
        symbol(BASE_FN, "pkg.mod.total").fingerprint != symbol(variant, "pkg.mod.total").fingerprint
    )


def test_global_named_like_a_local_is_not_confused() -> None:
    a = symbol("def f(x):\n    return helper(x)\n", "pkg.mod.f")
    b = symbol("def f(helper):\n    return x(helper)\n", "pkg.mod.f")
    assert a.fingerprint != b.fingerprint


def test_text_hash_and_body_size() -> None:
    base = symbol(BASE_FN, "pkg.mod.total")
    commented = symbol(BASE_FN.replace("# every line", "# each line"), "pkg.mod.total")
    assert base.fingerprint == commented.fingerprint and base.text_hash != commented.text_hash
    assert base.body_size == 4  # docstring dropped; assignment, for, aug-assign, return
    assert symbol("def f(): pass", "pkg.mod.f").body_size == 1


def test_class_fingerprints_whole_and_own() -> None:
    a = symbol("class C(B):\n    x = 1\n    def m(self): return 1\n", "pkg.mod.C")
    b = symbol("class C(B):\n    x = 1\n    def m(self): return 2\n", "pkg.mod.C")
    c = symbol("class C(B):\n    x = 2\n    def m(self): return 1\n", "pkg.mod.C")
    assert a.fingerprint != b.fingerprint and a.own_fingerprint == b.own_fingerprint
    assert a.own_fingerprint != c.own_fingerprint


# -- references ------------------------------------------------------------------

IMPORTS = """
from x import y as z
from . import sibling
from .utils import parse
from ..core import models
import a.b as ab
import os.path

def run():
    z.f()
    sibling.go()
    parse(1)
    models.Order()
    ab.call()
    os.path.join('a', 'b')
"""


def test_import_references_and_map() -> None:
    t = table(IMPORTS, path="src/pkg/sub/mod.py")
    assert t.imports == {
        "z": "x.y",
        "sibling": "pkg.sub.sibling",
        "parse": "pkg.sub.utils.parse",
        "models": "pkg.core.models",
        "ab": "a.b",
        "os": "os",
    }
    imports = [(r.target, r.resolved, r.alias) for r in t.references if r.kind == "import"]
    assert imports == [
        ("x.y", "x.y", "z"),
        (".sibling", "pkg.sub.sibling", None),
        (".utils.parse", "pkg.sub.utils.parse", None),
        ("..core.models", "pkg.core.models", None),
        ("a.b", "a.b", "ab"),
        ("os.path", "os.path", None),
    ]
    calls = {r.target: r.resolved for r in t.references if r.kind == "call"}
    assert calls == {
        "z.f": "x.y.f",
        "sibling.go": "pkg.sub.sibling.go",
        "parse": "pkg.sub.utils.parse",
        "models.Order": "pkg.core.models.Order",
        "ab.call": "a.b.call",
        "os.path.join": "os.path.join",
    }


def test_relative_import_in_package_init_and_star() -> None:
    t = table(
        "from .core import thing\nfrom .. import up\nfrom .x import *\n", "pkg/sub/__init__.py"
    )
    assert t.imports == {"thing": "pkg.sub.core.thing", "up": "pkg.up"}
    assert t.star_imports == ("pkg.sub.x",)


METHODS = """
class Base:
    def calculate_total(self, order): pass

class OrderProcessor(Base):
    def calculate_total(self, order, *, discount=0.0):
        self.log('x')
        return super().calculate_total(order)

    @classmethod
    def create(cls):
        return cls(1)

    @staticmethod
    def util(self):
        return self.nope()

def use(proc: OrderProcessor, other: 'OrderProcessor | None', *args, **kw):
    p = OrderProcessor(cfg)
    p.calculate_total(order, discount=1.0)
    OrderProcessor(cfg).calculate_total(order, *args, **kw)
    proc.calculate_total(1, 2, 3)
    unknown.calculate_total()
    print(len(args))
"""


def test_self_cls_super_and_class_calls() -> None:
    assert ref(METHODS, "self.log").resolved == "pkg.mod.OrderProcessor.log"
    assert ref(METHODS, "self.log").enclosing == "pkg.mod.OrderProcessor.calculate_total"
    assert ref(METHODS, "super(...).calculate_total").resolved == "pkg.mod.Base.calculate_total"
    assert ref(METHODS, "cls").resolved is None  # `cls(1)` itself: a call on a local
    assert ref(METHODS, "self.nope").resolved is None  # staticmethod: `self` is a plain arg
    created = [r for r in refs(METHODS) if r.target == "OrderProcessor"]
    assert [r.resolved for r in created] == ["pkg.mod.OrderProcessor"] * 2


def test_receivers_typed_locals_keywords_and_splats() -> None:
    typed = ref(METHODS, "p.calculate_total")
    assert typed.resolved == "pkg.mod.OrderProcessor.calculate_total"
    assert (typed.positional_count, typed.keywords) == (1, ("discount",))
    assert not typed.has_star and not typed.has_double_star
    assert typed.text == "p.calculate_total(order, discount=1.0)"
    chained = ref(METHODS, "OrderProcessor(...).calculate_total")
    assert chained.resolved == "pkg.mod.OrderProcessor.calculate_total"
    assert (chained.name, chained.receiver) == ("calculate_total", "OrderProcessor(...)")
    assert chained.has_star and chained.has_double_star and chained.positional_count == 1
    annotated = ref(METHODS, "proc.calculate_total")
    assert annotated.resolved == "pkg.mod.OrderProcessor.calculate_total"
    assert annotated.positional_count == 3
    unknown = ref(METHODS, "unknown.calculate_total")
    assert unknown.resolved is None and unknown.name == "calculate_total"
    assert not [r for r in refs(METHODS) if r.target in ("print", "len")]  # builtins


def test_local_shadowing_blocks_resolution() -> None:
    code = "from m import helper\ndef f(helper):\n    helper()\ndef g():\n    helper()\n"
    assert [r.resolved for r in refs(code)] == [None, "m.helper"]


def test_function_level_import() -> None:
    assert ref("def f():\n    from a import b\n    b.c()\n", "b.c").resolved == "a.b.c"


def test_attribute_and_name_references() -> None:
    code = """
        import config
        def helper(): pass
        def f():
            x = config.TIMEOUT
            return sorted([], key=helper)
    """
    attr = ref(code, "config.TIMEOUT", kind="attribute")
    assert attr.resolved == "config.TIMEOUT" and attr.enclosing == "pkg.mod.f"
    assert ref(code, "helper", kind="name").resolved == "pkg.mod.helper"


def test_module_level_and_decorator_calls_have_no_enclosing_function() -> None:
    code = "import app\n@app.route('/x')\ndef view(): pass\napp.run()\n"
    assert [(r.target, r.enclosing) for r in refs(code)] == [("app.route", None), ("app.run", None)]


def test_long_call_text_is_truncated() -> None:
    code = "f(" + ", ".join(["value"] * 100) + ")\n"
    (call,) = refs(code)
    assert len(call.text) <= 200 and call.positional_count == 100


# -- ignore comments -------------------------------------------------------------


def test_ignore_comments() -> None:
    code = """
        X = 1  # driftcheck: ignore[duplicate]
        @deco  # driftcheck: ignore[stale-caller, Duplicate]
        def f(): pass
        def g():  # driftcheck: ignore
            f()  # driftcheck: ignore[stale-caller]
            s = "# driftcheck: ignore"
            f()
    """
    t = table(code)
    assert t.get("pkg.mod.X").ignored_kinds == {"duplicate"}  # type: ignore[union-attr]
    assert t.get("pkg.mod.f").ignored_kinds == {"stale-caller", "duplicate"}  # type: ignore[union-attr]
    g = t.get("pkg.mod.g")
    assert g is not None and g.ignored_kinds == {"*"} and g.ignores("anything")
    calls = [r for r in t.references if r.kind == "call"]
    assert [r.ignored_kinds for r in calls] == [{"stale-caller"}, frozenset()]


# -- robustness ------------------------------------------------------------------


def test_syntax_error_mid_file_keeps_what_parses() -> None:
    code = (
        "def before():\n    pass\n\ndef broken(:\n    pass\n\nclass After:\n    def m(self): pass\n"
    )
    t = table(code)
    assert t.parse_error is not None and "line 4" in t.parse_error
    assert {s.qualname for s in t.symbols} == {"pkg.mod.before", "pkg.mod.After", "pkg.mod.After.m"}
    assert t.get("pkg.mod.After.m").start_line == 8  # type: ignore[union-attr]


def test_unclosed_bracket_and_string_spanning_starts() -> None:
    code = 'X = """\ndef fake(): pass\n"""\nY = foo(\n\ndef real(): pass\n'
    t = table(code)
    assert t.parse_error is not None
    assert {s.name for s in t.symbols} == {"X", "real"}


def test_recovery_does_not_read_string_contents_as_code() -> None:
    code = 'DOC = """\nUsage:\nname = value\nmore = text\ndone\n"""\ndef broken(:\ndef ok(): pass\n'
    t = table(code)
    assert t.parse_error is not None
    assert {s.name for s in t.symbols} == {"DOC", "ok"}


@pytest.mark.parametrize(
    "source",
    [
        b"(" * 5000,
        b"x = " + b"(" * 5000 + b"1" + b")" * 5000,
        b"x = " + b"-" * 100_000 + b"1",
        b"x = " + b"1+" * 100_000 + b"1",
        b"def f():\n    return a" + b".b" * 100_000 + b"\ndef g(): pass\n",
        b"x = " + b"[" * 150 + b"]" * 150,
        b"\x00\x01\x02\xff\xfe binary",
        b"\xff\xfe\xfa not utf-8 = 1",
        b"",
    ],
)
def test_hostile_input_never_raises(source: bytes) -> None:
    t = parse("pkg/mod.py", source)
    assert t.path == "pkg/mod.py" and t.language == "python"


def test_deep_file_still_yields_other_definitions() -> None:
    t = parse("m.py", b"def g(): pass\nx = " + b"1+" * 100_000 + b"1\n")
    assert t.parse_error is not None and [s.name for s in t.symbols] == ["g"]


def test_binary_and_encodings() -> None:
    assert parse("m.py", b"\x00\x00").parse_error is not None
    latin = parse("m.py", "# -*- coding: latin-1 -*-\nNAME = 'café'\n".encode("latin-1"))
    assert latin.parse_error is None and latin.get("m.NAME").value == "'café'"  # type: ignore[union-attr]
    broken = parse("m.py", b"X = 1\nY = '\xff'\n")
    assert broken.parse_error is not None and broken.get("m.X") is not None
    assert parse("m.py", b"\xef\xbb\xbfX = 1\r\nY = 2\r\n").get("m.Y").start_line == 2  # type: ignore[union-attr]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(alphabet="def cls():[]{}.,=*@\n\t #'\"xy12", max_size=300))
def test_parse_never_raises(source: bytes | str) -> None:
    data = source.encode() if isinstance(source, str) else source
    t = parse("pkg/mod.py", data)
    assert not (t.parse_error or "").startswith("internal")
