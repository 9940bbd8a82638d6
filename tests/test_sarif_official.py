"""`--format sarif` against the official SARIF 2.1.0 schema (see sarif_schema.py).

Real scans (the demo, which shows every kind of drift) and hand-made edge cases must
validate; deliberately broken logs must not, which shows the validator has teeth.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sarif_schema import (
    SCHEMA_SHA256,
    assert_valid_sarif,
    official_schema,
    official_validator,
    schema_errors,
)

from driftcheck.demo.shop import run_demo
from driftcheck.model import (
    CLAIM_OVERLAP,
    KINDS,
    MERGE_BREAK,
    Finding,
    Participant,
    ScanResult,
    Severity,
)
from driftcheck.report import CODE_TITLES, render
from driftcheck.report.sarif import FINGERPRINT_KEY, fingerprint, sarif_log

NAMES = ("origin/main", "origin/pr/1", "origin/pr/12", "feat/a b", "agent-3#2")
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


@pytest.fixture(autouse=True)
def _official_schema() -> None:
    official_validator()  # skips (locally) or fails (CI) every test here without it


def participant(name: str) -> Participant:
    return Participant(name, "ref", None, None, "a" * 40, "b" * 40, "a" * 40, False, name)


def scan(findings: list[Finding], repo: str = "/home/me/repo") -> ScanResult:
    return ScanResult(
        repo=repo,
        trunk="refs/remotes/origin/main",
        participants=[participant(n) for n in NAMES],
        findings=findings,
        stats={"pairs": 10, "pairs_analysed": 4, "elapsed_ms": 12},
    )


def finding(code: str = "DC101", **changes: Any) -> Finding:
    fields: dict[str, Any] = {
        "kind": {"5": MERGE_BREAK, "6": CLAIM_OVERLAP}.get(code[2]) or KINDS[int(code[2]) - 1],
        "code": code,
        "severity": Severity.ERROR,
        "participants": ("origin/pr/1", "origin/pr/12"),
        "path": "src/app.py",
        "line": 3,
        "message": "origin/pr/1 and origin/pr/12 both change src/app.py",
        "symbol": None,
        "details": {},
    }
    fields.update(changes)
    return Finding(**fields)


def test_the_schema_is_the_official_draft_4_one() -> None:
    schema = official_schema()
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "2.1.0" in schema["title"]
    assert schema["properties"]["version"]["enum"] == ["2.1.0"]
    assert len(SCHEMA_SHA256) == 64


def test_demo_scan_is_valid_with_one_result_per_finding() -> None:
    result, _ = run_demo()
    assert {f.kind for f in result.findings} == set(KINDS), "the demo shows every kind"
    log = json.loads(render(result, "sarif", color=False))
    assert_valid_sarif(log)
    report = json.loads(render(result, "json", color=False))
    results = log["runs"][0]["results"]
    assert len(results) == len(report["findings"])
    for sarif_result, found in zip(results, report["findings"], strict=True):
        assert sarif_result["ruleId"] == found["code"]
        assert sarif_result["level"] == LEVELS[Severity(found["severity"])]
        location = sarif_result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == found["path"]
        assert location.get("region", {}).get("startLine") == found["line"]
        names = found["participants"]
        assert all(name in sarif_result["message"]["text"] for name in names)
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert len(set(prints)) == len(prints)


@pytest.mark.parametrize(
    "findings",
    [
        pytest.param([], id="no-findings"),
        pytest.param([finding(path=None, line=None)], id="no-location"),
        pytest.param([finding(line=None)], id="whole-file"),
        pytest.param([finding(path="dir/ä #1 %20.py")], id="odd-path"),
        pytest.param([finding(path="./a\\b.py")], id="windows-path"),
        pytest.param(
            [finding("DC303", severity=Severity.INFO, participants=("origin/pr/1",))],
            id="one-participant",
        ),
        pytest.param(
            [finding("DC201", message="a `|` <b>\nsecond line", symbol="app.total")],
            id="markup-message",
        ),
        pytest.param(
            [finding("DC401", details={"x": [None, 1.5, {"y": True}], "": "empty key"})],
            id="odd-details",
        ),
        pytest.param([finding(code) for code in sorted(CODE_TITLES)], id="every-code"),
    ],
)
def test_edge_cases_are_valid(findings: list[Finding]) -> None:
    log = sarif_log(scan(findings))
    assert_valid_sarif(log)
    assert len(log["runs"][0]["results"]) == len(findings)


def test_relative_repo_is_valid() -> None:
    log = sarif_log(scan([finding()], repo="relative/repo"))
    assert "originalUriBaseIds" not in log["runs"][0]
    assert_valid_sarif(log)


def test_repeated_findings_stay_separate_alerts() -> None:
    # Two call sites of one changed function in one file: same kind, code, path,
    # symbol and pair. Code scanning would merge equal fingerprints into one alert.
    first = finding("DC201", path="app/report.py", line=5, symbol="app.calc.total")
    second = finding("DC201", path="app/report.py", line=9, symbol="app.calc.total")
    results = sarif_log(scan([second, first]))["runs"][0]["results"]
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [5, 9]
    assert prints[0] == fingerprint(first)  # a lone finding's alert is unaffected
    assert prints[1] != prints[0]
    again = sarif_log(scan([first, second]))["runs"][0]["results"]
    assert prints == [r["partialFingerprints"][FINGERPRINT_KEY] for r in again]


def _break(log: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(log)
    run = broken["runs"][0]
    result = run["results"][0]
    if how == "version":
        broken["version"] = "2.0.0"
    elif how == "level":
        result["level"] = "fatal"
    elif how == "line":
        result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    elif how == "message":
        result["message"] = {}
    elif how == "unknown-property":
        result["severity"] = "error"
    elif how == "no-driver":
        del run["tool"]["driver"]
    return broken


@pytest.mark.parametrize(
    "how", ["version", "level", "line", "message", "unknown-property", "no-driver"]
)
def test_broken_logs_are_rejected(how: str) -> None:
    log = sarif_log(scan([finding()]))
    assert not schema_errors(log)
    assert schema_errors(_break(log, how)), f"the schema should reject a bad {how}"


paths = st.one_of(
    st.none(),
    st.text(min_size=1, max_size=30).filter(lambda p: p.strip("./\\")),
)
findings = st.builds(
    finding,
    st.sampled_from(sorted(CODE_TITLES)),
    severity=st.sampled_from(list(Severity)),
    participants=st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map(tuple),
    path=paths,
    line=st.one_of(st.none(), st.integers(min_value=1, max_value=10**6)),
    message=st.text(max_size=80),
    symbol=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
    details=st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5))),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(findings, max_size=6))
def test_any_findings_give_a_valid_log(found: list[Finding]) -> None:
    log = json.loads(render(scan(found), "sarif", color=False))
    assert_valid_sarif(log)
    results = log["runs"][0]["results"]
    assert len(results) == len(found)
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in results]
    assert len(set(prints)) == len(prints)
