"""The "done when": per pair, the files driftcheck reports as conflicting are exactly the
files `git merge-tree` reports for the same two states, committed or not.

The base is real Python source copied at test time from installed packages (click,
networkx); seeded random edits land in three worktrees, some committed, some staged,
some only on disk or untracked. driftcheck runs first; then every worktree's state is
committed and git's own answer is computed for every pair of branches.

DRIFTCHECK_EQUIVALENCE_SEEDS=200 runs more seeds than the normal eight.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import random
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import add_worktree, git, init_repo, run_cli, write

SEEDS = range(int(os.environ.get("DRIFTCHECK_EQUIVALENCE_SEEDS", "8")))
WORKERS = ("w1", "w2", "w3")
MOVED_DIR = "src/nx/components"  # a folder one worktree may rename as a whole
_LABEL = re.compile(r"~[^/]*$")


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def project_files(limit: int = 30) -> dict[str, str]:
    """~30 real source files: all of click, networkx's components package, and a few more."""
    files: dict[str, str] = {}
    for path in sorted(package_dir("click").glob("*.py")):
        files[f"src/click/{path.name}"] = path.read_text(encoding="utf-8")
    nx = package_dir("networkx") / "algorithms"
    for path in sorted((nx / "components").glob("*.py")):
        files[f"{MOVED_DIR}/{path.name}"] = path.read_text(encoding="utf-8")
    for path in sorted(nx.glob("*.py")):
        if len(files) >= limit:
            break
        files[f"src/nx/{path.name}"] = path.read_text(encoding="utf-8")
    return files


@dataclass
class Worker:
    name: str
    path: Path
    rng: random.Random
    log: list[str] = field(default_factory=list)

    def present(self) -> list[str]:
        return sorted(
            str(p.relative_to(self.path))
            for p in self.path.rglob("*.py")
            if ".git" not in p.relative_to(self.path).parts and not p.is_symlink()
        )

    def put(self, rel: str, text: str) -> None:
        """Write a file so git's stat check cannot miss it: its size never equals the
        index entry's (a same-size edit in the index's second is git's racy case)."""
        indexed = subprocess.run(
            ["git", "cat-file", "-s", f":{rel}"], cwd=self.path, capture_output=True, text=True
        )
        if indexed.returncode == 0:
            while len(text.encode()) == int(indexed.stdout):
                text += "#\n"
        write(self.path, {rel: text})


def fresh_lines(rng: random.Random, who: str, count: int) -> list[str]:
    return [
        f"# {who} {rng.randrange(10**6)}: {rng.choice(['fix', 'tweak', 'refactor'])}\n"
        for _ in range(count)
    ]


def op_modify(w: Worker, hot: list[str]) -> None:
    files = [f for f in w.present() if f in hot] or w.present()
    rel = w.rng.choice(files)
    lines = (w.path / rel).read_text(encoding="utf-8").splitlines(keepends=True)
    if not lines:
        return
    # Edits cluster around a few hot spots so that regions sometimes overlap.
    spot = w.rng.choice([5, 30, 60, 120])
    start = min(len(lines) - 1, max(0, spot + w.rng.randrange(-3, 4)))
    length = w.rng.randrange(0, 4)
    new = fresh_lines(w.rng, w.name, w.rng.randrange(0, 3))
    lines[start : start + length] = new
    w.put(rel, "".join(lines))
    w.log.append(f"modify {rel}@{start}+{length}->{len(new)}")


def op_delete(w: Worker, hot: list[str]) -> None:
    files = [f for f in w.present() if f in hot] or w.present()
    rel = w.rng.choice(files)
    (w.path / rel).unlink()
    w.log.append(f"delete {rel}")


def op_add(w: Worker, hot: list[str]) -> None:
    rel = f"src/click/added_{w.rng.randrange(3)}.py"
    same = w.rng.random() < 0.3
    body = "X = 1\n" if same else "".join(fresh_lines(w.rng, w.name, 3))
    w.put(rel, body)
    w.log.append(f"add {rel} same={same}")


def op_rename(w: Worker, hot: list[str]) -> None:
    files = [f for f in w.present() if f in hot] or w.present()
    rel = w.rng.choice(files)
    target = rel.replace(".py", f"_{w.rng.choice(['a', 'b'])}.py")
    if (w.path / target).exists():
        return
    (w.path / target).parent.mkdir(parents=True, exist_ok=True)
    (w.path / rel).rename(w.path / target)
    w.log.append(f"rename {rel} -> {target}")


def op_file_directory(w: Worker, hot: list[str]) -> None:
    if (w.path / "src/click/extra").exists():
        return
    if w.rng.random() < 0.5:
        w.put("src/click/extra", "a file\n")
        w.log.append("add file src/click/extra")
    else:
        w.put("src/click/extra/mod.py", "Y = 2\n")
        w.log.append("add dir src/click/extra/")


def op_move_dir(w: Worker, hot: list[str]) -> None:
    """Rename a folder (alone, or with its subfolder), or add into one."""
    if not (w.path / MOVED_DIR).is_dir():
        return
    roll = w.rng.random()
    if roll < 0.3:
        shutil.move(str(w.path / MOVED_DIR), str(w.path / "src/nx/parts"))
        w.log.append("move dir src/nx/components -> src/nx/parts")
    elif roll < 0.5:
        shutil.move(str(w.path / "src/nx"), str(w.path / "src/graphs"))
        w.log.append("move dir src/nx -> src/graphs")
    else:
        rel = w.rng.choice([f"{MOVED_DIR}/added.py", "src/nx/added.py"])
        w.put(rel, f"Z = {w.rng.randrange(3)}\n")
        w.log.append(f"add {rel}")


def op_binary(w: Worker, hot: list[str]) -> None:
    w.put("src/data.bin", "\0".join(["bin", w.name, str(w.rng.randrange(3))]))
    w.log.append("change src/data.bin")


def op_odd_file(w: Worker, hot: list[str]) -> None:
    """A path with spaces and non-ASCII letters, or CRLF text with marker-like lines."""
    rel = w.rng.choice(["src/spaced name ü.py", "src/crlf.txt"])
    lines = ["a", "=======", f"{w.name} {w.rng.randrange(4)}", "<<<<<<< not a marker", "b"]
    w.put(rel, "\r\n".join(lines) + "\r\n")
    w.log.append(f"write {rel}")


def op_symlink(w: Worker, hot: list[str]) -> None:
    files = [f for f in w.present() if f in hot] or w.present()
    rel = w.rng.choice(files)
    (w.path / rel).unlink()
    (w.path / rel).symlink_to(f"../{w.name}-target")
    w.log.append(f"symlink {rel}")


def op_chmod(w: Worker, hot: list[str]) -> None:
    rel = w.rng.choice(w.present())
    (w.path / rel).chmod(0o755)
    w.log.append(f"chmod +x {rel}")


OPS = [
    (op_modify, 10),
    (op_delete, 1),
    (op_add, 2),
    (op_rename, 2),
    (op_file_directory, 1),
    (op_move_dir, 1),
    (op_chmod, 1),
    (op_binary, 1),
    (op_odd_file, 1),
    (op_symlink, 1),
]


def random_edits(w: Worker, hot: list[str], count: int) -> None:
    ops, weights = zip(*OPS, strict=True)
    for op in w.rng.choices(ops, weights=weights, k=count):
        op(w, hot)


def leave_uncommitted(w: Worker, hot: list[str]) -> None:
    """More edits, left on disk; some of them staged, some untracked."""
    random_edits(w, hot, w.rng.randrange(1, 5))
    if w.rng.random() < 0.5:
        changed = git("status", "--porcelain", "-z", "-uall", cwd=w.path).split("\0")
        for entry in changed:
            rel = entry[3:]
            if rel and w.rng.random() < 0.5 and (w.path / rel).is_file():
                git("add", "--", rel, cwd=w.path)
                w.log.append(f"stage {rel}")


def log_of(workers: list[Worker]) -> str:
    return "\n".join(f"{w.name}: {'; '.join(w.log)}" for w in workers)


def commit_state(path: Path) -> None:
    git("add", "-A", cwd=path)
    git("commit", "-q", "--allow-empty", "-m", "state", cwd=path)


def git_conflicts(repo: Path, a: str, b: str) -> set[str]:
    proc = subprocess.run(
        ["git", "merge-tree", "--write-tree", "-z", "--name-only", "--no-messages", a, b],
        cwd=repo,
        capture_output=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    names = proc.stdout.decode("utf-8", "surrogateescape").split("\0")[1:]
    return {_LABEL.sub("", name) for name in names if name}


def driftcheck_conflicts(data: dict[str, Any], a: str, b: str) -> set[str]:
    return {
        _LABEL.sub("", f["path"])
        for f in data["findings"]
        if f["kind"] == "textual-conflict" and set(f["participants"]) == {a, b}
    }


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return project_files()


@pytest.mark.parametrize("seed", SEEDS)
def test_conflicting_files_match_git_merge_tree(
    seed: int, sources: dict[str, str], workspace: Path
) -> None:
    assert len(sources) >= 25
    rng = random.Random(seed)
    base: dict[str, str | bytes] = {**sources, "src/data.bin": b"bin\0base\0"}
    base["src/crlf.txt"] = "a\r\nb\r\n"
    repo = init_repo(workspace / "repo", base)
    hot = rng.sample(sorted(sources), 6)
    workers = [Worker(n, add_worktree(repo, n), random.Random(rng.random())) for n in WORKERS]
    for w in workers:
        random_edits(w, hot, rng.randrange(1, 5))
        commit_state(w.path)
    # The trunk moves on too, after the worktrees forked.
    trunk = Worker("main", repo, random.Random(rng.random()))
    if rng.random() < 0.5:
        random_edits(trunk, hot, 2)
        commit_state(repo)
    for w in workers:
        if rng.random() < 0.8:
            leave_uncommitted(w, hot)

    result = run_cli("scan", "--format", "json", "--only", "textual-conflict", cwd=repo)
    assert result.code in (0, 1), result.stderr + "\n" + log_of([trunk, *workers])
    data = result.json()
    assert {p["name"] for p in data["participants"]} == {"main", *WORKERS}
    assert not data["stats"]["pairs_without_merge_base"]

    # git's answer: commit every worktree's state (what `git add -A` records).
    for w in [trunk, *workers]:
        commit_state(w.path)
    log = log_of([trunk, *workers])
    mismatches = []
    for a, b in itertools.combinations(["main", *WORKERS], 2):
        expected = git_conflicts(repo, a, b)
        got = driftcheck_conflicts(data, a, b)
        if expected != got:
            mismatches.append(f"{a} vs {b}: git {sorted(expected)} driftcheck {sorted(got)}")
    assert not mismatches, f"seed {seed}\n" + "\n".join(mismatches) + "\n" + log
    if data["findings"]:
        assert result.code == 1
