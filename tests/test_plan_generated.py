"""A generated repository of 17 participants (the trunk and 16 worktrees, built from a
fixed seed): each worktree adds a module, some use another's new function (a
dependency, sometimes both ways), some change the same line of a shared file (a
textual conflict), some add the same helper (a duplicate), committed or not.

Whatever the mix, the plan must hold its promises: no step merges two participants
with a finding between them (nor one with an earlier step), every dependency is
placed before its dependent (or in its step, for a cycle), everyone is placed,
held or safe to delete exactly once, and the same repository gives the same plan.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from helpers import add_worktree, commit_all, init_repo, run_cli, write

WORKTREES = 16
SEED = 1717
SHARED = "".join(f"shared line {n}\n" for n in range(1, 7))
HELPER = """\
def tidy_{n}(items):
    kept = []
    for item in items:
        if item is not None and item not in kept:
            kept.append(item.strip())
    kept.sort()
    return kept
"""


def build(root: Path) -> Path:
    rng = random.Random(SEED)
    repo = init_repo(
        root / "repo",
        {"mods/__init__.py": "", "dups/__init__.py": "", "shared.txt": SHARED},
    )
    for n in range(WORKTREES):
        wt = add_worktree(repo, f"w{n:02d}")
        # A one-statement body: never a duplicate of the other worktrees' modules.
        source = f"def f{n}(value):\n    return value + {n}\n"
        if rng.random() < 0.4:
            other = rng.choice([m for m in range(WORKTREES) if m != n])
            source = f"from mods.m{other} import f{other}\n\n\n{source}\n\n"
            source += f"def g{n}(value):\n    return f{other}(value)\n"
        write(wt, {f"mods/m{n}.py": source})
        if rng.random() < 0.35:
            line = rng.randint(1, 3)
            write(wt, {"shared.txt": SHARED.replace(f"line {line}\n", f"line {line} by w{n}\n")})
        if rng.random() < 0.2:
            write(wt, {f"dups/d{n}.py": HELPER.format(n=n)})
        if rng.random() < 0.7:
            commit_all(wt, f"w{n:02d} work")
    return repo


def test_generated_plan_keeps_its_promises(workspace: Path) -> None:
    repo = build(workspace)
    first = run_cli("plan", "--format", "json", "--fail-on", "never", cwd=repo)
    assert first.code == 0, first.stderr
    plan: dict[str, Any] = first.json()
    names = [p["name"] for p in plan["participants"]]
    assert 12 <= len(names) <= 20

    between = {
        frozenset(f["participants"]) for f in plan["findings"] if len(f["participants"]) == 2
    }
    step_of = {name: s["step"] for s in plan["steps"] for name in s["merge"]}
    placed = list(step_of)
    for n, a in enumerate(placed):
        for b in placed[n + 1 :]:
            assert frozenset((a, b)) not in between, f"{a} and {b} are both placed"
    in_cycle = {frozenset(c) for c in plan["cycles"]}
    depends = [(e["from"], e["to"]) for e in plan["edges"] if e["kind"] == "depends-on"]
    for user, provider in depends:
        if user in step_of:
            assert provider in step_of, f"{user} placed, {provider} not"
            together = any({user, provider} <= c for c in in_cycle)
            assert step_of[provider] < step_of[user] or (
                together and step_of[provider] == step_of[user]
            ), (user, provider)
    held = [n for r in plan["reconcile_first"] for n in r["participants"]]
    rows = {r["name"]: r for r in plan["participants"]}
    rest = [n for n in names if rows[n]["safe_to_delete"] or "trunk" in rows[n]["status"]]
    assert sorted(placed + held + rest) == sorted(names)

    # The mix this seed makes: the test would prove little without it.
    respected = [(u, p) for u, p in depends if u in step_of and step_of[p] < step_of[u]]
    assert len(plan["steps"]) >= 2 and len(respected) >= 2
    assert any(
        r["findings"] and r["findings"][0]["kind"] == "duplicate" for r in plan["reconcile_first"]
    )
    assert any(r["waits_for"] and r["findings"] for r in plan["reconcile_first"])  # a rebase
    assert max(len(s["merge"]) for s in plan["steps"]) >= 3

    again = run_cli("plan", "--format", "json", "--fail-on", "never", cwd=repo).json()
    for key in ("participants", "edges", "clusters", "steps", "reconcile_first", "cycles"):
        assert again[key] == plan[key], key
