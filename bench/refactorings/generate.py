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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import Tally, realise
from common import CACHE, CASES, PROJECTS, load_snapshot, mirror_commit
from labels import Checker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--projects", default="pytest,black,hono")
    parser.add_argument("--per-kind", type=int, default=12, help="targets per kind and project")
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--kinds", default="", help="only these kinds (comma-separated)")
    parser.add_argument(
        "--limit", type=int, default=0, help="stop after this many cases per project"
    )
    parser.add_argument("--keep", action="store_true", help="keep existing cases of other projects")
    args = parser.parse_args(argv)
    names = [n for n in args.projects.split(",") if n]
    kinds = [k for k in args.kinds.split(",") if k] or None
    if not args.keep and CASES.exists():
        shutil.rmtree(CASES)
    CASES.mkdir(parents=True, exist_ok=True)
    tally = Tally()
    started = time.monotonic()
    for name in names:
        project = PROJECTS[name]
        commit = mirror_commit(project)
        base = load_snapshot(project)
        for old in CASES.glob(f"{name}-*"):
            shutil.rmtree(old)
        checker = Checker(project, base)
        print(
            f"{name}: {len(base)} files at {commit[:12]}, {sum(checker.base_errors.values())} base errors",
            flush=True,
        )
        if project.language == "python":
            from py_index import PyIndex
            from py_plan import plan_project

            plans = plan_project(
                name,
                commit,
                PyIndex(base, project.package),
                checker,
                args.per_kind,
                args.seed,
                tally,
                kinds,
            )
        else:
            from ts_plan import plan_project as plan_ts

            plans = plan_ts(name, commit, base, checker, args.per_kind, args.seed, tally, kinds)
        count = 0
        for plan in plans:
            try:
                ok = realise(plan, checker, tally)
            except Exception as exc:  # one broken case must not stop the run
                tally.discarded[
                    f"{plan.language}/{plan.kind}: build error {type(exc).__name__}"
                ] += 1
                print(f"  {plan.case_id}: {type(exc).__name__}: {exc}", flush=True)
                ok = False
            count += ok
            print(
                f"  {plan.case_id}: {'written' if ok else 'discarded'}  ({time.monotonic() - started:.0f}s)",
                flush=True,
            )
            if args.limit and count >= args.limit:
                break
    summary = tally.to_json()
    (CACHE / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
