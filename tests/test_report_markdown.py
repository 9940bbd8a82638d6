"""The Markdown reporter: summary, participant matrix, per-participant findings, escaping."""

from __future__ import annotations

import re

from driftcheck.model import Finding, Participant, ScanResult, Severity
from driftcheck.report.markdown import MARKER, code, render, text


def participant(name: str, *, dirty: bool = False, branch: str | None = None) -> Participant:
    return Participant(
        name=name,
        kind="worktree",
        path=f"/repo/wt/{name}",
        branch=branch or name,
        head="a" * 40,
        tree="b" * 40,
        state_commit="c" * 40,
        dirty=dirty,
    )


def finding(
    names: tuple[str, ...],
    *,
    severity: Severity = Severity.ERROR,
    code_: str = "DC101",
    kind: str = "textual-conflict",
    message: str = "both change lines",
    path: str | None = "src/app.py",
    line: int | None = 7,
    symbol: str | None = None,
    details: dict[str, object] | None = None,
) -> Finding:
    return Finding(kind, code_, severity, names, path, line, message, symbol, details or {})


def scan(
    names: list[str], findings: list[Finding], warnings: list[str] | None = None
) -> ScanResult:
    return ScanResult(
        repo="/repo",
        trunk="main",
        participants=[participant(n, dirty=n == "feat/a") for n in names],
        findings=findings,
        stats={"pairs": 3, "pairs_analysed": 2, "elapsed_ms": 75},
        warnings=warnings or [],
    )


def three_way() -> ScanResult:
    return scan(
        ["feat/a", "feat/b", "fix/c"],
        [
            finding(
                ("feat/b", "feat/a"),
                details={
                    "conflict_type": "content",
                    "hunks": [{"left": [7, 9], "right": [7, 7]}],
                    "left": "feat/b",
                    "right": "feat/a",
                },
            ),
            finding(
                ("feat/a", "fix/c"),
                severity=Severity.WARNING,
                code_="DC401",
                kind="contradicting-edit",
                message="feat/a and fix/c change parse() differently",
                symbol="app.parse",
            ),
            finding(
                ("fix/c",),
                severity=Severity.INFO,
                code_="DC303",
                kind="duplicate",
                message="fix/c re-adds slug()",
                path=None,
                line=None,
            ),
        ],
    )


def cells(row: str) -> list[str]:
    """Split a table row on unescaped pipes, as GFM does."""
    assert row.startswith("|") and row.endswith("|"), row
    return [c.strip() for c in re.split(r"(?<!\\)\|", row[1:-1])]


def tables(output: str) -> list[list[list[str]]]:
    blocks = re.findall(r"(?:^\|.*\|\n?)+", output, re.M)
    return [[cells(row) for row in block.strip("\n").splitlines()] for block in blocks]


def test_summary_heading_and_marker() -> None:
    output = render(three_way())
    lines = output.splitlines()
    assert lines[0] == MARKER
    assert lines[1] == (
        "### ❌ driftcheck: 3 findings (1 error, 1 warning, 1 info) among 3 participants"
    )
    assert lines[3] == "3 pairs, 2 analysed · 75 ms · trunk `main`"


def test_clean_scan_is_short_and_green() -> None:
    output = render(scan(["feat/a", "feat/b"], []))
    assert "### ✅ driftcheck: no drift among 2 participants" in output
    assert "####" not in output
    assert len(tables(output)) == 1


def test_every_table_is_rectangular() -> None:
    for table in tables(render(three_way())):
        assert len({len(row) for row in table}) == 1, table


def test_matrix_lists_pairs_and_per_participant_severity_counts() -> None:
    matrix = tables(render(three_way()))[0]
    assert matrix[0] == [
        "Participant",
        "`feat/a`",
        "`feat/b`",
        "`fix/c`",
        "Errors",
        "Warnings",
        "Info",
    ]
    assert matrix[2] == ["`feat/a` · uncommitted", "·", "1", "1", "1", "1", "0"]
    assert matrix[3] == ["`feat/b`", "1", "·", "0", "1", "0", "0"]
    assert matrix[4] == ["`fix/c`", "1", "0", "1", "0", "1", "1"]


def test_single_participant_gets_counts_without_matrix() -> None:
    output = render(scan(["solo"], [finding(("solo",), severity=Severity.INFO, code_="DC303")]))
    assert tables(output)[0][0] == ["Participant", "Errors", "Warnings", "Info"]


def test_branch_is_shown_when_it_differs_from_the_name() -> None:
    result = scan(["a", "b"], [])
    result.participants[1] = participant("b", branch="agents/b-branch")
    assert "| `b` (`agents/b-branch`) |" in render(result)


def test_each_participant_section_lists_the_findings_that_involve_it() -> None:
    output = render(three_way())
    sections = dict(re.findall(r"^#### `([^`]+)` — .*?\n\n((?:\|.*\n?)+)", output + "\n", re.M))
    assert list(sections) == ["feat/a", "feat/b", "fix/c"]
    feat_a = [cells(r) for r in sections["feat/a"].splitlines()[2:]]
    assert [row[1] for row in feat_a] == ["DC101 textual-conflict", "DC401 contradicting-edit"]
    assert [row[3] for row in feat_a] == ["`feat/b`", "`fix/c`"]
    fix_c = [cells(r) for r in sections["fix/c"].splitlines()[2:]]
    assert fix_c[-1][:4] == ["ℹ️ info", "DC303 duplicate", "—", "—"]
    assert "#### `feat/a` — 2 findings (1 error, 1 warning)" in output


def test_rows_carry_location_symbol_and_conflict_ranges() -> None:
    output = render(three_way())
    assert "| `src/app.py:7` | `feat/b` |" in output
    assert "<br>content · `feat/b` lines 7–9 ↔ `feat/a` line 7" in output
    assert "<br>symbol `app.parse`" in output


def test_pipes_backticks_and_markup_in_messages_cannot_break_tables() -> None:
    nasty = "a | b `x` *bold* <script> [link](u) _u_ ~s~ #1 &amp;\nsecond line"
    result = scan(
        ["we|ird", "b`t"],
        [finding(("we|ird", "b`t"), message=nasty, path="dir/pi|pe `x`.py", symbol="f|g")],
        warnings=["skipped `w` | <b>"],
    )
    output = render(result)
    for table in tables(output):
        assert len({len(row) for row in table}) == 1, table
    assert "a \\| b \\`x\\` \\*bold\\* \\<script\\> \\[link\\](u) \\_u\\_ \\~s\\~" in output
    assert "\\#1 \\&amp;<br>second line" in output
    assert "``b`t``" in output
    assert "`we\\|ird`" in output
    assert "- skipped \\`w\\` \\| \\<b\\>" in output


def test_code_span_fence_outgrows_backtick_runs() -> None:
    assert code("plain") == "`plain`"
    assert code("a`b") == "``a`b``"
    assert code("a``b`") == "``` a``b` ```"
    assert code("x|y") == "`x\\|y`"
    assert code("x|y", in_table=False) == "`x|y`"
    assert code("two\nlines") == "`two lines`"


def test_text_escapes_markup_and_keeps_plain_words() -> None:
    assert text("feat/a and feat/b change parse()") == "feat/a and feat/b change parse()"
    assert text("x\ny", in_table=False) == "x\ny"
    assert text("back\\slash") == "back\\\\slash"


def test_warnings_and_pairs_without_merge_base() -> None:
    result = scan(["a", "b", "c"], [], warnings=["skipped worktree /x: gone"])
    result.stats["pairs_without_merge_base"] = [["a", "c"]]
    output = render(result)
    assert "**Warnings**\n\n- skipped worktree /x: gone" in output
    assert "**Pairs without a merge base** (not compared)\n\n- `a` ↔ `c`" in output
    assert not output.endswith("\n")
