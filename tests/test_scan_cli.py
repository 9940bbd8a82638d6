"""`driftcheck scan` as a user runs it: exit codes, errors, output formats and files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import add_worktree, init_repo, run_cli, write

ANSI = re.compile(r"\x1b\[")
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "driftcheck" / "schema"
SCHEMA_FILE = SCHEMA_FILE / "driftcheck-v1.schema.json"
BASE = "".join(f"line {n}\n" for n in range(1, 21))
SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def edited(n: int, text: str) -> str:
    lines = BASE.splitlines(keepends=True)
    lines[n - 1] = f"{text} <edited>\n"  # never the same size as "line N"
    return "".join(lines)


@pytest.fixture
def repo(workspace: Path) -> Path:
    return init_repo(workspace / "repo", {"f.txt": BASE, "docs/g.md": BASE})


@pytest.fixture
def conflicted(repo: Path) -> Path:
    """Worktrees a and b both change f.txt line 4; c changes another file."""
    a, b, c = (add_worktree(repo, name) for name in ("a", "b", "c"))
    write(a, {"f.txt": edited(4, "a")})
    write(b, {"f.txt": edited(4, "b")})
    write(c, {"docs/g.md": edited(1, "c")})
    return repo


@pytest.fixture
def clean(repo: Path) -> Path:
    a, b = add_worktree(repo, "a"), add_worktree(repo, "b")
    write(a, {"f.txt": edited(2, "a")})
    write(b, {"f.txt": edited(18, "b")})
    return repo


def assert_one_line_error(result: Any) -> str:
    assert result.code == 2, (result.code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    line: str = lines[0]
    return line


# --- exit codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(None, 1), ("error", 1), ("warning", 1), ("info", 1), ("never", 0)],
)
def test_exit_code_with_an_error_finding(
    conflicted: Path, fail_on: str | None, expected: int
) -> None:
    args = ["scan"] + (["--fail-on", fail_on] if fail_on else [])
    result = run_cli(*args, cwd=conflicted)
    assert result.code == expected, result.stderr
    assert "textual-conflict" in result.stdout


@pytest.mark.parametrize("fail_on", [None, "error", "warning", "info", "never"])
def test_exit_code_zero_without_findings(clean: Path, fail_on: str | None) -> None:
    args = ["scan", "--format", "json"] + (["--fail-on", fail_on] if fail_on else [])
    result = run_cli(*args, cwd=clean)
    assert result.code == 0, result.stderr
    data = result.json()
    assert data["findings"] == []
    assert data["stats"]["merge_simulations"] == 1  # the pair was merged, cleanly


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    line = assert_one_line_error(run_cli("scan", cwd=plain))
    assert "not a git repository" in line.lower()
    missing = assert_one_line_error(run_cli("scan", "--repo", str(tmp_path / "nope"), cwd=plain))
    assert "nope" in missing


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "xml"],
        ["--only", "textual-conflict,nonsense"],
        ["--fail-on", "sometimes"],
        ["--color", "rainbow"],
        ["--no-such-flag"],
        ["--trunk", "does/not/exist"],
    ],
)
def test_usage_errors_are_one_line_exit_2(conflicted: Path, args: list[str]) -> None:
    line = assert_one_line_error(run_cli("scan", *args, cwd=conflicted))
    assert line.startswith("driftcheck")


def test_only_selects_kinds(conflicted: Path) -> None:
    only_textual = run_cli("scan", "--format", "json", "--only", "textual-conflict", cwd=conflicted)
    assert only_textual.code == 1
    assert {f["kind"] for f in only_textual.json()["findings"]} == {"textual-conflict"}
    others = run_cli("scan", "--format", "json", "--only", "stale-caller,duplicate", cwd=conflicted)
    assert others.code == 0, others.stderr
    assert all(f["kind"] != "textual-conflict" for f in others.json()["findings"])


def test_debug_flag_is_accepted(conflicted: Path) -> None:
    assert run_cli("scan", "--debug", cwd=conflicted).code == 1
    assert run_cli("--debug", "scan", cwd=conflicted).code == 1


def test_version_and_help(repo: Path) -> None:
    version = run_cli("--version", cwd=repo)
    assert version.code == 0
    assert "driftcheck" in version.stdout
    help_text = run_cli("scan", "--help", cwd=repo)
    assert help_text.code == 0
    for flag in ("--trunk", "--refs", "--committed-only", "--only", "--format", "--fail-on"):
        assert flag in help_text.stdout


# --- --output -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_file(conflicted: Path, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"report.{fmt}"
    result = run_cli("scan", "--format", fmt, "--output", str(target), cwd=conflicted)
    assert result.code == 1
    assert result.stdout == ""
    written = target.read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(written)["schema"] == "driftcheck/v1"
    else:
        assert written.startswith("driftcheck:")
        assert not ANSI.search(written)
    # The file holds exactly what stdout would have shown.
    shown = run_cli("scan", "--format", fmt, cwd=conflicted).stdout
    if fmt == "json":
        drop_time = [json.loads(x) for x in (written, shown)]
        for doc in drop_time:
            doc["stats"].pop("elapsed_ms")
            doc["stats"].pop("pairs_from_cache")  # the second run is answered from the cache
        assert drop_time[0] == drop_time[1]
    else:
        assert written.splitlines()[1:] == shown.splitlines()[1:]


def test_output_into_a_missing_folder_is_a_usage_error(conflicted: Path, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "report.json"
    line = assert_one_line_error(run_cli("scan", "--output", str(target), cwd=conflicted))
    assert "output" in line.lower()


# --- text output ----------------------------------------------------------------------


def test_text_summary_first_then_matrix(conflicted: Path) -> None:
    result = run_cli("scan", cwd=conflicted)
    lines = result.stdout.splitlines()
    first = lines[0]
    assert first.startswith("driftcheck:")
    assert "1 finding" in first
    assert "4 participants" in first
    # The matrix follows: a header naming every participant, then one row each.
    header_index = next(
        i for i, line in enumerate(lines) if line.split() == ["main", "a", "b", "c"]
    )
    rows = {
        line.split()[0]: line.split()[1:] for line in lines[header_index + 1 : header_index + 5]
    }
    assert set(rows) == {"main", "a", "b", "c"}
    assert rows["a"][2] == "1" and rows["b"][1] == "1"  # a/b conflict, symmetric
    assert rows["a"][3] == "0" and rows["c"][1] == "0"
    assert "f.txt" in result.stdout


def test_text_summary_without_drift(clean: Path) -> None:
    result = run_cli("scan", cwd=clean)
    assert result.code == 0
    first = result.stdout.splitlines()[0]
    assert first.startswith("driftcheck:")
    assert "no drift" in first


def test_no_ansi_when_piped_or_no_color(
    conflicted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_no_color = run_cli("scan", cwd=conflicted, env={"NO_COLOR": "1"})
    assert with_no_color.stdout and not ANSI.search(with_no_color.stdout)
    assert not ANSI.search(with_no_color.stderr)
    monkeypatch.delenv("NO_COLOR", raising=False)
    piped = run_cli("scan", cwd=conflicted)
    assert piped.stdout and not ANSI.search(piped.stdout)
    # ...while the reporter does colour when told to, so the checks above can fail.
    target = tmp_path / "colour.txt"
    run_cli("scan", "--color", "always", "--output", str(target), cwd=conflicted)
    assert ANSI.search(target.read_text(encoding="utf-8"))


def test_color_always_survives_a_pipe(conflicted: Path) -> None:
    """Regression: click.echo stripped ANSI codes off a pipe despite --color always."""
    forced = run_cli("scan", "--color", "always", cwd=conflicted)
    assert forced.code == 1
    assert ANSI.search(forced.stdout)


# --- JSON output ----------------------------------------------------------------------


def check_types(data: dict[str, Any]) -> None:
    assert data["schema"] == "driftcheck/v1"
    assert isinstance(data["repo"], str) and Path(data["repo"]).is_absolute()
    assert data["trunk"] is None or isinstance(data["trunk"], str)
    assert isinstance(data["warnings"], list)
    for p in data["participants"]:
        assert isinstance(p["name"], str) and p["name"]
        assert p["kind"] in ("worktree", "ref")
        assert p["path"] is None or Path(p["path"]).is_absolute()
        assert p["branch"] is None or isinstance(p["branch"], str)
        assert p["head"] is None or SHA.match(p["head"])
        assert isinstance(p["dirty"], bool)
        assert isinstance(p["changed_paths"], int) and p["changed_paths"] >= 0
    names = {p["name"] for p in data["participants"]}
    for f in data["findings"]:
        assert f["kind"] == "textual-conflict"
        assert re.fullmatch(r"DC1\d\d", f["code"])
        assert f["severity"] in ("error", "warning", "info")
        assert set(f["participants"]) <= names and len(f["participants"]) == 2
        assert isinstance(f["path"], str)
        assert f["line"] is None or (isinstance(f["line"], int) and f["line"] >= 1)
        assert isinstance(f["message"], str) and f["message"]
        details = f["details"]
        assert isinstance(details["conflict_type"], str)
        assert [details["left"], details["right"]] == f["participants"]
        for hunk in details["hunks"]:
            for side in (hunk["left"], hunk["right"]):
                assert side is None or (len(side) == 2 and side[0] <= side[1])
        assert isinstance(details["git_messages"], list)
    stats = data["stats"]
    for key in ("pairs", "pairs_analysed", "pairs_skipped_disjoint", "elapsed_ms"):
        assert isinstance(stats[key], int) and stats[key] >= 0, key
    assert isinstance(stats["pairs_without_merge_base"], list)
    n = len(data["participants"])
    assert stats["pairs"] == n * (n - 1) // 2


def validate_schema(data: dict[str, Any]) -> None:
    if not SCHEMA_FILE.is_file():
        pytest.skip("driftcheck-v1.schema.json not written yet")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(data)


def test_json_fields_and_types(conflicted: Path) -> None:
    result = run_cli("scan", "--format", "json", cwd=conflicted)
    assert result.code == 1
    data = result.json()
    check_types(data)
    assert Path(data["repo"]).resolve() == conflicted.resolve()
    assert data["participants"][0]["name"] == "main"
    assert {p["name"] for p in data["participants"]} == {"main", "a", "b", "c"}
    finding = data["findings"][0]
    assert (finding["path"], finding["line"], finding["code"]) == ("f.txt", 4, "DC101")
    assert data["stats"]["pairs"] == 6
    assert data["stats"]["pairs_analysed"] == 1
    assert data["stats"]["pairs_skipped_disjoint"] == 5
    validate_schema(data)


def test_json_validates_with_refs_trunk_and_no_merge_base(
    conflicted: Path, workspace: Path
) -> None:
    from helpers import git

    other = init_repo(workspace / "other", {"x.txt": "x\n"})
    git("fetch", "-q", str(other), "main:refs/remotes/other/main", cwd=conflicted)
    git("update-ref", "refs/remotes/origin/main", "main", cwd=conflicted)
    result = run_cli(
        "scan",
        "--format",
        "json",
        "--refs",
        "refs/remotes",
        "--trunk",
        "refs/remotes/origin/main",
        cwd=conflicted,
    )
    assert result.code == 1, result.stderr
    data = result.json()
    check_types(data)
    assert data["stats"]["pairs_without_merge_base"]
    assert any(p["kind"] == "ref" for p in data["participants"])
    validate_schema(data)


def test_json_validates_for_an_empty_repository(workspace: Path) -> None:
    repo = init_repo(workspace / "empty")
    result = run_cli("scan", "--format", "json", cwd=repo)
    assert result.code == 0, result.stderr
    data = result.json()
    check_types(data)
    validate_schema(data)


def test_json_is_deterministic(conflicted: Path) -> None:
    runs = [run_cli("scan", "--format", "json", cwd=conflicted).json() for _ in range(2)]
    for data in runs:
        data["stats"].pop("elapsed_ms")
        data["stats"].pop("pairs_from_cache")  # the second run is answered from the cache
    assert runs[0] == runs[1]
