"""Generate the refactoring benchmark: real refactorings of real code, labelled by a type-checker.

    python bench/refactorings/generate.py [--projects pytest,black,hono] [--per-kind N] [--seed S]

Writes one case per folder under bench/.cache/refactorings/cases/ (see README.md) and a
summary, `summary.json`, with the cases per kind, language and label and the discards by
reason. The projects are read from bare mirrors, which are never written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import Plan, Tally, realise
from common import CACHE, CASES, PROJECTS, load_snapshot, mirror_commit
from labels import Checker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", default="pytest,black,hono")
    parser.add_argument(
        "--per-kind", type=int, default=8, help="targets per kind, Python projects (default 8)"
    )
    parser.add_argument(
        "--per-kind-ts", type=int, default=14, help="targets per kind, TypeScript (default 14)"
    )
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--kinds", default="", help="only these kinds (comma-separated)")
    parser.add_argument(
        "--limit", type=int, default=0, help="stop after this many cases per project"
    )
    parser.add_argument("--keep", action="store_true", help="keep existing cases of other projects")
    parser.add_argument(
        "--report", action="store_true", help="only print the counts of the existing cases"
    )
    args = parser.parse_args(argv)
    if args.report:
        print(report())
        return 0
    names = [n for n in args.projects.split(",") if n]
    kinds = [k for k in args.kinds.split(",") if k] or None
    summary_file = CACHE / "summary.json"
    summary: dict[str, object] = {}
    if args.keep and summary_file.exists():
        summary = json.loads(summary_file.read_text())
    elif CASES.exists():
        shutil.rmtree(CASES)
    CASES.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for name in names:
        tally = Tally()
        generate_project(name, args, kinds, tally, started)
        summary[name] = tally.to_json()
        summary_file.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({n: summary[n] for n in names}, indent=2))
    return 0


def report() -> str:
    """Cases per language, kind, intent and label, and discards by reason, from disk."""
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for path in sorted(CASES.glob("*/case.json")):
        case = json.loads(path.read_text())
        counts[(case["language"], case["kind"], case["intent"], case["label"])] += 1
    labels = ("breaks", "clean", "conflict")
    head = f"{'language':<11}{'kind':<18}{'intent':<10}" + "".join(f"{x:>9}" for x in labels)
    lines = [head, "-" * len(head)]
    for language, kind, intent in sorted({k[:3] for k in counts}):
        row = "".join(f"{counts[(language, kind, intent, x)]:>9}" for x in labels)
        lines.append(f"{language:<11}{kind:<18}{intent:<10}{row}")
    totals = "".join(f"{sum(v for k, v in counts.items() if k[3] == x):>9}" for x in labels)
    lines.append(f"{'(all)':<39}{totals}   = {sum(counts.values())} cases")
    summary_file = CACHE / "summary.json"
    if summary_file.exists():
        lines.append("\ndiscarded (A or B alone does not type-check, checker failed):")
        for project, tally in json.loads(summary_file.read_text()).items():
            for reason, count in tally.get("discarded", {}).items():
                lines.append(f"  {project}: {reason}: {count}")
    return "\n".join(lines)


def generate_project(
    name: str, args: argparse.Namespace, kinds: list[str] | None, tally: Tally, started: float
) -> None:
    project = PROJECTS[name]
    commit = mirror_commit(project)
    base = load_snapshot(project)
    for old in CASES.glob(f"{name}-*"):
        shutil.rmtree(old)
    checker = Checker(project, base)
    errors = sum(checker.base_errors.values())
    print(f"{name}: {len(base)} files at {commit[:12]}, {errors} base errors", flush=True)
    plans: Iterator[Plan]
    if project.language == "python":
        from py_index import PyIndex
        from py_plan import plan_project

        index = PyIndex(base, project.package)
        plans = plan_project(name, commit, index, checker, args.per_kind, args.seed, tally, kinds)
    else:
        from ts_plan import plan_project as plan_ts

        plans = plan_ts(name, commit, base, checker, args.per_kind_ts, args.seed, tally, kinds)
    count = 0
    for plan in plans:
        try:
            ok = realise(plan, checker, tally)
        except Exception as exc:  # one broken case must not stop the run
            tally.discarded[f"{plan.language}/{plan.kind}: build error {type(exc).__name__}"] += 1
            print(f"  {plan.case_id}: {type(exc).__name__}: {exc}", flush=True)
            ok = False
        count += ok
        state = "written" if ok else "discarded"
        print(f"  {plan.case_id}: {state}  ({time.monotonic() - started:.0f}s)", flush=True)
        if args.limit and count >= args.limit:
            break


if __name__ == "__main__":
    raise SystemExit(main())
