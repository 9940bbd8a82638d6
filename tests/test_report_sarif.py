"""The SARIF 2.1.0 reporter: targeted structural checks (no official schema offline)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest

from driftcheck.model import Finding, Participant, ScanResult, Severity
from driftcheck.report import CODE_TITLES
from driftcheck.report.sarif import (
    FINGERPRINT_KEY,
    SARIF_SCHEMA,
    artifact_uri,
    fingerprint,
    render,
    tool_version,
)


def participant(name: str) -> Participant:
    return Participant(
        name=name,
        kind="worktree",
        path=f"/repo/wt/{name}",
        branch=name,
        head="a" * 40,
        tree="b" * 40,
        state_commit="c" * 40,
        dirty=False,
    )


CONFLICT = Finding(
    "textual-conflict",
    "DC101",
    Severity.ERROR,
    ("feat/a", "feat/b"),
    "src/app.py",
    12,
    "feat/a and feat/b both change src/app.py",
    details={"conflict_type": "content", "hunks": [], "left": "feat/a", "right": "feat/b"},
)
STALE = Finding(
    "stale-caller",
    "DC201",
    Severity.ERROR,
    ("feat/b", "fix/c"),
    "src\\cli.py",
    None,
    "login() is called with the old signature",
    symbol="app.login",
    details={"calls": [{"path": "src/cli.py", "line": 4}]},
)
DUPLICATE = Finding(
    "duplicate",
    "DC301",
    Severity.WARNING,
    ("feat/a", "fix/c"),
    None,
    None,
    "feat/a and fix/c both add slugify()",
)
BASE_DUPLICATE = Finding(
    "duplicate", "DC303", Severity.INFO, ("fix/c",), "./lib/my util.py", 3, "fix/c dup"
)


def sarif(findings: list[Finding], repo: str = "/home/me/repo") -> dict[str, Any]:
    result = ScanResult(
        repo=repo,
        trunk="main",
        participants=[participant(n) for n in ("feat/a", "feat/b", "fix/c")],
        findings=findings,
        stats={"pairs": 3, "pairs_analysed": 3, "elapsed_ms": 5},
    )
    return json.loads(render(result))


@pytest.fixture
def log() -> dict[str, Any]:
    return sarif([DUPLICATE, STALE, BASE_DUPLICATE, CONFLICT])


def results_by_rule(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["ruleId"]: r for r in log["runs"][0]["results"]}


def test_log_envelope_and_driver(log: dict[str, Any]) -> None:
    assert log["$schema"] == SARIF_SCHEMA == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "driftcheck"
    assert driver["version"] == tool_version()
    assert re.match(r"^\d+(\.\d+)*", driver["version"]) or driver["version"] == "0+unknown"


def test_tool_version_falls_back_when_the_package_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    assert tool_version() == "0+unknown"


def test_one_rule_per_distinct_code(log: dict[str, Any]) -> None:
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["DC101", "DC201", "DC301", "DC303"]
    assert [r["name"] for r in rules] == [
        "textual-conflict",
        "stale-caller",
        "duplicate",
        "duplicate",
    ]
    for rule in rules:
        assert rule["shortDescription"]["text"] == CODE_TITLES[rule["id"]]

    twice = sarif([CONFLICT, dataclasses.replace(CONFLICT, path="other.py")])
    assert len(twice["runs"][0]["tool"]["driver"]["rules"]) == 1


def test_every_result_points_at_its_rule(log: dict[str, Any]) -> None:
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 4
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert set(result) >= {"ruleId", "level", "message", "partialFingerprints", "properties"}


def test_levels_map_info_to_note(log: dict[str, Any]) -> None:
    levels = {rule: r["level"] for rule, r in results_by_rule(log).items()}
    assert levels == {"DC101": "error", "DC201": "error", "DC301": "warning", "DC303": "note"}


def test_messages_name_every_participant(log: dict[str, Any]) -> None:
    results = results_by_rule(log)
    # Already named by the detector: left alone.
    assert results["DC101"]["message"]["text"] == CONFLICT.message
    # Not named: appended, so the alert says who else is involved.
    assert results["DC201"]["message"]["text"] == (
        "login() is called with the old signature (involves feat/b, fix/c)"
    )
    for result in results.values():
        for name in result["properties"]["participants"]:
            assert name in result["message"]["text"]


def test_locations_are_relative_uris_with_optional_region(log: dict[str, Any]) -> None:
    results = results_by_rule(log)
    physical = results["DC101"]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "src/app.py", "uriBaseId": "%SRCROOT%"}
    assert physical["region"] == {"startLine": 12}

    stale = results["DC201"]["locations"][0]["physicalLocation"]
    assert stale["artifactLocation"]["uri"] == "src/cli.py"
    assert "region" not in stale

    base_dup = results["DC303"]["locations"][0]["physicalLocation"]
    assert base_dup["artifactLocation"]["uri"] == "lib/my%20util.py"

    assert "locations" not in results["DC301"]


def test_artifact_uri_normalises_paths() -> None:
    assert artifact_uri("a\\b\\c.py") == "a/b/c.py"
    assert artifact_uri("././x.py") == "x.py"
    assert artifact_uri("dir/ä #1.py") == "dir/%C3%A4%20%231.py"


def test_src_root_is_declared_for_absolute_repos_only(log: dict[str, Any]) -> None:
    assert log["runs"][0]["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///home/me/repo/"}}
    assert "originalUriBaseIds" not in sarif([CONFLICT], repo="relative/repo")["runs"][0]


def test_fingerprints_survive_moved_lines_and_reworded_messages() -> None:
    moved = dataclasses.replace(CONFLICT, line=99, message="reworded", severity=Severity.WARNING)
    swapped = dataclasses.replace(CONFLICT, participants=("feat/b", "feat/a"))
    assert fingerprint(moved) == fingerprint(CONFLICT) == fingerprint(swapped)
    assert re.fullmatch(r"[0-9a-f]{64}", fingerprint(CONFLICT))

    for changed in (
        dataclasses.replace(CONFLICT, path="src/other.py"),
        dataclasses.replace(CONFLICT, code="DC102"),
        dataclasses.replace(CONFLICT, symbol="app.main"),
        dataclasses.replace(CONFLICT, participants=("feat/a", "fix/c")),
    ):
        assert fingerprint(changed) != fingerprint(CONFLICT)


def test_fingerprints_are_emitted_and_distinct(log: dict[str, Any]) -> None:
    prints = [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]
    assert len(set(prints)) == len(prints) == 4
    assert sarif([CONFLICT]) == sarif([CONFLICT])


def test_properties_carry_participants_details_and_symbol(log: dict[str, Any]) -> None:
    properties = results_by_rule(log)["DC201"]["properties"]
    assert properties == {
        "kind": "stale-caller",
        "participants": ["feat/b", "fix/c"],
        "details": {"calls": [{"path": "src/cli.py", "line": 4}]},
        "symbol": "app.login",
    }


def test_results_follow_finding_order(log: dict[str, Any]) -> None:
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["DC101", "DC201", "DC301", "DC303"]


def test_empty_scan_has_a_run_with_no_rules_or_results() -> None:
    run = sarif([])["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
