"""Precision and recall of driftcheck on replayed pull requests.

    python bench/realworld/report.py --project pytest [--results FILE] [--unjudged FILE]

Reads the pairs replay.py wrote and prints, for concurrent pairs (both sides concurrent;
the trunk always is): how many there are; how many git merges cleanly and the checker
calls clean; driftcheck's semantic findings on those clean pairs, by code and per 20
clean pairs; the pairs whose merged tree has new checker errors and how many of them
driftcheck flagged with an error-severity finding (recall); whether driftcheck's
textual-conflict findings agree with git, pair by pair; and the precision of the
semantic findings against the hand judgements in judgements/<project>.jsonl.
`--unjudged FILE` writes the semantic findings still to judge, one JSON object a line,
with what a person needs to judge them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from keys import finding_key, side_label, single_label
from projects import CACHE, PROJECTS, ROOT

SEMANTIC = ("stale-caller", "duplicate", "contradicting-edit")
VERDICTS = ("REAL", "PLAUSIBLE", "NOISE")
NO_SOURCE = "one side changes no source file"


def load(path: Path) -> list[dict]:
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def is_clean(record: dict) -> bool:
    """git merges it and the checker finds nothing new (or could not: no source on a side)."""
    if record["git_conflict"] or record.get("merge_error"):
        return False
    check = record["typecheck"]
    if check["ran"]:
        return not check["new_errors"]
    return check.get("reason") == NO_SOURCE


def is_breaking(record: dict) -> bool:
    check = record["typecheck"]
    return bool(check["ran"] and check["new_errors"])


def checker_unknown(record: dict) -> bool:
    check = record["typecheck"]
    clean_merge = not record["git_conflict"] and not record.get("merge_error")
    return clean_merge and not check["ran"] and check.get("reason") != NO_SOURCE


def pair_name(record: dict) -> str:
    return f"{record['window']} {record['left']['name']} x {record['right']['name']}"


def semantic(findings: Iterable[dict] | None) -> list[dict]:
    return [f for f in findings or [] if f["kind"] in SEMANTIC]


def keyed(project: str, record: dict) -> Iterator[tuple[str, dict, str | None]]:
    """(key, finding, single side's name or None) for every semantic finding of a pair."""
    labels = {
        record["left"]["name"]: side_label(record["left"]["pr"]),
        record["right"]["name"]: side_label(record["right"]["pr"]),
    }
    for finding in semantic(record["findings"]):
        yield finding_key(project, labels, finding), finding, None
    sides = {record["left"]["name"]: record["left"], record["right"]["name"]: record["right"]}
    for name, findings in (record.get("single_findings") or {}).items():
        own = {name: single_label(sides[name]["pr"], record["window"])}
        for finding in semantic(findings):
            yield finding_key(project, own, finding), finding, name


def scan_times(results: Path, windows: list[str]) -> None:
    """driftcheck's run time per window, from the scan.meta.json beside the results."""
    tag = results.name.removeprefix("pairs").removesuffix(".jsonl")
    seconds = []
    for window in windows:
        meta = results.parent / window / f"scan{tag}.meta.json"
        if meta.is_file():
            cold = json.loads(meta.read_text()).get("cold_seconds")
            if cold is not None:
                seconds.append(cold)
    if seconds:
        print(
            f"driftcheck scan time per window, no cache ({len(seconds)} windows): "
            f"median {sorted(seconds)[len(seconds) // 2]:.1f}s, max {max(seconds):.1f}s, "
            f"total {sum(seconds):.0f}s"
        )


def header(title: str) -> None:
    print(f"\n{title}")


def summary(records: list[dict], results: Path) -> list[dict]:
    concurrent = [r for r in records if r["concurrent"]]
    windows = sorted({r["window"] for r in records})
    print(f"results: {results}")
    print(f"windows: {len(windows)} ({windows[0]} .. {windows[-1]})" if windows else "windows: 0")
    print(f"pairs: {len(records)} in all, {len(concurrent)} concurrent")
    failed = sorted({r["window"] for r in records if r["findings"] is None})
    if failed:
        print(f"driftcheck scan failed in windows: {', '.join(failed)}")
    scan_times(results, windows)
    criss_cross = [r for r in records if len(r["merge_bases"]) > 1]
    unrelated = [r for r in records if not r["merge_bases"]]
    print(f"pairs with several merge bases (criss-cross): {len(criss_cross)}", end="")
    print(f", with none: {len(unrelated)}")
    for record in criss_cross:
        print(f"  criss-cross: {pair_name(record)}: {len(record['merge_bases'])} bases")
    conflicts = sum(r["git_conflict"] for r in concurrent)
    ran = sum(r["typecheck"]["ran"] for r in concurrent)
    unknown = [r for r in concurrent if checker_unknown(r)]
    clean = [r for r in concurrent if is_clean(r)]
    header("concurrent pairs")
    print(f"  pairs                                   {len(concurrent):6d}")
    print(f"  git conflicts                           {conflicts:6d}")
    print(f"  checker ran (clean merge, source both)  {ran:6d}")
    print(f"  checker could not tell (timeout/failed) {len(unknown):6d}")
    print(f"  clean: git merges, checker calls clean  {len(clean):6d}")
    reasons = Counter(record["typecheck"].get("reason") for record in unknown)
    for reason, count in reasons.most_common():
        print(f"    could not tell, {count} pairs: {reason}")
    for record in unknown[:10]:
        print(f"    e.g. {pair_name(record)}: {record['typecheck'].get('reason')}")
    return concurrent


def semantic_on_clean(concurrent: list[dict]) -> None:
    clean = [r for r in concurrent if is_clean(r) and r["findings"] is not None]
    codes: Counter[str] = Counter()
    flagged = 0
    for record in clean:
        found = semantic(record["findings"])
        codes.update(f["code"] for f in found)
        flagged += bool(found)
    header(f"semantic findings on clean concurrent pairs ({len(clean)} pairs scanned)")
    total = sum(codes.values())
    for code, count in sorted(codes.items()):
        print(f"  {code}  {count:5d}   {rate(count, len(clean))} per 20 clean pairs")
    print(f"  all    {total:5d}   {rate(total, len(clean))} per 20 clean pairs")
    print(f"  clean pairs with a semantic finding: {flagged} ({rate(flagged, len(clean))} per 20)")
    singles: dict[str, dict] = {}
    for record in concurrent:
        for key, finding, name in keyed(record["project"], record):
            if name is not None:
                singles.setdefault(key, finding)
    by_code = Counter(f["code"] for f in singles.values())
    text = ", ".join(f"{code} {count}" for code, count in sorted(by_code.items())) or "none"
    print(f"  single-participant findings of concurrent participants (once each): {text}")


def rate(count: int, pairs: int) -> str:
    return f"{20 * count / pairs:6.2f}" if pairs else "     -"


def has_error(record: dict) -> bool:
    return any(f["severity"] == "error" for f in record["findings"] or [])


def through_trunk(record: dict, pairs: dict[tuple[str, frozenset[str]], dict]) -> dict | None:
    """The pair of the trunk with one of this pair's sides that breaks the same way and
    was caught: two pull requests whose merge breaks only because one carries the
    trunk's commits that the other one's new code contradicts. driftcheck reports that
    once, on the trunk's pair (a side's own work is counted from its fork point)."""
    errors = {tuple(e) for e in record["typecheck"]["new_errors"]}
    for side in (record["left"], record["right"]):
        for other, found in pairs.items():
            if other[0] != record["window"] or side["name"] not in other[1]:
                continue
            if not any(s.get("pr") is None for s in (found["left"], found["right"])):
                continue  # not a pair with the trunk
            if found is record or not is_breaking(found) or not has_error(found):
                continue
            if errors <= {tuple(e) for e in found["typecheck"]["new_errors"]}:
                return found
    return None


def breakage(concurrent: list[dict]) -> None:
    breaking = [r for r in concurrent if is_breaking(r)]
    caught = [r for r in breaking if has_error(r)]
    pairs = {
        (r["window"], frozenset((r["left"]["name"], r["right"]["name"]))): r for r in concurrent
    }
    via = {id(r): t for r in breaking if r not in caught and (t := through_trunk(r, pairs))}
    header("breaking pairs (merged tree has checker errors neither side has)")
    recall = f"{len(caught) / len(breaking):.2f}" if breaking else "-"
    print(f"  breaking {len(breaking)}, caught with an error-severity finding {len(caught)}")
    print(f"  recall {recall}")
    if via:
        total = len(caught) + len(via)
        print(
            f"  caught on the pair itself or, where the break is the trunk's commits against"
            f" one side, on that side's pair with the trunk: {total} of {len(breaking)}"
            f" (recall {total / len(breaking):.2f})"
        )
    for record in breaking:
        codes = sorted({f["code"] for f in record["findings"] or [] if f["severity"] == "error"})
        mark = "caught" if record in caught else "TRUNK" if id(record) in via else "MISSED"
        print(f"  {mark:6s} {pair_name(record)}  driftcheck errors: {', '.join(codes) or '-'}")
        if not record["typecheck"].get("same_config", True):
            print("           (the three trees were not checked with the same config)")
        for path, message, code in record["typecheck"]["new_errors"][:5]:
            print(f"           {path}: {message[:110]} [{code}]")
        more = len(record["typecheck"]["new_errors"]) - 5
        if more > 0:
            print(f"           ... {more} more")


def textual(concurrent: list[dict]) -> None:
    scanned = [r for r in concurrent if r["findings"] is not None and not r.get("merge_error")]
    disagree, paths_differ = [], []
    for record in scanned:
        found = {f["path"] for f in record["findings"] if f["kind"] == "textual-conflict"}
        if bool(found) != record["git_conflict"]:
            disagree.append((record, found))
        elif found and found != set(record["conflict_paths"]):
            paths_differ.append((record, found))
    header("textual agreement (driftcheck reports a textual conflict == git conflicts)")
    print(f"  agree {len(scanned) - len(disagree)} of {len(scanned)} pairs")
    for record, found in disagree:
        print(f"  DISAGREE {pair_name(record)}: git {record['conflict_paths'] or 'clean'}")
        print(f"           driftcheck {sorted(found) or 'no textual finding'}")
    print(f"  both conflict but on different paths: {len(paths_differ)}")
    for record, found in paths_differ:
        print(
            f"    {pair_name(record)}: git {record['conflict_paths']}, driftcheck {sorted(found)}"
        )


def load_judgements(project: str) -> dict[str, dict]:
    path = ROOT / "judgements" / f"{project}.jsonl"
    if not path.is_file():
        return {}
    judged = {}
    for entry in load(path):
        if entry.get("verdict") in VERDICTS:
            judged[entry["key"]] = entry
    return judged


def to_judge(project: str, concurrent: list[dict]) -> dict[str, dict]:
    """Every semantic finding on concurrent pairs, once per key, with its context."""
    found: dict[str, dict] = {}
    for record in concurrent:
        for key, finding, single in keyed(project, record):
            if key in found:
                found[key]["occurrences"] += 1
                continue
            found[key] = context(key, finding, record, single)
    return found


def context(key: str, finding: dict, record: dict, single: str | None) -> dict:
    repo = CACHE / record["project"] / record["window"] / "repo.git"
    sides = [record["left"], record["right"]]
    if single is not None:
        sides = [s for s in sides if s["name"] == single]
    return {
        "key": key,
        "verdict": None,
        "reason": "",
        "code": finding["code"],
        "kind": finding["kind"],
        "severity": finding["severity"],
        "path": finding["path"],
        "line": finding["line"],
        "symbol": finding["symbol"],
        "message": finding["message"],
        "details": finding["details"],
        "window": record["window"],
        "trunk_commit": record["trunk_commit"],
        "sides": [{k: s[k] for k in ("name", "ref", "pr", "head")} for s in sides],
        "merge_bases": record["merge_bases"],
        "pair_git_conflict": record["git_conflict"],
        "pair_clean": is_clean(record),
        "pair_new_errors": record["typecheck"].get("new_errors"),
        "repo": str(repo),
        "occurrences": 1,
    }


def precision(project: str, concurrent: list[dict], unjudged_out: Path | None) -> None:
    findings = to_judge(project, concurrent)
    judged = load_judgements(project)
    verdicts: Counter[str] = Counter()
    per_code: dict[str, Counter[str]] = defaultdict(Counter)
    for key, item in findings.items():
        verdict = judged[key]["verdict"] if key in judged else "unjudged"
        verdicts[verdict] += 1
        per_code[item["code"]][verdict] += 1
    header("precision of semantic findings on concurrent pairs (one per key)")
    print(
        f"  findings {len(findings)}, judged {len(findings) - verdicts['unjudged']}, "
        f"unjudged {verdicts['unjudged']}"
    )
    print("  " + ", ".join(f"{v} {verdicts[v]}" for v in VERDICTS))
    print(f"  precision (REAL+PLAUSIBLE)/judged: {ratio(verdicts)}")
    for code in sorted(per_code):
        counts = per_code[code]
        line = ", ".join(f"{v} {counts[v]}" for v in (*VERDICTS, "unjudged") if counts[v])
        print(f"    {code}: {line}; precision {ratio(counts)}")
    stale = set(judged) - set(findings)
    if stale:
        print(f"  judgements whose finding is gone: {len(stale)}")
    if unjudged_out is not None:
        pending = [item for key, item in findings.items() if key not in judged]
        # Findings on clean pairs first: there git and the checker say nothing, so the
        # finding is all a reviewer would get. Then newest window first.
        pending.sort(key=lambda item: (not item["pair_clean"], invert(item["window"]), item["key"]))
        with open(unjudged_out, "w") as handle:
            for item in pending:
                handle.write(json.dumps(item, sort_keys=True) + "\n")
        on_clean = sum(item["pair_clean"] for item in pending)
        print(f"  wrote {len(pending)} unjudged findings ({on_clean} on clean pairs, first)")
        print(f"  to {unjudged_out}")


def invert(window: str) -> tuple[int, int]:
    """Sorts YYYY-MM newest first inside an ascending sort."""
    year, month = window.split("-")
    return (-int(year), -int(month))


def ratio(counts: Counter[str]) -> str:
    judged = sum(counts[v] for v in VERDICTS)
    if not judged:
        return "-"
    return f"{(counts['REAL'] + counts['PLAUSIBLE']) / judged:.2f} of {judged}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, choices=sorted(PROJECTS))
    parser.add_argument("--results", type=Path, help="pairs.jsonl (default: the project's)")
    parser.add_argument("--unjudged", type=Path, help="write the findings still to judge here")
    args = parser.parse_args(argv)
    results = args.results or CACHE / args.project / "pairs.jsonl"
    records = load(results)
    print(f"== {args.project}")
    concurrent = summary(records, results)
    semantic_on_clean(concurrent)
    breakage(concurrent)
    textual(concurrent)
    precision(args.project, concurrent, args.unjudged)
    return 0


if __name__ == "__main__":
    sys.exit(main())
