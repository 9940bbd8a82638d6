"""`scan --verify` against the breakage oracle, on the replayed real pull requests.

    python3 bench/realworld/verify.py --project pytest --tag s5 [--clean 10]

For every concurrent pair the oracle (checkers.py, the same type-checker) says breaks,
and for a seeded sample of pairs it calls clean, runs `driftcheck scan --verify
<preset>` on just that pair's two refs and reports: breaking pairs with a DC501
(recall), clean pairs with a DC501 (false alarms), DC502s, and the time per pair.
driftcheck's preset runs the project's own configuration from its environment (here
the interpreter driftcheck runs in, or go on PATH); the oracle's runner differs
(it leaves out duplicate modules and retries without the project's config), so the
two can disagree on a pair, and that disagreement is what this measures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".cache" / "realworld"
PRESETS = {"pytest": "mypy", "black": "mypy", "hono": "tsc", "chi": "go vet ./..."}
TOOL_PATHS = ["/work/tools/go-venv/bin", "/work/tools/node/bin"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", required=True, choices=sorted(PRESETS))
    parser.add_argument("--tag", required=True, help="the replay's pairs.<tag>.jsonl")
    parser.add_argument("--clean", type=int, default=10, help="clean pairs sampled")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--driftcheck", default=sys.executable, help="its python")
    args = parser.parse_args()
    text = (CACHE / args.project / f"pairs.{args.tag}.jsonl").read_text()
    rows = [json.loads(x) for x in text.splitlines() if x.strip()]
    checked = [r for r in rows if r["concurrent"] and _typecheck(r).get("ran")]
    breaking = [r for r in checked if _typecheck(r).get("new_errors")]
    clean = [r for r in checked if _typecheck(r).get("new_errors") == []]
    sample = random.Random(args.seed).sample(clean, min(args.clean, len(clean)))
    results = [_run(args, r, breaks=True) for r in breaking]
    results += [_run(args, r, breaks=False) for r in sample]
    caught = sum(1 for r in results if r["breaks"] and r["dc501"])
    alarms = sum(1 for r in results if not r["breaks"] and r["dc501"])
    print(f"{args.project} (--verify {PRESETS[args.project]}):")
    print(f"  breaking pairs with a DC501: {caught} of {len(breaking)}")
    print(f"  clean pairs with a DC501:    {alarms} of {len(sample)}")
    print(f"  pairs with a DC502:          {sum(1 for r in results if r['dc502'])}")
    seconds = sorted(r["seconds"] for r in results)
    if seconds:
        print(f"  seconds per pair: median {seconds[len(seconds) // 2]:.1f}, max {seconds[-1]:.1f}")
    for r in results:
        mark = "BREAKS" if r["breaks"] else "clean "
        print(f"  {mark} {r['pair']}: DC501 {r['dc501']}, DC502 {r['dc502']} {r['note']}")
    out = CACHE / args.project / f"verify.{args.tag}.jsonl"
    out.write_text("".join(json.dumps(r) + "\n" for r in results))
    return 0


def _typecheck(record: dict) -> dict:
    check = record.get("typecheck")
    return check if isinstance(check, dict) else {}


def _run(args: argparse.Namespace, record: dict, *, breaks: bool) -> dict:
    repo = CACHE / args.project / record["window"] / "repo.git"
    refs = [record["left"]["ref"], record["right"]["ref"]]
    command = [args.driftcheck, "-P", "-m", "driftcheck", "scan", "--repo", str(repo)]
    for ref in refs:
        command += ["--refs", ref]
    command += ["--verify", PRESETS[args.project], "--format", "json", "--color", "never"]
    env = {**os.environ, "DRIFTCHECK_DAEMON": "0"}
    env["PATH"] = os.pathsep.join([*TOOL_PATHS, env.get("PATH", "")])
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    pair = f"{record['window']} {record['left']['name']} x {record['right']['name']}"
    try:
        findings = json.loads(proc.stdout)["findings"]
    except (json.JSONDecodeError, KeyError):
        return {
            "pair": pair,
            "breaks": breaks,
            "dc501": 0,
            "dc502": 0,
            "seconds": seconds,
            "note": f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}",
        }
    codes = [f["code"] for f in findings]
    note = next((f["message"][:160] for f in findings if f["code"] == "DC502"), "")
    return {
        "pair": pair,
        "breaks": breaks,
        "dc501": codes.count("DC501"),
        "dc502": codes.count("DC502"),
        "seconds": round(seconds, 1),
        "note": note,
    }


if __name__ == "__main__":
    raise SystemExit(main())
