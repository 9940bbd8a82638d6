"""The text reporter and the `render()` dispatcher, on ScanResults built from model objects."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest

from driftcheck.model import (
    CONTRADICTING_EDIT,
    DUPLICATE,
    STALE_CALLER,
    TEXTUAL_CONFLICT,
    Finding,
    Participant,
    ScanResult,
    Severity,
)
from driftcheck.report import FORMATS, pair_matrix, render
from driftcheck.report.text import render as render_text

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def worktree(name: str, *, dirty: bool = False) -> Participant:
    return Participant(
        name=name,
        kind="worktree",
        path=f"/repo/wt/{name}",
        branch=name,
        head="1" * 40,
        tree="2" * 40,
        state_commit="3" * 40,
        dirty=dirty,
    )


def conflict(left: str, right: str, path: str = "src/app.py", line: int = 10) -> Finding:
    return Finding(
        kind=TEXTUAL_CONFLICT,
        code="DC101",
        severity=Severity.ERROR,
        participants=(left, right),
        path=path,
        line=line,
        message=f"{left} and {right} both change {path}",
        details={
            "conflict_type": "content",
            "hunks": [{"left": [10, 14], "right": [11, 11]}, {"left": None, "right": [30, 32]}],
            "left": left,
            "right": right,
            "git_messages": [f"CONFLICT (content): Merge conflict in {path}"],
            "git_path": path,
            "left_hunk": "timeout = 10\nretries = 3\n",
            "right_hunk": "timeout = 30\n",
        },
    )


def stale_caller(left: str, right: str) -> Finding:
    return Finding(
        kind=STALE_CALLER,
        code="DC201",
        severity=Severity.ERROR,
        participants=(left, right),
        path="src/cli.py",
        line=40,
        symbol="app.auth.login",
        message=f"{right} calls login(user) but {left} changed its signature",
        details={
            "old_signature": "def login(user)",
            "new_signature": "def login(user, *, token)",
            "definition": {"path": "src/auth.py", "line": 8, "participant": left},
            "calls": [{"path": "src/cli.py", "line": 40, "text": "login(current)"}],
        },
    )


def duplicate_of_base(name: str) -> Finding:
    return Finding(
        kind=DUPLICATE,
        code="DC303",
        severity=Severity.INFO,
        participants=(name,),
        path="src/util.py",
        line=3,
        symbol="util.slug",
        message=f"{name} adds slug(), which duplicates text.slugify in the base",
        details={"existing": {"path": "src/text.py", "line": 12}, "similarity": 0.97},
    )


def contradiction(left: str, right: str) -> Finding:
    return Finding(
        kind=CONTRADICTING_EDIT,
        code="DC404",
        severity=Severity.WARNING,
        participants=(left, right),
        path="src/config.py",
        line=2,
        symbol="config.TIMEOUT",
        message=f"{left} sets TIMEOUT = 10, {right} sets TIMEOUT = 30",
        details={"values": {left: "10", right: "30"}},
    )


def scan(
    names: list[str],
    findings: list[Finding],
    *,
    warnings: list[str] | None = None,
    stats: dict[str, object] | None = None,
) -> ScanResult:
    pairs = len(names) * (len(names) - 1) // 2
    base_stats = {
        "participants": len(names),
        "pairs": pairs,
        "pairs_analysed": pairs,
        "pairs_skipped_disjoint": 0,
        "pairs_without_merge_base": [],
        "elapsed_ms": 120,
    }
    return ScanResult(
        repo="/repo",
        trunk="refs/heads/main",
        participants=[worktree(n) for n in names],
        findings=findings,
        stats={**base_stats, **(stats or {})},
        warnings=warnings or [],
    )


THREE = ["feat/a", "feat/b", "fix/c"]


def three_way() -> ScanResult:
    return scan(
        THREE,
        [
            conflict("feat/a", "feat/b"),
            stale_caller("feat/a", "fix/c"),
            contradiction("fix/c", "feat/b"),
            duplicate_of_base("fix/c"),
        ],
    )


# --- summary ----------------------------------------------------------------------


def test_summary_line_counts_findings_by_severity() -> None:
    first = render_text(three_way()).splitlines()[0]
    assert first == (
        "driftcheck: 4 findings (2 errors, 1 warning, 1 info) among 3 participants"
        " · 3 pairs, 3 analysed · 120 ms"
    )


def test_summary_line_without_findings_says_no_drift() -> None:
    output = render_text(scan(["feat/a", "feat/b"], []))
    assert output.splitlines()[0] == (
        "driftcheck: no drift among 2 participants · 1 pair, 1 analysed · 120 ms"
    )


def test_summary_uses_seconds_for_slow_scans_and_tolerates_missing_stats() -> None:
    slow = scan(["a", "b"], [conflict("a", "b")], stats={"elapsed_ms": 12_345})
    assert render_text(slow).splitlines()[0].endswith("· 12.3 s")
    bare = ScanResult(repo="/r", trunk=None, participants=[worktree("a")], findings=[], stats={})
    assert render_text(bare) == "driftcheck: no drift among 1 participant"


# --- matrix -----------------------------------------------------------------------


def matrix_rows(output: str) -> list[list[str]]:
    """The matrix block (second paragraph) as rows of whitespace-split cells."""
    block = output.split("\n\n")[1]
    return [line.split() for line in block.splitlines()]


def test_matrix_is_symmetric_and_counts_single_participant_findings_on_the_diagonal() -> None:
    rows = matrix_rows(render_text(three_way()))
    assert rows[0] == THREE
    assert rows[1] == ["feat/a", "·", "1", "1"]
    assert rows[2] == ["feat/b", "1", "·", "1"]
    assert rows[3] == ["fix/c", "1", "1", "1"]
    # and says so, since the diagonal is not a pair
    assert "(the diagonal counts findings about one participant alone)" in render_text(three_way())


def test_pair_matrix_counts_every_pair_of_a_multi_participant_finding() -> None:
    result = scan(THREE, [conflict("feat/a", "feat/b"), conflict("feat/b", "feat/a", line=50)])
    result.findings.append(
        Finding(DUPLICATE, "DC301", Severity.WARNING, tuple(THREE), "x.py", 1, "three copies")
    )
    cells = pair_matrix(result)
    assert cells["feat/a", "feat/b"] == cells["feat/b", "feat/a"] == 3
    assert cells["feat/a", "fix/c"] == cells["fix/c", "feat/b"] == 1
    assert ("feat/a", "feat/a") not in cells


def test_matrix_numbers_columns_when_names_are_long() -> None:
    names = ["agent-1/feature-authentication-flow", "agent-2/billing", "x"]
    output = render_text(scan(names, [conflict(names[0], names[1])]))
    rows = matrix_rows(output)
    assert rows[0] == ["1", "2", "3"]
    # Row labels carry the number and the name: they are the legend.
    assert rows[1][:2] == ["1", names[0]]
    assert rows[2][:2] == ["2", names[1]]


def test_matrix_shortens_very_long_row_names_in_the_middle() -> None:
    long_name = "agents/" + "x" * 60 + "/topic-end"
    output = render_text(scan([long_name, "b"], [conflict(long_name, "b")]))
    label = matrix_rows(output)[1][1]
    assert "…" in label
    assert len(label) == 40
    assert label.startswith("agents/") and label.endswith("topic-end")


def test_no_matrix_for_a_single_participant() -> None:
    output = render_text(scan(["solo"], [duplicate_of_base("solo")]))
    assert output.split("\n\n")[1].startswith("solo only")


# --- findings ---------------------------------------------------------------------


def test_findings_are_grouped_by_pair_whatever_order_detectors_name_it() -> None:
    result = scan(THREE, [conflict("feat/b", "feat/a"), conflict("feat/a", "feat/b", "b.py", 3)])
    output = render_text(result)
    assert output.count("feat/a ↔ feat/b") == 1
    assert "feat/b ↔ feat/a" not in output
    group = output.split("feat/a ↔ feat/b\n")[1]
    assert "b.py:3" in group and "src/app.py:10" in group


def test_groups_with_errors_come_first_and_single_participant_groups_are_labelled() -> None:
    output = render_text(three_way())
    order = [output.index(title) for title in ("feat/a ↔ feat/b", "feat/a ↔ fix/c")]
    assert order == sorted(order)
    assert output.index("feat/b ↔ fix/c") > order[-1]
    assert "fix/c only" in output


def test_textual_conflict_shows_type_ranges_on_each_side_and_both_texts() -> None:
    output = render_text(scan(["feat/a", "feat/b"], [conflict("feat/a", "feat/b")]))
    assert "error    DC101 textual-conflict  src/app.py:10" in output
    assert "conflict: content" in output
    assert "feat/a lines 10–14 ↔ feat/b line 11" in output
    assert "feat/a no lines ↔ feat/b lines 30–32" in output
    assert "feat/a has:" in output and "│ retries = 3" in output
    assert "feat/b has:" in output and "│ timeout = 30" in output
    # git's one-liner adds nothing to a content conflict.
    assert "Merge conflict in" not in output


def test_other_textual_conflicts_keep_gits_explanation() -> None:
    finding = Finding(
        TEXTUAL_CONFLICT,
        "DC103",
        Severity.ERROR,
        ("feat/a", "feat/b"),
        "notes.txt",
        None,
        "feat/a deletes notes.txt while feat/b modifies it",
        details={
            "conflict_type": "modify/delete",
            "hunks": [],
            "left": "feat/a",
            "right": "feat/b",
            "git_messages": ["CONFLICT (modify/delete): notes.txt deleted in feat/a"],
            "git_path": "notes.txt",
            "deleted_by": "feat/a",
        },
    )
    output = render_text(scan(["feat/a", "feat/b"], [finding]))
    assert "DC103 textual-conflict  notes.txt\n" in output
    assert "git: CONFLICT (modify/delete): notes.txt deleted in feat/a" in output
    assert "deleted by: feat/a" in output
    assert "git path" not in output


def test_semantic_details_show_signatures_locations_and_calls() -> None:
    output = render_text(three_way())
    assert "DC201 stale-caller  src/cli.py:40  (app.auth.login)" in output
    assert "old signature: def login(user)" in output
    assert "new signature: def login(user, *, token)" in output
    assert "definition: src/auth.py:8 in feat/a" in output
    assert "- src/cli.py:40  text: login(current)" in output
    assert "values:" in output and "fix/c: 10" in output
    assert "existing: src/text.py:12" in output


def test_long_detail_values_are_cut() -> None:
    body = "\n".join(f"line {i}" for i in range(30))
    finding = Finding(
        CONTRADICTING_EDIT,
        "DC401",
        Severity.WARNING,
        ("a", "b"),
        "m.py",
        1,
        "a and b change f() differently",
        details={"body": body, "callers": list(range(20))},
    )
    output = render_text(scan(["a", "b"], [finding]))
    assert "line 5" in output and "line 6" not in output
    assert "… 24 more lines" in output


def test_finding_without_path_or_line() -> None:
    finding = Finding(DUPLICATE, "DC302", Severity.WARNING, ("a", "b"), None, None, "same name")
    output = render_text(scan(["a", "b"], [finding]))
    assert "warning  DC302 duplicate\n" in output


def test_warnings_and_pairs_without_merge_base_come_last() -> None:
    result = scan(
        ["a", "b", "c"],
        [conflict("a", "b")],
        warnings=["skipped worktree /repo/wt/old: its folder is gone (prunable)"],
        stats={"pairs_without_merge_base": [["a", "c"]]},
    )
    sections = render_text(result).split("\n\n")
    assert sections[-2].splitlines() == [
        "warnings:",
        "  - skipped worktree /repo/wt/old: its folder is gone (prunable)",
    ]
    assert sections[-1].splitlines() == [
        "pairs without a merge base (not compared):",
        "  - a ↔ c",
    ]


# --- colour and determinism ---------------------------------------------------------


def test_plain_text_has_no_escape_codes_and_colour_only_adds_them() -> None:
    result = three_way()
    plain = render_text(result, color=False)
    coloured = render_text(result, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31;1merror\x1b[0m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_output_does_not_depend_on_detector_order() -> None:
    result = three_way()
    expected = render_text(result)
    for seed in range(5):
        random.Random(seed).shuffle(result.findings)
        assert render_text(result) == expected


# --- dispatch ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_dispatches_every_format(fmt: str) -> None:
    output = render(three_way(), fmt, color=False)
    assert output and not output.endswith("\n")


def test_render_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format 'xml'"):
        render(three_way(), "xml", color=False)


def test_formats_are_imported_only_when_used() -> None:
    code = (
        "import sys, driftcheck.report as r\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('driftcheck.report.'))\n"
        "print(loaded())\n"
        "from driftcheck.model import ScanResult\n"
        "r.render(ScanResult('/r', None, [], [], {}), 'json', color=False)\n"
        "print(loaded())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "['driftcheck.report.json_report']"]
