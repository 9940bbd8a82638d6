"""What the symbol index asks of every frontend, on real git trees: module names,
canonical names through import paths and re-exports, and method definers per language;
plus the textual detector's add/add-of-members reading, which goes through the model."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import commit_all, git, init_repo, run_cli, write

from driftcheck.symbols.index import SymbolIndex

FILES: dict[str, str | bytes] = {
    "go.mod": "module example.com/shop\n",
    "internal/orders/order.go": "package orders\n\nfunc Total(x int) int { return x }\n",
    "internal/orders/tax.go": (
        "package orders\n\ntype Tax struct{}\n\nfunc (t *Tax) Rate() float64 { return 0.2 }\n"
    ),
    "cmd/api/main.go": 'package main\n\nimport "example.com/shop/internal/orders"\n\n'
    "func main() { orders.Total(1) }\n",
    "web/src/money.ts": "export function formatMoney(a: number): string { return `${a}`; }\n",
    "web/src/index.ts": 'export { formatMoney as format } from "./money.js";\n',
    "web/src/cart.ts": "export class Cart {\n  total(): number {\n    return 0;\n  }\n}\n",
    "src/lib.rs": "pub mod pricing;\n",
    "src/pricing.rs": "pub struct P;\nimpl P {\n    pub fn total(&self) -> f64 { 0.0 }\n}\n",
    "java/com/shop/Pricing.java": (
        "package com.shop;\nclass Pricing {\n  public double total(int a) { return a; }\n"
        "  public double total(int a, int b) { return a + b; }\n}\n"
    ),
    "py/shop.py": "class Shop:\n    def total(self):\n        return 0\n",
}


def _index(tmp_path: Path) -> tuple[SymbolIndex, str]:
    repo = init_repo(tmp_path / "repo", FILES)
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo)
    return SymbolIndex(cwd=str(repo), env=dict(os.environ)), tree


def test_module_paths_name_modules_as_each_frontend_does(tmp_path: Path) -> None:
    index, tree = _index(tmp_path)
    modules = index.module_paths(tree)
    assert modules["internal/orders"] in ("internal/orders/order.go", "internal/orders/tax.go")
    assert modules["web/src"] == "web/src/index.ts"
    assert modules["crate.pricing"] == "src/pricing.rs"
    assert modules["com.shop"] == "java/com/shop/Pricing.java"
    assert modules["py.shop"] == "py/shop.py"


def test_canonical_maps_import_paths_and_reexports(tmp_path: Path) -> None:
    index, tree = _index(tmp_path)
    # A Go import path names the folder it ends with (go.mod holds the prefix).
    assert index.canonical(tree, "example.com/shop/internal/orders.Total") == (
        "internal/orders.Total"
    )
    assert index.canonical(tree, "example.com/other/unknown.Total") == (
        "example.com/other/unknown.Total"
    )
    # A TypeScript re-export through index.ts leads to the definition.
    assert index.canonical(tree, "web/src.format") == "web/src/money.formatMoney"


def test_method_definers_per_language(tmp_path: Path) -> None:
    index, tree = _index(tmp_path)
    # `total` is defined by a TS class, a Rust impl, two Java overloads and Python.
    assert index.method_definers(tree, "total", "web/src/app.ts") == 1
    assert index.method_definers(tree, "total", "src/x.rs") == 1
    assert index.method_definers(tree, "total/2", "java/com/shop/X.java") == 2
    assert index.method_definers(tree, "total", "py/x.py") == 1
    assert index.method_definers(tree, "total") == 5
    assert index.method_definers(tree, "Rate", "cmd/x.go") == 1
    assert index.method_definers(tree, "Total", "cmd/x.go") == 0  # a function, not a method
    assert index.method_definers(tree, "no such-name") == 0


SERVICE = """\
export interface UserService {
  findById(id: string): Promise<User>;
  save(user: User): Promise<void>;
}
"""


def _scan_two_edits(workspace: Path, left: str, right: str) -> dict:
    repo = init_repo(workspace / "repo", {"src/service.ts": SERVICE})
    for name, text in (("feat-a", left), ("feat-b", right)):
        wt = workspace / name
        git("worktree", "add", "-q", "-b", name, str(wt), cwd=repo)
        write(wt, {"src/service.ts": text})
        commit_all(wt)
    result = run_cli("scan", "--format", "json", "--only", "textual-conflict", cwd=repo)
    assert result.code == 1, result.stderr
    (finding,) = result.json()["findings"]
    return finding


def test_two_members_added_at_one_place_are_an_add_add(workspace: Path) -> None:
    line = "  save(user: User): Promise<void>;\n"
    finding = _scan_two_edits(
        workspace,
        SERVICE.replace(line, line + "  remove(id: string): Promise<void>;\n"),
        SERVICE.replace(line, line + "  count(): Promise<number>;\n"),
    )
    assert finding["details"]["resolution"] == "keep-both"
    assert "an add/add of two members, not a disagreement" in finding["message"]
    assert "UserService" in finding["message"]


def test_the_same_member_added_twice_is_a_real_conflict(workspace: Path) -> None:
    line = "  save(user: User): Promise<void>;\n"
    finding = _scan_two_edits(
        workspace,
        SERVICE.replace(line, line + "  remove(id: string): Promise<void>;\n"),
        SERVICE.replace(line, line + "  remove(user: User): Promise<boolean>;\n"),
    )
    assert "resolution" not in finding["details"]
    assert "both change" in finding["message"]


def test_a_changed_member_next_to_an_added_one_is_a_real_conflict(workspace: Path) -> None:
    line = "  save(user: User): Promise<void>;\n"
    finding = _scan_two_edits(
        workspace,
        SERVICE.replace(line, "  save(user: User): Promise<boolean>;\n"),
        SERVICE.replace(line, line + "  count(): Promise<number>;\n"),
    )
    assert "resolution" not in finding["details"]


def test_add_add_of_members_is_language_neutral(workspace: Path) -> None:
    base = "class Shop:\n    def open(self):\n        return 1\n"
    finding = _scan_two_edits_py(
        workspace,
        base,
        base + "\n    def close(self):\n        return 2\n",
        base + "\n    def pause(self, minutes):\n        return minutes\n",
    )
    assert finding["details"]["resolution"] == "keep-both"
    assert "members to Shop" in finding["message"]


def _scan_two_edits_py(workspace: Path, base: str, left: str, right: str) -> dict:
    repo = init_repo(workspace / "repo", {"shop.py": base})
    for name, text in (("feat-a", left), ("feat-b", right)):
        wt = workspace / name
        git("worktree", "add", "-q", "-b", name, str(wt), cwd=repo)
        write(wt, {"shop.py": text})
        commit_all(wt)
    result = run_cli("scan", "--format", "json", "--only", "textual-conflict", cwd=repo)
    (finding,) = result.json()["findings"]
    return finding
