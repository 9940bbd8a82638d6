"""The v1 JSON reporter, the shipped JSON Schema, and the schema documentation."""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jsonschema
import pytest

from driftcheck.model import (
    CLAIM_OVERLAP,
    KINDS,
    MERGE_BREAK,
    SCHEMA,
    Finding,
    Participant,
    ScanResult,
    Severity,
)
from driftcheck.report import CODE_TITLES
from driftcheck.report.json_report import render

DOCS = Path(__file__).resolve().parent.parent / "docs" / "json-schema.md"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    # Loaded the way an installed package would find it: as package data.
    text = (resources.files("driftcheck") / "schema" / "driftcheck-v1.schema.json").read_text()
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def participant(name: str, kind: Literal["worktree", "ref"] = "worktree") -> Participant:
    return Participant(
        name=name,
        kind=kind,
        path=f"/repo/wt/{name}" if kind == "worktree" else None,
        branch=name if kind == "worktree" else None,
        head="ab" * 20,
        tree="cd" * 20,
        state_commit="ef" * 20,
        dirty=kind == "worktree",
        ref=f"refs/remotes/origin/{name}" if kind == "ref" else None,
    )


def textual(left: str, right: str, line: int | None = 4) -> Finding:
    return Finding(
        kind="textual-conflict",
        code="DC101",
        severity=Severity.ERROR,
        participants=(left, right),
        path="pkg/mod.py",
        line=line,
        message=f"{left} and {right} both change pkg/mod.py",
        details={
            "conflict_type": "content",
            "hunks": [{"left": [4, 6], "right": [4, 4]}, {"left": None, "right": [9, 12]}],
            "left": left,
            "right": right,
        },
    )


def result_with(findings: list[Finding], **stats: Any) -> ScanResult:
    return ScanResult(
        repo="/repo",
        trunk="refs/heads/main",
        participants=[participant("feat/a"), participant("feat/b"), participant("pr-7", "ref")],
        findings=findings,
        stats={
            "participants": 3,
            "pairs": 3,
            "pairs_analysed": 2,
            "pairs_skipped_disjoint": 1,
            "pairs_without_merge_base": [],
            "elapsed_ms": 42,
            **stats,
        },
        changed_paths={"feat/a": 3, "feat/b": 1},
        warnings=["no refs match --refs origin/nope"],
    )


FINDINGS = [
    Finding(
        "duplicate", "DC303", Severity.INFO, ("feat/b",), "pkg/util.py", 1, "feat/b dup", "u.f"
    ),
    textual("feat/a", "feat/b"),
    Finding(
        "stale-caller",
        "DC202",
        Severity.ERROR,
        ("feat/a", "pr-7"),
        "pkg/cli.py",
        None,
        "pr-7 calls pkg.run, which feat/a removes",
        "pkg.run",
        {"calls": [{"path": "pkg/cli.py", "line": 3, "text": "run()"}]},
    ),
]


def test_document_has_the_v1_shape(validator: jsonschema.Draft202012Validator) -> None:
    document = json.loads(render(result_with(list(FINDINGS))))
    validator.validate(document)
    assert list(document)[:7] == [
        "schema",
        "repo",
        "trunk",
        "participants",
        "findings",
        "stats",
        "warnings",
    ]
    assert document["schema"] == SCHEMA == "driftcheck/v1"
    first = document["participants"][0]
    assert first["name"] == "feat/a" and first["changed_paths"] == 3
    assert document["participants"][2]["kind"] == "ref"
    assert document["participants"][2]["changed_paths"] == 0
    assert document["warnings"] == ["no refs match --refs origin/nope"]


def test_findings_are_sorted_and_output_is_byte_stable() -> None:
    forward = render(result_with(list(FINDINGS)))
    backward = render(result_with(list(reversed(FINDINGS))))
    assert forward == backward
    codes = [f["code"] for f in json.loads(forward)["findings"]]
    assert codes == ["DC101", "DC202", "DC303"]  # errors first, then by participants
    assert forward.startswith('{\n  "schema": "driftcheck/v1",')


def test_empty_scan_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    result = ScanResult(
        repo="/repo",
        trunk=None,
        participants=[],
        findings=[],
        stats={
            "participants": 0,
            "pairs": 0,
            "pairs_analysed": 0,
            "pairs_skipped_disjoint": 0,
            "pairs_without_merge_base": [],
            "elapsed_ms": 0.5,
        },
    )
    validator.validate(json.loads(render(result)))


def test_optional_stats_and_extra_fields_are_allowed(
    validator: jsonschema.Draft202012Validator,
) -> None:
    result = result_with(
        [textual("feat/a", "feat/b")],
        pairs_without_merge_base=[["feat/a", "pr-7"]],
        skipped_participants=[{"path": "/repo/wt/gone", "reason": "folder is gone"}],
        merge_simulations=2,
    )
    document = json.loads(render(result))
    document["future_field"] = {"anything": True}
    document["findings"][0]["details"]["future_detail"] = 1
    validator.validate(document)


def test_stray_non_json_values_in_details_are_serialised() -> None:
    finding = Finding(
        "duplicate",
        "DC301",
        Severity.WARNING,
        ("feat/a", "feat/b"),
        "a.py",
        1,
        "twins",
        details={"where": PurePosixPath("pkg/a.py"), "names": {"b", "a"}, "sev": Severity.INFO},
    )
    details = json.loads(render(result_with([finding])))["findings"][0]["details"]
    assert details == {"where": "pkg/a.py", "names": ["a", "b"], "sev": "info"}


def valid_document() -> dict[str, Any]:
    return json.loads(render(result_with(list(FINDINGS))))


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(document)
    *parents, last = path.split(".")
    target: Any = document
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if value is _DROP:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return document


_DROP = object()


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("schema", "driftcheck/v2"),
        ("trunk", _DROP),
        ("participants.0.kind", "branch"),
        ("participants.0.head", "abc123"),
        ("participants.0.changed_paths", -1),
        ("participants.1.dirty", _DROP),
        ("findings.0.kind", "merge-conflict"),
        ("findings.0.code", "DC999"),
        ("findings.0.code", "DC201"),  # a textual conflict must use a DC1xx code
        ("findings.0.severity", "fatal"),
        ("findings.0.participants", []),
        ("findings.0.line", 0),
        ("findings.0.symbol", _DROP),
        ("findings.0.details", {"conflict_type": "content"}),
        ("findings.0.details.hunks", [{"left": [1], "right": None}]),
        ("stats.pairs_analysed", _DROP),
        ("stats.pairs_without_merge_base", [["only-one"]]),
        ("warnings", [1]),
    ],
)
def test_schema_rejects_contract_violations(
    validator: jsonschema.Draft202012Validator, path: str, value: Any
) -> None:
    document = valid_document()
    validator.validate(document)
    assert not validator.is_valid(_set(document, path, value))


# --- documentation stays in step with the schema and the code table ---------------------


def test_docs_example_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    example = re.search(r"```json\n(.*?)```", DOCS.read_text(), re.S)
    assert example is not None
    validator.validate(json.loads(example.group(1)))


def test_docs_code_table_matches_the_reporters_code_titles() -> None:
    rows = re.findall(r"^\| (DC\d{3}) \| ([a-z-]+) \|", DOCS.read_text(), re.M)
    assert [code for code, _ in rows] == sorted(CODE_TITLES)
    # The hundreds digit is the kind, in KINDS order; DC5xx come from `--verify`,
    # DC6xx are found before an edit.
    digits = {**{kind: n + 1 for n, kind in enumerate(KINDS)}, MERGE_BREAK: 5, CLAIM_OVERLAP: 6}
    for code, kind in rows:
        assert digits[kind] == int(code[2])


def test_docs_describe_every_schema_field(validator: jsonschema.Draft202012Validator) -> None:
    docs = DOCS.read_text()
    defs = validator.schema["$defs"]
    fields = (
        list(validator.schema["properties"])
        + list(defs["participant"]["properties"])
        + list(defs["finding"]["properties"])
        + list(defs["textualConflictDetails"]["properties"])
        + list(defs["stats"]["properties"])
    )
    missing = [name for name in fields if f"| `{name}` |" not in docs]
    assert missing == []
