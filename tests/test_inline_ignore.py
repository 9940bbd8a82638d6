"""An inline ignore by id (#20 item 7): `# driftcheck: ignore[<id>]` (or `//` in
C-like languages) on or just above a line a finding cites, in either side's file,
silences that finding and no other. The text that counts is each participant's own:
a worktree's uncommitted files included. The CLI runs as a subprocess on real
repositories with real worktrees."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import add_worktree, git, init_repo, run_cli, write

BASE = {"app.py": "def greet(name):\n    return 'hi ' + name\n\n\ndef main():\n    return 1\n"}
USE = "from app import greet\n\n\ndef hello():\n    return greet('x')\n"


def findings(where: Path, *extra: str) -> list[dict]:
    result = run_cli("scan", "--format", "json", *extra, cwd=where)
    assert result.code in (0, 1), result.stderr
    return result.json()["findings"]


def stale_call(workspace: Path) -> tuple[Path, Path, Path, str]:
    """Worktree a changes greet's signature; b calls it the old way (uncommitted)."""
    repo = init_repo(workspace / "repo", BASE)
    a, b = add_worktree(repo, "a"), add_worktree(repo, "b")
    write(a, {"app.py": BASE["app.py"].replace("greet(name)", "greet(name, loud)")})
    write(b, {"use.py": USE})
    (finding,) = [f for f in findings(repo) if f["code"] == "DC201"]
    return repo, a, b, finding["id"]


def test_an_inline_ignore_on_the_cited_line_silences_the_finding(workspace: Path) -> None:
    repo, _a, b, found = stale_call(workspace)
    write(b, {"use.py": USE.replace("greet('x')", f"greet('x')  # driftcheck: ignore[{found}]")})
    for where in (repo, b):
        assert [f for f in findings(where) if f["code"] == "DC201"] == []
    text = run_cli("scan", cwd=repo)
    assert text.code == 0 and "DC201" not in text.stdout


def test_an_inline_ignore_just_above_the_line_silences_it(workspace: Path) -> None:
    repo, _a, b, found = stale_call(workspace)
    marked = USE.replace("    return greet", f"    # driftcheck: ignore[{found}]\n    return greet")
    write(b, {"use.py": marked})
    assert [f for f in findings(repo) if f["code"] == "DC201"] == []


def test_an_inline_ignore_in_the_other_sides_file_counts_too(workspace: Path) -> None:
    """The definition the caller misses is cited in worktree a's own (uncommitted) file."""
    repo, a, _b, found = stale_call(workspace)
    text = (a / "app.py").read_text()
    write(a, {"app.py": text.replace("loud):", f"loud):  # driftcheck: ignore[{found}]")})
    assert git("status", "--porcelain", cwd=a) == "M app.py"  # not committed
    assert [f for f in findings(repo) if f["code"] == "DC201"] == []


def test_another_id_or_a_marker_elsewhere_silences_nothing(workspace: Path) -> None:
    repo, a, b, found = stale_call(workspace)
    other = "dc-0123456789abcdef"
    write(b, {"use.py": USE.replace("greet('x')", f"greet('x')  # driftcheck: ignore[{other}]")})
    # the right id, far from any line the finding cites
    write(a, {"app.py": (a / "app.py").read_text() + f"\n\n# driftcheck: ignore[{found}]\n"})
    (kept,) = [f for f in findings(repo) if f["code"] == "DC201"]
    assert kept["id"] == found
    # and only in a comment: the id quoted in a string is not a marker
    write(b, {"use.py": USE.replace("greet('x')", f"greet('driftcheck: ignore[{found}]')")})
    assert [f["id"] for f in findings(repo) if f["code"] == "DC201"] == [found]


def test_a_c_like_comment_silences_a_conflict_in_a_javascript_file(workspace: Path) -> None:
    repo = init_repo(workspace / "repo", {"cart.js": "const rate = 1;\nconst name = 'cart';\n"})
    a, b = add_worktree(repo, "a"), add_worktree(repo, "b")
    write(a, {"cart.js": "const rate = 2;\nconst name = 'cart';\n"})
    write(b, {"cart.js": "const rate = 3;\nconst name = 'cart';\n"})
    (conflict,) = [f for f in findings(repo) if f["code"] == "DC101"]
    write(b, {"cart.js": f"const rate = 3; // driftcheck: ignore[{conflict['id']}]\n"
                         "const name = 'cart';\n"})  # fmt: skip
    assert [f for f in findings(repo) if f["code"] == "DC101"] == []


def test_the_hook_honours_an_inline_ignore_in_the_proposed_text(workspace: Path) -> None:
    """`check` judges a proposed state of a file: a marker in it counts as well."""
    _repo, _a, b, found = stale_call(workspace)
    proposal = workspace / "proposal.py"
    proposal.write_text(USE)
    loud = run_cli("check", "use.py", "--content-file", str(proposal), "--format", "json", cwd=b)
    assert [f["id"] for f in json.loads(loud.stdout)["findings"]] == [found]
    proposal.write_text(USE.replace("greet('x')", f"greet('x')  # driftcheck: ignore[{found}]"))
    quiet = run_cli("check", "use.py", "--content-file", str(proposal), "--format", "json", cwd=b)
    assert quiet.code == 0, quiet.stderr
    assert json.loads(quiet.stdout)["findings"] == []


def test_an_html_comment_silences_a_conflict_in_markdown(workspace: Path) -> None:
    """Any text file counts, not only source code."""
    repo = init_repo(workspace / "repo", {"README.md": "# Shop\n\nRate: 1\n"})
    a, b = add_worktree(repo, "a"), add_worktree(repo, "b")
    write(a, {"README.md": "# Shop\n\nRate: 2\n"})
    write(b, {"README.md": "# Shop\n\nRate: 3\n"})
    (conflict,) = [f for f in findings(repo) if f["code"] == "DC101"]
    write(a, {"README.md": f"# Shop\n\n<!-- driftcheck: ignore[{conflict['id']}] -->\nRate: 2\n"})
    assert [f for f in findings(repo) if f["code"] == "DC101"] == []
