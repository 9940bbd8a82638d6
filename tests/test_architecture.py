"""The layering ARCHITECTURE.md describes, checked on the source with `ast`.

Data flows one way: a module may import only from its own package or from a layer
below its own. Every import counts, wherever it is written (module level, inside a
function, under `TYPE_CHECKING`): a function-level import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import driftcheck
from driftcheck.plan.graph import strongly_connected as _strongly_connected

PACKAGE = Path(driftcheck.__file__).resolve().parent
ROOT = PACKAGE.parent

# Top to bottom. Packages that share a row are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("__main__",),
    ("cli",),
    ("integrations", "demo", "watch"),
    ("daemon",),
    ("coordination", "plan"),
    ("engine",),
    ("detectors", "verify"),
    ("symbols",),
    ("workspace",),
    ("store", "report"),
    ("config", "parallel", "deadline"),
    ("model", "errors", "__init__"),
]
RANK = {part: n for n, row in enumerate(LAYERS) for part in row}
MAX_TOP_LEVEL_MODULES = 8


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def top_part(module: str) -> str:
    """The first name under `driftcheck`: the package (or top-level module) it lives in."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(module: str) -> set[str]:
    """Every driftcheck module `module` imports, resolved to modules that exist."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "driftcheck")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if source.split(".")[0] != "driftcheck":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in MODULES else source)
    return {m for m in found if m in MODULES and m != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def test_every_package_has_a_layer() -> None:
    unplaced = sorted({top_part(m) for m in MODULES} - set(RANK))
    assert unplaced == [], f"add these to LAYERS and ARCHITECTURE.md: {unplaced}"


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import in `graph` that goes up a layer or across a row."""
    wrong = []
    for module, targets in sorted(graph.items()):
        own = top_part(module)
        for target in sorted(targets):
            other = top_part(target)
            if other == own or other == "__init__":
                continue
            if RANK[other] <= RANK[own]:
                wrong.append(f"{module} imports {target}")
    return wrong


def test_imports_follow_the_layers() -> None:
    wrong = violations(GRAPH)
    assert wrong == [], "imports against the direction of ARCHITECTURE.md:\n" + "\n".join(wrong)


def test_no_import_circles() -> None:
    circles = [sorted(c) for c in _strongly_connected(GRAPH) if len(c) > 1]
    assert circles == [], f"import circles: {circles}"


def test_top_level_stays_small() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_architecture_lists_every_package_in_order() -> None:
    """ARCHITECTURE.md names each package once, in the order of LAYERS."""
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([\w.]+)/?` \|", text, flags=re.MULTILINE)
    expected = [p for row in LAYERS for p in row if p not in ("__init__", "__main__")]
    assert [name.removesuffix(".py") for name in listed] == expected


def test_the_checks_see_what_they_look_for() -> None:
    """The checker reads real edges (the engine does import the detectors), and
    reports an edge turned around, one across a row, and a circle."""
    assert "driftcheck.detectors" in GRAPH["driftcheck.engine.pairs"]
    assert "driftcheck.daemon.client" in GRAPH["driftcheck.integrations.agent_hook"]
    upward = {"driftcheck.detectors.textual": {"driftcheck.engine.pairs"}}
    across = {"driftcheck.store.cache": {"driftcheck.report.text"}}
    assert violations(upward) == ["driftcheck.detectors.textual imports driftcheck.engine.pairs"]
    assert violations(across) == ["driftcheck.store.cache imports driftcheck.report.text"]
    circle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [c for c in _strongly_connected(circle) if len(c) > 1] == [{"a", "b", "c"}]
