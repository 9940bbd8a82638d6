"""Precision of semantic findings across projects, the figure the trust issue asks for.

    python bench/realworld/overall.py --tag final7 [--sample 100 --seed 13]

Every finding on concurrent pairs, one per key, of each project's pairs.<tag>.jsonl,
against the hand judgements in judgements/. With --sample N, a seeded uniform sample of
N findings over all projects (the figure when there are more than can be judged); the
sample's unjudged keys are written to --unjudged for judging.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import report

VERDICTS = ("REAL", "PLAUSIBLE", "NOISE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", default="")
    parser.add_argument("--projects", default="pytest,black,hono,chi")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--unjudged", type=Path, help="write the sample's unjudged findings")
    args = parser.parse_args()
    findings: list[dict] = []
    judged: dict[str, dict] = {}
    for project in args.projects.split(","):
        name = f"pairs.{args.tag}.jsonl" if args.tag else "pairs.jsonl"
        records = report.load(report.CACHE / project / name)
        concurrent = [r for r in records if r["concurrent"]]
        findings.extend(report.to_judge(project, concurrent).values())
        judged.update(report.load_judgements(project))
    chosen = findings
    if args.sample and len(findings) > args.sample:
        chosen = random.Random(args.seed).sample(findings, args.sample)
    verdicts = Counter(
        judged[f["key"]]["verdict"] if f["key"] in judged else "unjudged" for f in chosen
    )
    by_project: dict[str, Counter[str]] = {}
    for f in chosen:
        project = f["key"].split("|", 1)[0]
        verdict = judged[f["key"]]["verdict"] if f["key"] in judged else "unjudged"
        by_project.setdefault(project, Counter())[verdict] += 1
    scope = f"a seeded sample of {len(chosen)}" if chosen is not findings else "all"
    print(f"semantic findings on concurrent pairs: {len(findings)}; judged here: {scope}")
    for project, counts in sorted(by_project.items()):
        print(f"  {project:8s} " + ", ".join(f"{v} {counts[v]}" for v in (*VERDICTS, "unjudged")))
    done = sum(verdicts[v] for v in VERDICTS)
    good = verdicts["REAL"] + verdicts["PLAUSIBLE"]
    print("  all      " + ", ".join(f"{v} {verdicts[v]}" for v in (*VERDICTS, "unjudged")))
    print(f"  precision (REAL+PLAUSIBLE)/judged: {good / done:.2f} of {done}" if done else "  -")
    if args.unjudged:
        with open(args.unjudged, "w") as handle:
            for f in chosen:
                if f["key"] not in judged:
                    handle.write(json.dumps(f) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
