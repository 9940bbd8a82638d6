"""The symbol graph facade: point lookups without networkx, traversals with it."""

from __future__ import annotations

import subprocess
import sys

from driftcheck.symbols.graph import BASE, SymbolGraph
from driftcheck.symbols.languages import frontend_for

SOURCE = b"""
class Base:
    def greet(self, name):
        return "hi " + name

class Child(Base):
    def run(self):
        return self.greet("x")

def main():
    return Child().run()
"""


def build() -> SymbolGraph:
    frontend = frontend_for("pkg/mod.py")
    assert frontend is not None
    graph = SymbolGraph()
    graph.add_modules(participant=BASE, tables=[frontend.parse("pkg/mod.py", SOURCE)])
    return graph


def test_point_lookups() -> None:
    graph = build()
    assert graph.symbol(participant=BASE, qualname="pkg.mod.Child.run") is not None
    assert graph.symbol(participant="other", qualname="pkg.mod.Child.run") is None
    names = graph.definitions_named(participant=BASE, name="greet")
    assert [s.qualname for s in names] == ["pkg.mod.Base.greet"]
    assert graph.module(participant=BASE, path="pkg/mod.py") is not None


def test_inheritance_and_callers_walk_the_graph() -> None:
    graph = build()
    assert graph.bases_of(participant=BASE, cls="pkg.mod.Child") == ["pkg.mod.Base"]
    found = graph.find_method(participant=BASE, cls="pkg.mod.Child", name="greet")
    assert found is not None and found.qualname == "pkg.mod.Base.greet"
    callers = graph.callers_of(participant=BASE, qualname="pkg.mod.Child.run")
    assert [(path, ref.line) for path, ref in callers] == [("pkg/mod.py", 11)]


def test_point_lookups_do_not_import_networkx() -> None:
    code = (
        "import sys\n"
        "from tests.test_graph import build\n"
        "g = build()\n"
        "g.symbol(participant='base', qualname='pkg.mod.Child.run')\n"
        "g.find_method(participant='base', cls='pkg.mod.Child', name='run')\n"
        "print('networkx' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    ).stdout.strip()
    assert out == "False"
