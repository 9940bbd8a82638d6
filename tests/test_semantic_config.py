"""`[tool.driftcheck]` / `.driftcheck.toml` shape the semantic findings of one repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftcheck.demo.scenario import Scenario, Worktree, build, write
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import scan

PRICING = """\
def net(amount, discount=0):
    base = amount - discount
    if base < 0:
        base = 0
    return base


def gross(amount):
    value = amount * 2
    if value < 0:
        value = 0
    value = value + 1
    return value
"""
HELPER = """\
def {name}(rows, key):
    seen = set()
    out = []
    for row in rows:
        if row[key] not in seen:
            seen.add(row[key])
            out.append(row)
    return out
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """changer re-signs `net` and edits `gross`; caller edits `gross` too (other lines,
    the same variable), calls `net` the old way, and both add the same helper under
    different names."""
    changer = PRICING.replace("discount=0)", "discount, currency)").replace("* 2", "* 3")
    caller = PRICING.replace("value + 1", "value + 2")
    scenario = Scenario(
        base={"pricing.py": PRICING, "pyproject.toml": '[project]\nname = "shop"\n'},
        worktrees=[
            Worktree(
                "changer",
                [
                    write("pricing.py", changer, "committed"),
                    write("rows.py", HELPER.format(name="unique_rows"), "committed"),
                ],
            ),
            Worktree(
                "caller",
                [
                    write("pricing.py", caller, "unstaged"),
                    write("use.py", "from pricing import net\n\nx = net(5)\n", "unstaged"),
                    write("dedupe.py", HELPER.format(name="dedupe"), "unstaged"),
                ],
            ),
        ],
    )
    return build(scenario, tmp_path_factory.mktemp("config"))


def codes(repo: Path, files: dict[str, str]) -> set[tuple[str, str]]:
    for name in ("pyproject.toml", ".driftcheck.toml"):
        (repo / name).unlink(missing_ok=True)
    for name, text in files.items():
        (repo / name).write_text(text)
    result = scan(
        ScanOptions(
            repo=str(repo), only=frozenset({"stale-caller", "duplicate", "contradicting-edit"})
        )
    )
    return {(f.code, f.severity.value) for f in result.findings}


def test_defaults(repo: Path) -> None:
    assert codes(repo, {}) == {("DC201", "error"), ("DC301", "warning"), ("DC401", "warning")}


def test_pyproject_severities_and_disable(repo: Path) -> None:
    config = (
        "[tool.driftcheck]\n"
        'disable = ["duplicate"]\n'
        "[tool.driftcheck.severity]\n"
        'stale-caller = "warning"\n'
        'DC401 = "error"\n'
    )
    assert codes(repo, {"pyproject.toml": config}) == {("DC201", "warning"), ("DC401", "error")}


def test_dedicated_file_wins_and_ignores_paths(repo: Path) -> None:
    files = {
        "pyproject.toml": '[tool.driftcheck]\ndisable = ["duplicate"]\n',
        ".driftcheck.toml": 'ignore-paths = ["use.py"]\n',
    }
    assert codes(repo, files) == {("DC301", "warning"), ("DC401", "warning")}


@pytest.mark.parametrize(("minimum", "reported"), [(7, True), (8, False)])
def test_duplicate_min_statements(repo: Path, minimum: int, reported: bool) -> None:
    # The helper has seven statements.
    files = {".driftcheck.toml": f"[duplicate]\nmin-statements = {minimum}\n"}
    assert (("DC301", "warning") in codes(repo, files)) is reported
