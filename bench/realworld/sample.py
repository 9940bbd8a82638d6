"""A seeded random sample of the findings still to judge, for hand judging.

    python bench/realworld/sample.py UNJUDGED.jsonl --size 35 --out SAMPLE.jsonl

Every finding on a clean pair (git merges, the checker calls it clean) is kept, since
those decide the false-alarm rate; the rest are drawn uniformly with a fixed seed, so
the sample, and the precision measured on it, can be drawn again.
"""

from __future__ import annotations

import argparse
import json
import random
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("unjudged", help="report.py --unjudged output")
    parser.add_argument("--size", type=int, default=35, help="findings drawn beyond clean pairs")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.unjudged) as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    clean = [r for r in rows if r.get("pair_clean")]
    rest = [r for r in rows if not r.get("pair_clean")]
    drawn = random.Random(args.seed).sample(rest, min(args.size, len(rest)))
    with open(args.out, "w") as handle:
        for row in clean + drawn:
            row["sampled"] = "clean" if row.get("pair_clean") else "random"
            handle.write(json.dumps(row) + "\n")
    print(f"{len(clean)} on clean pairs + {len(drawn)} of {len(rest)} others -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
