"""The overlap index's duplicate keys are the duplicate detector's own gates.

Pull requests on a real repository, each touching its own file and sharing no names:
only the duplicate keys could pair them. A pair the detector cannot report (a helper
and a function smaller than it, two definitions whose lengths rule out the configured
similarity) is pruned; a pair it does report (the helper written inline in a larger
function) is kept, and the pruned scan reports what the exhaustive one does.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers import commit_all, git, init_repo, write

from driftcheck.engine.options import ScanOptions
from driftcheck.engine.pruning import plan_pairs
from driftcheck.engine.scan import scan, scanning
from driftcheck.report import render

HELPER = (
    "def pick_rows(rows, key):\n    out = []\n    for row in rows:\n"
    "        if row.get(key):\n            out.append(sorted(row))\n"
    "        else:\n            out.append(list(row))\n    return out\n"
)
BASE = {
    "pkg/__init__.py": "",
    "pkg/tiny.py": "def nudge(x):\n    return x + 1\n",
    "pkg/report.py": "def build(rows, key):\n    return len(rows)\n",
}
PULLS = {
    # adds a helper worth spotting inlined
    "helper": {"pkg/helpers.py": HELPER},
    # edits a function smaller than that helper: it cannot hold the helper's code
    "small-edit": {"pkg/tiny.py": "def nudge(x):\n    return x + 2\n"},
    # writes the helper's loop inline in a larger function
    "inline": {
        "pkg/report.py": (
            "def build(rows, key):\n    total = len(rows)\n    chosen = []\n"
            "    for row in rows:\n        if row.get(key):\n"
            "            chosen.append(sorted(row))\n        else:\n"
            "            chosen.append(list(row))\n    print(total)\n"
            "    return chosen\n"
        )
    },
    # a short definition that does something, far shorter than the helper
    "short": {"pkg/short.py": "def alpha(p):\n    q = foo(p)\n    r = bar(q)\n    return r\n"},
}


def _repo(root: Path) -> Path:
    repo = init_repo(root / "repo", dict(BASE))
    base = git("rev-parse", "HEAD", cwd=repo)
    for name, files in PULLS.items():
        git("checkout", "-q", "-B", name, base, cwd=repo)
        write(repo, dict(files))
        commit_all(repo, name)
        git("update-ref", f"refs/pr/{name}", "HEAD", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    return repo


def _options(repo: Path, **kw: object) -> ScanOptions:
    return ScanOptions(
        repo=str(repo), trunk="main", ref_patterns=("refs/pr/*",), use_cache=False, **kw
    )


def test_duplicate_keys_follow_the_detector(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    with scanning(_options(repo)) as done:
        people = done.found.participants
        plan = plan_pairs(done.session, people, done.trunk, done.options)
        assert plan is not None
        analysed = {tuple(sorted((people[a].name, people[b].name))) for a, b in plan.reasons}
    pr = {name: f"pr/{name}" for name in PULLS}
    assert (pr["helper"], pr["inline"]) in analysed
    # A helper and a smaller function; two lengths no near-duplicate can span.
    assert (pr["helper"], pr["small-edit"]) not in analysed
    assert (pr["helper"], pr["short"]) not in analysed

    exhaustive = scan(_options(repo, prune=False))
    pruned = scan(_options(repo))
    assert pruned.stats["pairs_pruned"] > 0

    def codes(result: object) -> list[str]:
        data = json.loads(render(result, "json", color=False))  # type: ignore[arg-type]
        return [json.dumps(f, sort_keys=True) for f in data["findings"]]

    assert codes(pruned) == codes(exhaustive)
    inlined = [json.loads(f) for f in codes(pruned) if '"DC301"' in f]
    assert any(f["details"].get("inlined") for f in inlined), codes(pruned)
