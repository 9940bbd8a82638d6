"""Replay real concurrent pull requests through driftcheck and through independent oracles.

    python bench/realworld/replay.py --project pytest [--windows N] [--max-prs 6]
        [--driftcheck /path/to/python] [--jobs 1] [--tag NAME]

For each monthly window (see windows.py) it builds a scratch repository holding the
window's trunk and chosen pull requests, runs `driftcheck scan` over it, and for every
pair of participants asks git whether the merge conflicts and, where the merge is clean
and both sides change source files, whether the type-checker finds errors in the merged
tree that neither side has. Everything goes under bench/.cache/realworld/<project>/:
windows.json (the selection), <window>/scan.json (driftcheck's raw report),
<window>/pairs.jsonl and pairs.jsonl (every window's pairs). `--tag NAME` keeps a second
driftcheck's outputs apart (scan.NAME.json, pairs.NAME.jsonl); git's and the checker's
answers are shared, since they do not depend on driftcheck.
"""

from __future__ import annotations

import argparse
import itertools
import json
import queue
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checkers
import gitio
import pairs
import scan as scanning
import windows
from projects import DEFAULT_DRIFTCHECK, PROJECTS, Project


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def suffix(tag: str) -> str:
    return f".{tag}" if tag else ""


def load_or_select(project: Project, args: argparse.Namespace) -> list[windows.Window]:
    """The window selection; kept in windows.json and reused when it covers the request."""
    path = project.cache / "windows.json"
    wanted = {"windows": args.windows, "max_prs": args.max_prs}
    if path.is_file() and not args.reselect:
        saved = json.loads(path.read_text())
        arguments = saved.get("arguments", {})
        # Windows go newest first, so a longer selection's first N are the selection of N.
        if arguments.get("max_prs") == args.max_prs and arguments.get("windows", 0) >= args.windows:
            kept = [windows.Window.from_json(w) for w in saved["windows"]]
            if args.reclassify:
                windows.reclassify(project, kept)
                saved["windows"] = [w.to_json() for w in kept]
                path.write_text(json.dumps(saved, indent=1))
            return kept[: args.windows]
    started = time.perf_counter()
    chosen = windows.select_windows(project, args.windows, args.max_prs, log=log)
    project.cache.mkdir(parents=True, exist_ok=True)
    document = {
        "arguments": wanted,
        "seconds": round(time.perf_counter() - started, 1),
        "windows": [w.to_json() for w in chosen],
    }
    path.write_text(json.dumps(document, indent=1))
    return chosen


def checks_needed(
    git_dir: Path, merges: dict[tuple[int, int], pairs.Merge], participants: list[pairs.Side]
) -> list[str]:
    """Tree ids the checker must see for this window, each once, sides first."""
    trees: list[str] = []
    for (i, j), result in merges.items():
        if result.needs_check:
            for tree in (
                gitio.tree_of(git_dir, participants[i].head),
                gitio.tree_of(git_dir, participants[j].head),
                result.tree,
            ):
                if tree not in trees:
                    trees.append(tree)
    return trees


def run_checks(checker: checkers.Checker, git_dir: Path, trees: list[str], jobs: int) -> None:
    """Fill the checker's cache; `jobs` work folders at most, one checker run each."""
    todo = [t for t in trees if checker.cached(t) is None]
    if not todo:
        return
    log(f"  checker: {len(todo)} new trees ({len(trees) - len(todo)} cached)")
    if jobs <= 1:
        for tree in todo:
            report_check(checker.check(git_dir, tree))
        return
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)

    def check(tree: str) -> checkers.TreeResult:
        slot = slots.get()
        try:
            return checker.check(git_dir, tree, slot)
        finally:
            slots.put(slot)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for result in pool.map(check, todo):
            report_check(result)


def report_check(result: checkers.TreeResult) -> None:
    errors = len(result.errors) if result.errors is not None else "-"
    note = f" ({result.note[:120]})" if result.note and result.status != "ok" else ""
    log(f"    {result.tree[:10]} {result.status} errors={errors} {result.seconds:.1f}s{note}")


def replay_window(
    project: Project,
    window: windows.Window,
    checker: checkers.Checker | None,
    args: argparse.Namespace,
) -> list[dict]:
    folder = scanning.window_dir(project, window)
    repo = scanning.build_scratch(project, window)
    tag = suffix(args.tag)
    scan = scanning.run_scan(
        project, repo, args.driftcheck, folder / f"scan{tag}.json", args.scan_timeout
    )
    meta_file = folder / f"scan{tag}.meta.json"
    meta = scanning.scan_meta(scan, args.driftcheck, meta_file)
    meta_file.write_text(json.dumps(meta, indent=1))
    found = len(scan.document["findings"]) if scan.ok else "-"
    log(f"  scan: {scan.status}, {found} findings, {scan.seconds:.1f}s")
    participants = pairs.sides(project, window, scan)
    indices = list(itertools.combinations(range(len(participants)), 2))
    merges = {
        (i, j): pairs.merge(project, repo, participants[i], participants[j]) for i, j in indices
    }
    conflicts = sum(m.conflict for m in merges.values())
    log(f"  git: {len(merges)} pairs, {conflicts} conflict")
    if checker is not None:
        run_checks(checker, repo, checks_needed(repo, merges, participants), args.jobs)
    records = []
    for (i, j), result in merges.items():
        left, right = participants[i], participants[j]
        check = pairs.typecheck(checker, repo, left, right, result)
        records.append(pairs.pair_record(project, window, scan, left, right, result, check))
    with open(folder / f"pairs{tag}.jsonl", "w") as handle:
        for record in records:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
    return records


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, choices=sorted(PROJECTS))
    parser.add_argument("--windows", type=int, default=1, help="windows to replay (default 1)")
    parser.add_argument("--max-prs", type=int, default=6, help="pull requests per window")
    parser.add_argument("--driftcheck", type=Path, default=DEFAULT_DRIFTCHECK, help="python")
    parser.add_argument("--jobs", type=int, default=1, help="checker runs at once (default 1)")
    parser.add_argument("--tag", default="", help="name this driftcheck's outputs apart")
    parser.add_argument("--no-check", action="store_true", help="skip the type-checker")
    parser.add_argument("--reselect", action="store_true", help="redo the window selection")
    parser.add_argument(
        "--reclassify",
        action="store_true",
        help="classify the saved pull requests again (concurrent or not), same windows",
    )
    parser.add_argument("--only", help="replay only this window (YYYY-MM)")
    parser.add_argument("--scan-timeout", type=float, default=3600.0)
    parser.add_argument("--checker-timeout", type=float, default=checkers.TIMEOUT)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    project = PROJECTS[args.project]
    started = time.perf_counter()
    chosen = load_or_select(project, args)
    log(f"{project.name}: {len(chosen)} windows selected")
    checker = None if args.no_check else checkers.Checker(project, args.checker_timeout)
    if checker is not None and chosen:
        checker.prepare(chosen[0].trunk)
    all_records = []
    for window in chosen:
        if args.only and window.name != args.only:
            continue
        log(f"{window.name}: trunk {window.trunk[:10]}, PRs {window.chosen}")
        all_records += replay_window(project, window, checker, args)
    if not args.only:
        output = project.cache / f"pairs{suffix(args.tag)}.jsonl"
        with open(output, "w") as handle:
            for record in all_records:
                handle.write(json.dumps(record, sort_keys=True) + "\n")
        log(f"wrote {len(all_records)} pairs to {output}")
    log(f"done in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
