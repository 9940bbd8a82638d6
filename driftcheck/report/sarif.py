"""SARIF 2.1.0 for code-scanning UIs (GitHub code scanning, IDE SARIF viewers).

One run, one rule per finding code present, one result per finding. Paths stay
relative to the repository root (`%SRCROOT%`), which is what GitHub expects, and
`partialFingerprints` lets a viewer track the same drift across runs even when
lines move.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from driftcheck.model import Finding, ScanResult, Severity
from driftcheck.report import CODE_TITLES, fingerprints, involved, ordered_findings
from driftcheck.report.json_report import dumps

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"
# The key names the fingerprint's recipe; bump the suffix if the recipe changes.
FINGERPRINT_KEY = "driftcheckFindingHash/v1"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(result: ScanResult, *, color: bool = False) -> str:
    return dumps(sarif_log(result))


def sarif_log(result: ScanResult) -> dict[str, Any]:
    """The SARIF log as plain data (what `render` serialises)."""
    findings = ordered_findings(result)
    rules = _rules(findings)
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "driftcheck",
                "version": tool_version(),
                "rules": rules,
            }
        },
        "results": [
            _result(result, f, rule_index[f.code], print_)
            for f, print_ in zip(findings, fingerprints(findings), strict=True)
        ],
    }
    if PurePath(result.repo).is_absolute():
        # Lets a local viewer resolve the relative URIs; GitHub ignores it.
        root = PurePath(result.repo).as_uri().rstrip("/") + "/"
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def tool_version() -> str:
    # Read from the installed distribution; a source checkout may not be installed.
    try:
        return importlib.metadata.version("driftcheck")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _rules(findings: list[Finding]) -> list[dict[str, Any]]:
    kinds: dict[str, str] = {}
    for finding in findings:
        kinds.setdefault(finding.code, finding.kind)
    return [
        {
            "id": code,
            "name": kind,
            "shortDescription": {"text": CODE_TITLES.get(code, kind)},
            "properties": {"tags": ["drift", kind]},
        }
        for code, kind in sorted(kinds.items())
    ]


def _result(
    result: ScanResult, finding: Finding, rule_index: int, finding_print: str
) -> dict[str, Any]:
    names = involved(result, finding)
    sarif_result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": _message(finding.message, names)},
    }
    if finding.path:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": artifact_uri(finding.path), "uriBaseId": SRCROOT}
        }
        if finding.line:
            physical["region"] = {"startLine": finding.line}
        sarif_result["locations"] = [{"physicalLocation": physical}]
    sarif_result["partialFingerprints"] = {FINGERPRINT_KEY: finding_print}
    properties: dict[str, Any] = {
        "kind": finding.kind,
        "participants": list(names),
        "details": dict(finding.details),
    }
    if finding.symbol:
        properties["symbol"] = finding.symbol
    sarif_result["properties"] = properties
    return sarif_result


def _message(message: str, names: tuple[str, ...]) -> str:
    """The finding's message, made to name every participant it involves.

    A code-scanning alert is read on one branch; without the other agent's name it
    cannot be acted on, so names the detector left out are appended.
    """
    missing = [name for name in names if name not in message]
    if not missing:
        return message
    return f"{message.rstrip()} (involves {', '.join(names)})"


def artifact_uri(path: str) -> str:
    """A relative URI reference: forward slashes, no leading './', percent-encoded."""
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    # A path that is not UTF-8 (surrogate-escaped bytes) is percent-encoded byte by byte.
    return quote(posix.lstrip("/").encode("utf-8", "surrogateescape"), safe="/")


def fingerprint(finding: Finding, occurrence: int = 1) -> str:
    """What identifies the drift, not where it sits (`Finding.fingerprint`)."""
    return finding.fingerprint(occurrence)
