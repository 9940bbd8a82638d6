"""Run driftcheck on every refactoring case and print recall and precision per language and kind.

    python bench/refactorings/run.py [--driftcheck /path/to/python] [--cases DIR] [--label NAME]

For each case, `<python> -m driftcheck scan --repo <case>/repo --format json` scans the
main worktree and the two linked ones (A and B). On the A/B pair, an error-severity
finding is *true* when the case is labelled `breaks` and the finding's path is B's
changed file or its symbol is the target (old or new name), or when the case is labelled
`conflict` and the finding is a textual conflict (or matches the same way). Every other
error finding is false. A breaking case is *caught* when it has a true error finding.

Per-case results go to bench/.cache/refactorings/results-<label>.jsonl, where the label
is the driftcheck commit (or --label).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CACHE, CASES

DEFAULT_PYTHON = "/work/eval-base/.venv/bin/python"
TIMEOUT = 300


def driftcheck_label(python: str) -> str:
    where = subprocess.run(
        [
            python,
            "-c",
            "import driftcheck, os; print(os.path.dirname(os.path.abspath(driftcheck.__file__)))",
        ],
        capture_output=True,
        text=True,
        cwd="/",  # `python -c` puts the current folder first on sys.path
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", where or ".", "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
    )
    if commit.returncode == 0 and where:
        dirty = subprocess.run(
            ["git", "-C", where, "status", "--porcelain", "--", "."], capture_output=True, text=True
        )
        return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    return "unknown"


def scan(python: str, repo: Path) -> tuple[dict[str, Any] | None, float, str]:
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [
                python,
                "-m",
                "driftcheck",
                "scan",
                "--repo",
                str(repo),
                "--format",
                "json",
                "--fail-on",
                "never",
            ],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=repo,  # `python -m` puts the current folder first on sys.path
        )
    except subprocess.TimeoutExpired:
        return None, time.monotonic() - started, "timeout"
    elapsed = time.monotonic() - started
    if proc.returncode not in (0, 1):
        return None, elapsed, f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    try:
        return json.loads(proc.stdout), elapsed, ""
    except json.JSONDecodeError as exc:
        return None, elapsed, f"bad json: {exc}"


def short_name(symbol: str | None) -> str:
    if not symbol:
        return ""
    return symbol.replace(":", ".").rsplit(".", 1)[-1]


def judge(case: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    pair = {case["a"]["branch"], case["b"]["branch"]}
    names = {short_name(case["target"]), case.get("facts", {}).get("new_name", "")} - {""}
    true_errors = false_errors = warnings = infos = 0
    findings = []
    for finding in report.get("findings", []):
        on_pair = set(finding["participants"]) == pair
        matches = on_pair and (
            finding.get("path") == case["b"]["changed_file"]
            or short_name(finding.get("symbol")) in names
        )
        severity = finding["severity"]
        true = False
        if severity == "error":
            if case["label"] == "breaks":
                true = matches
            elif case["label"] == "conflict":
                true = on_pair and (finding["kind"] == "textual-conflict" or matches)
            true_errors += true
            false_errors += not true
        elif severity == "warning":
            warnings += 1
        else:
            infos += 1
        findings.append(
            {
                "code": finding["code"],
                "severity": severity,
                "participants": finding["participants"],
                "path": finding.get("path"),
                "line": finding.get("line"),
                "symbol": finding.get("symbol"),
                "true": true,
                "message": finding.get("message", "")[:200],
            }
        )
    return {
        "caught": case["label"] != "clean" and true_errors > 0,
        "true_errors": true_errors,
        "false_errors": false_errors,
        "warnings": warnings,
        "infos": infos,
        "findings": findings,
    }


def table(results: list[dict[str, Any]]) -> str:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        groups[(result["language"], result["kind"])].append(result)
        groups[(result["language"], "(all)")].append(result)
        groups[("(all)", "(all)")].append(result)
    head = (
        f"{'language':<11}{'kind':<18}{'cases':>6}{'breaks':>7}{'caught':>7}{'recall':>8}"
        f"{'clean':>6}{'f.alarm':>8}{'confl':>6}{'c.caught':>9}{'err':>5}{'true':>5}{'prec':>7}{'warn':>6}{'info':>6}"
    )
    lines = [head, "-" * len(head)]
    for (language, kind), rows in sorted(
        groups.items(),
        key=lambda kv: (kv[0][0] == "(all)", kv[0][0], kv[0][1] == "(all)", kv[0][1]),
    ):
        ok = [r for r in rows if not r.get("error")]
        breaking = [r for r in ok if r["label"] == "breaks"]
        caught = sum(r["caught"] for r in breaking)
        clean = [r for r in ok if r["label"] == "clean"]
        alarms = sum(1 for r in clean if r["false_errors"])
        conflicts = [r for r in ok if r["label"] == "conflict"]
        errors = sum(r["true_errors"] + r["false_errors"] for r in ok)
        true = sum(r["true_errors"] for r in ok)
        recall = f"{caught / len(breaking):.2f}" if breaking else "-"
        precision = f"{true / errors:.2f}" if errors else "-"
        lines.append(
            f"{language:<11}{kind:<18}{len(rows):>6}{len(breaking):>7}{caught:>7}{recall:>8}"
            f"{len(clean):>6}{alarms:>8}{len(conflicts):>6}"
            f"{sum(r['caught'] for r in conflicts):>9}{errors:>5}{true:>5}{precision:>7}"
            f"{sum(r['warnings'] for r in ok):>6}{sum(r['infos'] for r in ok):>6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--driftcheck", default=DEFAULT_PYTHON, help="python that can `-m driftcheck`"
    )
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument(
        "--label", default="", help="name for the results file (default: driftcheck's commit)"
    )
    args = parser.parse_args(argv)
    label = args.label or driftcheck_label(args.driftcheck)
    folders = sorted(p.parent for p in args.cases.glob("*/case.json"))
    if not folders:
        print(f"no cases under {args.cases}; run generate.py first", file=sys.stderr)
        return 2
    out = CACHE / f"results-{label}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    results = []
    with out.open("w") as sink:
        for i, folder in enumerate(folders, 1):
            case = json.loads((folder / "case.json").read_text())
            report, elapsed, error = scan(args.driftcheck, folder / "repo")
            result = {
                "id": case["id"],
                "language": case["language"],
                "kind": case["kind"],
                "project": case["project"],
                "label": case["label"],
                "intent": case["intent"],
                "b_did": case["b"]["did"],
                "elapsed_s": round(elapsed, 2),
                "error": error,
            }
            result.update(
                judge(case, report)
                if report is not None
                else {
                    "caught": False,
                    "true_errors": 0,
                    "false_errors": 0,
                    "warnings": 0,
                    "infos": 0,
                    "findings": [],
                }
            )
            results.append(result)
            sink.write(json.dumps(result) + "\n")
            if i % 25 == 0:
                print(f"... {i}/{len(folders)} cases", file=sys.stderr, flush=True)
    print(f"driftcheck {label} ({args.driftcheck}) on {len(results)} cases from {args.cases}\n")
    print(table(results))
    failed = [r for r in results if r["error"]]
    missed = [r for r in results if r["label"] == "breaks" and not r["caught"] and not r["error"]]
    alarms = [r for r in results if r["label"] == "clean" and r["false_errors"]]
    if failed:
        print(f"\nscan failed ({len(failed)}):")
        for r in failed:
            print(f"  {r['id']}: {r['error']}")
    print(f"\nmissed breaking cases ({len(missed)}):")
    for r in missed:
        others = (
            ", ".join(sorted({f["code"] + "/" + f["severity"] for f in r["findings"]}))
            or "no finding"
        )
        print(f"  {r['id']}: B {r['b_did']}  [{others}]")
    print(f"\nfalse alarms on clean cases ({len(alarms)}):")
    for r in alarms:
        codes = ", ".join(sorted({f["code"] for f in r["findings"] if f["severity"] == "error"}))
        print(f"  {r['id']}: B {r['b_did']}  [{codes}]")
    print(f"\nper-case results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
