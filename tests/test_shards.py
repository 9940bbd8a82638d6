"""Pruned and sharded scans against the exhaustive one, on generated repositories.

Each seed builds a real repository: a trunk that keeps moving (edits, a deleted
module, a folder that becomes a file), and pull requests forked at random trunk
commits that edit shared functions, change signatures others call, add helpers
alike, empty folders others add to, stack on each other or merge the trunk in.
The overlap index must lose no finding the exhaustive scan reports (DC303, a side's
"already exists at the base", is judged against the side's own fork point, so the
exhaustive scan may add repeats of it judged against another pair's older base),
and the merged shards must equal the unsharded report.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import commit_all, git, init_repo, run_cli, snapshot_repo, write

from driftcheck.engine import windows
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import scan
from driftcheck.engine.shards import Shard, assign, parse_shard
from driftcheck.errors import UsageError
from driftcheck.report import render
from driftcheck.symbols.index import SymbolIndex

HELPER = (
    "def {name}(rows, key):\n    out = []\n    for row in rows:\n"
    "        if row.get(key):\n            out.append(sorted(row))\n"
    "        else:\n            out.append(list(row))\n    return out\n"
)
# The helper's loop written inline (the duplicate detector's DC301 `inlined`).
INLINE = (
    "    chosen = []\n    for row in [{}]:\n        if row.get(x):\n"
    "            chosen.append(sorted(row))\n        else:\n"
    "            chosen.append(list(row))\n    print(chosen)\n"
)


def _module(i: int, arity: int = 1) -> str:
    params = ", ".join(["x", "y", "z"][:arity])
    return (
        f"def f{i}({params}):\n    total = 0\n    for v in range(10):\n"
        f"        total += v\n    return total\n\n\nLIMIT_{i} = {i}\n"
    )


def build(root: Path, seed: int) -> tuple[Path, int]:
    """A repository with `refs/pr/*` and a moving `main`; returns it and its PR count."""
    rng = random.Random(seed)
    modules = 4
    base: dict[str, str | bytes] = {f"pkg/m{i}.py": _module(i) for i in range(modules)}
    base.update({"pkg/__init__.py": "", "docs/a/x.md": "x\n", "docs/b.md": "b\n"})
    repo = init_repo(root / "repo", base)
    trunk = [git("rev-parse", "HEAD", cwd=repo)]
    for step in range(4):
        if step == 1:
            git("rm", "-q", "-r", "docs/a", cwd=repo)
            write(repo, {"docs/a": "now a file\n"})
        else:
            i = rng.randrange(modules)
            write(repo, {f"pkg/m{i}.py": _module(i) + f"\nSTEP = {step}\n"})
        commit_all(repo, f"trunk {step}")
        trunk.append(git("rev-parse", "HEAD", cwd=repo))
    prs = rng.randint(5, 8)
    heads: list[str] = []
    for n in range(prs):
        start = rng.choice([*trunk, *heads[-1:]]) if heads and rng.random() < 0.2 else None
        git("checkout", "-q", "-B", f"pr{n}", start or rng.choice(trunk), cwd=repo)
        for _ in range(rng.randint(1, 3)):
            _edit(repo, rng, modules, n)
        commit_all(repo, f"pr {n}")
        if rng.random() < 0.15:
            git("merge", "-q", "--no-edit", "-X", "theirs", "main", cwd=repo, check=False)
            git("merge", "--abort", cwd=repo, check=False)
        heads.append(git("rev-parse", "HEAD", cwd=repo))
        git("update-ref", f"refs/pr/{n}", "HEAD", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    return repo, prs


def _edit(repo: Path, rng: random.Random, modules: int, n: int) -> None:
    i = rng.randrange(modules)
    choice = rng.randrange(8)
    path = repo / f"pkg/m{i}.py"
    text = path.read_text() if path.exists() else _module(i)
    if choice == 0:  # a signature others call
        write(repo, {f"pkg/m{i}.py": text.replace(f"def f{i}(x)", f"def f{i}(x, y)")})
    elif choice == 1:  # a new caller of another module's function
        j = rng.randrange(modules)
        call = f"from pkg.m{j} import f{j}\n\n\ndef use{n}():\n    return f{j}(1)\n"
        write(repo, {f"pkg/use{n}_{j}.py": call})
    elif choice == 2:  # a helper others add too
        write(repo, {f"pkg/h{n}.py": HELPER.format(name=f"pick{rng.randrange(2)}")})
    elif choice == 3:  # the same constant set differently
        write(repo, {f"pkg/m{i}.py": text.replace(f"LIMIT_{i} = {i}", f"LIMIT_{i} = {n + 50}")})
    elif choice == 4:  # a folder emptied, or added to
        if (repo / "docs/a").is_dir() and rng.random() < 0.5:
            git("rm", "-q", "-r", "--ignore-unmatch", "docs/a", cwd=repo)
        else:
            write(repo, {f"docs/c/n{n}.md": "new\n"})
    elif choice == 5:  # a body edit in a shared function
        write(repo, {f"pkg/m{i}.py": text.replace("total += v", f"total += v * {n + 2}")})
    elif choice == 6:
        write(repo, {f"docs/only{n}.md": "docs\n"})
    else:  # a shared function that writes a helper's loop inline
        inlined = text.replace("    total = 0\n", "    total = 0\n" + INLINE, 1)
        write(repo, {f"pkg/m{i}.py": inlined})


def _options(repo: Path, **kw: Any) -> ScanOptions:
    return ScanOptions(repo=str(repo), trunk="main", ref_patterns=("refs/pr/*",), **kw)


def _findings(result: Any) -> list[str]:
    data = json.loads(render(result, "json", color=False))
    return [json.dumps(f, sort_keys=True) for f in data["findings"]]


@pytest.mark.parametrize("seed", range(8))
def test_pruned_scan_loses_no_finding(tmp_path: Path, seed: int) -> None:
    repo, prs = build(tmp_path, seed)
    before = snapshot_repo(repo)
    exhaustive = scan(_options(repo, prune=False, use_cache=False))
    pruned = scan(_options(repo, use_cache=False))
    assert snapshot_repo(repo) == before
    assert pruned.stats["pairs"] == exhaustive.stats["pairs"] == (prs + 1) * prs // 2
    assert pruned.stats["pairs_enumerated"] + pruned.stats["pairs_pruned"] == pruned.stats["pairs"]
    full, kept = _findings(exhaustive), _findings(pruned)
    two_sided = [f for f in full if '"DC303"' not in f]
    assert [f for f in kept if '"DC303"' not in f] == two_sided
    assert set(kept) <= set(full)
    # git agrees: every pair git cannot merge cleanly still has a textual finding.
    conflicted = {tuple(sorted(json.loads(f)["participants"])) for f in kept if '"DC1' in f}
    names = {p.name: p.head for p in pruned.participants}
    for a, b in conflicted:
        tree = git("merge-tree", "--write-tree", names[a], names[b], cwd=repo, check=False)
        assert "CONFLICT" in tree or len(tree.split()) > 1, (a, b)


@pytest.mark.parametrize("seed", [0, 3])
def test_merged_shards_equal_the_unsharded_scan(tmp_path: Path, seed: int) -> None:
    repo, _ = build(tmp_path, seed)
    count = random.Random(seed).randint(2, 5)
    # No cache: each shard's runner starts cold, and `pairs_from_cache` must agree.
    args = ["scan", "--refs", "refs/pr/*", "--trunk", "main", "--format", "json", "--no-cache"]
    whole = run_cli(*args, "--output", str(tmp_path / "whole.json"), cwd=repo)
    assert whole.code in (0, 1), whole.stderr
    outputs = []
    for k in range(1, count + 1):
        out = tmp_path / f"shard{k}.json"
        done = run_cli(*args, "--shard", f"{k}/{count}", "--output", str(out), cwd=repo)
        assert done.code in (0, 1), done.stderr
        outputs.append(str(out))
    shard_pairs = [json.loads(Path(o).read_text())["stats"]["shard"]["pairs"] for o in outputs]
    merged = run_cli("merge-reports", *reversed(outputs), "--format", "json", cwd=tmp_path)
    assert merged.code == whole.code, merged.stderr
    expected = json.loads((tmp_path / "whole.json").read_text())
    got = merged.json()
    for document in (expected, got):
        document["stats"].pop("elapsed_ms")
    assert got["stats"] == expected["stats"]
    assert got == expected
    assert sum(shard_pairs) == expected["stats"]["pairs_enumerated"]
    sarif = run_cli("merge-reports", *outputs, "--format", "sarif", cwd=tmp_path)
    assert sarif.code == whole.code and len(sarif.json()["runs"][0]["results"]) == len(
        expected["findings"]
    )


def test_shards_balance_cost_not_count() -> None:
    costs = [100.0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    shares = [assign(costs, float, Shard(k, 2)) for k in (1, 2)]
    assert sorted(shares[0] + shares[1]) == list(range(len(costs)))
    assert shares[0] == [0]  # the expensive pair alone; the other shard takes the rest
    assert assign(costs, float, Shard(2, 2)) == shares[1]  # deterministic


@pytest.mark.parametrize("value", ["0/4", "5/4", "3", "a/b", "1/0", "-1/2", "1/2000"])
def test_malformed_shard_is_a_usage_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(UsageError):
        parse_shard(value)
    repo = init_repo(tmp_path / "repo", {"a.txt": "a\n"})
    done = run_cli("scan", "--shard", value, cwd=repo)
    assert done.code == 2 and "--shard" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_merge_reports_rejects_what_is_not_a_complete_set(tmp_path: Path) -> None:
    repo, _ = build(tmp_path, 1)
    args = ["scan", "--refs", "refs/pr/*", "--trunk", "main", "--format", "json"]
    for k in (1, 2):
        run_cli(*args, "--shard", f"{k}/3", "--output", str(tmp_path / f"s{k}.json"), cwd=repo)
    (tmp_path / "plain.txt").write_text("hello")
    (tmp_path / "other.json").write_text('{"schema": "something/else"}')
    cases = {
        "shards missing: 3 of 3": [tmp_path / "s1.json", tmp_path / "s2.json"],
        "again": [tmp_path / "s1.json", tmp_path / "s1.json", tmp_path / "s2.json"],
        "not JSON": [tmp_path / "plain.txt"],
        "schema": [tmp_path / "other.json"],
        "cannot read": [tmp_path / "absent.json"],
    }
    for words, files in cases.items():
        done = run_cli("merge-reports", *map(str, files), cwd=tmp_path)
        assert done.code == 2, (words, done.stderr)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_without_a_trunk_every_pair_is_enumerated(tmp_path: Path) -> None:
    repo, prs = build(tmp_path, 2)
    result = scan(replace(_options(repo, use_cache=False), trunk=None))
    assert result.stats["pairs_pruned"] == 0
    assert result.stats["pairs_enumerated"] == result.stats["pairs"] == (prs + 1) * prs // 2


def _own_files_repo(root: Path, prs: int) -> Path:
    """A trunk and `prs` pull requests, each adding a module only it has (its own
    blob) and changing a shared one, so every pair may meet."""
    repo = init_repo(root / "repo", {"pkg/__init__.py": "", "pkg/core.py": _module(0)})
    for n in range(prs):
        git("checkout", "-q", "-B", f"pr{n}", "main", cwd=repo)
        own = HELPER.format(name=f"own{n}").replace("out = []", f"out = [{n}]")
        write(repo, {f"pkg/own{n}.py": own, "pkg/core.py": _module(0) + f"\nSTEP = {n}\n"})
        commit_all(repo, f"pr {n}")
        git("update-ref", f"refs/pr/{n}", "HEAD", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    return repo


def test_a_shard_parses_only_its_own_participants(tmp_path: Path) -> None:
    """A shard plans its pairs from the footprints alone: the files of a pull
    request none of its pairs involves are never parsed, and the shards' parts of
    the plan add up to the unsharded one."""
    from driftcheck.engine.scan import scanning

    prs, count = 12, 8
    repo = _own_files_repo(tmp_path, prs)
    whole = scan(_options(repo, use_cache=False))
    enumerated, pruned, parsed_anywhere = 0, 0, set()
    for k in range(1, count + 1):
        options = _options(repo, use_cache=False, shard=Shard(k, count))
        with scanning(options) as scanned:
            stats = scanned.result.stats
            parsed = {path for _oid, path in scanned.session.index._by_blob}
        own = {p for p in parsed if p.startswith("pkg/own")}
        involved = set(stats["shard"]["changed_paths"])  # the participants of its pairs
        # At most two blocks of four (of 13 participants): never all twelve.
        assert 0 < len(own) <= 7, (k, sorted(own))
        assert {f"pkg/own{n}.py" for n in range(prs) if f"pr/{n}" in involved} <= own
        parsed_anywhere |= own
        enumerated += stats["pairs_enumerated"]
        pruned += stats["pairs_pruned"]
    assert parsed_anywhere == {f"pkg/own{n}.py" for n in range(prs)}
    assert enumerated == whole.stats["pairs_enumerated"]
    assert pruned == whole.stats["pairs_pruned"]


def test_shares_partition_the_candidate_pairs() -> None:
    from driftcheck.engine.overlap import Footprint
    from driftcheck.engine.shards import share_of

    rng = random.Random(7)
    for _ in range(20):
        size, count = rng.randint(2, 30), rng.randint(2, 12)
        footprints = [
            Footprint(
                number=n,
                changes={f"src/f{rng.randrange(6)}.py": "M"} if rng.random() < 0.8 else {},
                everyone=rng.random() < 0.1,
            )
            for n in range(size)
        ]
        cheap = {
            (a, b): {rng.choice(["path", "trunk", "history", "everyone"])}
            for a in range(size)
            for b in range(a + 1, size)
            if rng.random() < 0.3
        }
        shares = [
            share_of(footprints, cheap, Shard(k, count), semantic=True) for k in range(1, count + 1)
        ]
        union = [p for s in shares for p in s.pairs]
        assert len(union) == len(set(union)) == shares[0].candidates  # each pair once
        assert set(cheap) <= set(union)
        source = sorted(fp.number for fp in footprints if fp.source and not fp.everyone)
        assert {(a, b) for a in source for b in source if a < b} <= set(union)
        for s in shares:
            assert all(a in s.participants and b in s.participants for a, b in s.pairs)
        assert set().union(*(s.participants for s in shares)) == set(range(size))


def test_merged_local_shards_keep_warnings_and_too_large_files(tmp_path: Path) -> None:
    """What each shard sees of the participants (syntax errors in changed files,
    files too large to parse, changed paths) is united by merge-reports into what
    one unsharded scan reports."""
    repo = _own_files_repo(tmp_path, 6)
    for n, files in {
        1: {"pkg/broken.py": "def f(:\n    return 1\n"},
        4: {"pkg/huge.py": "X = 1\n" * 400_000},  # above the 2,000,000-byte parse limit
        5: {"pkg/broken5.py": "class (:\n"},
    }.items():
        git("checkout", "-q", f"pr{n}", cwd=repo)
        write(repo, files)
        commit_all(repo, f"more {n}")
        git("update-ref", f"refs/pr/{n}", "HEAD", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    args = ["scan", "--refs", "refs/pr/*", "--trunk", "main", "--format", "json", "--no-cache"]
    run_cli(*args, "--output", str(tmp_path / "whole.json"), cwd=repo)
    outputs = []
    for k in range(1, 5):
        out = tmp_path / f"shard{k}.json"
        done = run_cli(*args, "--shard", f"{k}/4", "--output", str(out), cwd=repo)
        assert done.code in (0, 1), done.stderr
        assert json.loads(out.read_text())["stats"]["shard"]["plan"] == "local"
        outputs.append(str(out))
    merged = run_cli("merge-reports", *outputs, "--format", "json", cwd=tmp_path)
    expected = json.loads((tmp_path / "whole.json").read_text())
    got = merged.json()
    for document in (expected, got):
        document["stats"].pop("elapsed_ms")
    assert any("pkg/broken.py has a syntax error" in w for w in expected["warnings"])
    assert expected["stats"]["files_too_large"][0]["path"] == "pkg/huge.py"
    assert got == expected


@pytest.mark.parametrize("seed", [1, 5])
def test_small_windows_find_what_one_window_finds(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-off scan prepares and frees its pairs a window at a time
    (engine/windows.py): the findings cannot depend on the window's size."""
    repo, _ = build(tmp_path, seed)
    whole = scan(_options(repo, use_cache=False))
    freed: list[int] = []
    forget = SymbolIndex.forget_tables

    def counted(self: SymbolIndex, keep: Any) -> None:
        freed.append(len(self._by_blob))
        forget(self, keep)

    monkeypatch.setattr(windows, "WINDOW", 2)
    monkeypatch.setattr(SymbolIndex, "forget_tables", counted)
    windowed = scan(_options(repo, use_cache=False))
    assert freed and max(freed) > 0, "no window let go of anything: nothing is tested"
    assert _findings(windowed) == _findings(whole)
    assert windowed.stats["pairs_analysed"] == whole.stats["pairs_analysed"]
