"""A real TypeScript/JavaScript codebase for driftcheck: `python bench/fetch_npm_sources.py`.

- `fetch(spec, cache)` runs `npm pack <spec>` (the registry npm is configured with) into
  a cache folder outside version control (default bench/.cache/npm) and unpacks it.
- `measure(root)` parses every file with its frontend and reports, per language, files,
  lines, parse time, lines per second, symbols, references and files with syntax errors.
- `plant(root, workdir)` builds a repository whose first commit is the sources, plus
  worktrees carrying known drift: a required parameter added to a real exported
  function vs a new call with the old arity (DC201), the same helper added twice under
  other names (DC301), the same place edited two ways (DC101), and a look-alike that
  must stay silent (an optional parameter added to another function, called with the
  old arity). `scan(repo)` runs `driftcheck scan --format json`; `check(findings, plan)`
  lists what is missing and anything else reported (noise on real code).

Options: package specs (default zod@4.6.7), --cache DIR, --measure, --scan, --workdir DIR.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.table import Symbol

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import git  # bench/ is not a package: found through sys.path

CACHE = Path(__file__).resolve().parent / ".cache" / "npm"
DEFAULT_SPECS = ("zod@4.6.7",)


class FetchError(RuntimeError):
    """npm is missing or could not fetch the package."""


def fetch(spec: str, cache: Path = CACHE, *, env: dict[str, str] | None = None) -> Path:
    """The unpacked `package/` folder of `spec` (fetched once into `cache`)."""
    safe = re.sub(r"[^A-Za-z0-9._@-]+", "_", spec)
    target = cache / safe
    if (target / "package").is_dir():
        return target / "package"
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError("npm is not installed")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        proc = subprocess.run(
            [npm, "pack", spec, "--silent", "--pack-destination", tmp],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=300,
        )
        tarballs = sorted(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            raise FetchError(f"npm pack {spec} failed: {proc.stderr.strip()[-500:]}")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarballs[0]) as tar:
            tar.extractall(unpacked, filter="data")
        try:
            unpacked.rename(target)  # atomic: a half-unpacked folder is never reused
        except OSError:
            if not (target / "package").is_dir():  # else a parallel fetch won the race
                raise
    return target / "package"


# ---------------------------------------------------------------- parse speed


@dataclass
class Stats:
    files: int = 0
    lines: int = 0
    size: int = 0
    seconds: float = 0.0
    symbols: int = 0
    references: int = 0
    parse_errors: int = 0
    crashes: int = 0

    def row(self, language: str) -> str:
        rate = self.lines / self.seconds / 1000 if self.seconds else 0.0
        return (
            f"{language:11} {self.files:5} files {self.lines:8} lines {self.size / 1e6:6.2f} MB "
            f"{self.seconds:6.2f} s {rate:6.1f}k lines/s  {self.symbols:6} symbols "
            f"{self.references:6} refs  {self.parse_errors} with syntax errors"
        )


def measure(root: Path) -> dict[str, Stats]:
    """Parse every file under `root` that has a frontend; the grammar load is not timed."""
    out: dict[str, Stats] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        frontend = frontend_for(rel)
        if frontend is None:
            continue
        data = path.read_bytes()
        stats = out.setdefault(frontend.name, Stats())
        if stats.files == 0:
            frontend.parse(rel, b"")  # load the grammar before timing
        start = time.perf_counter()
        table = frontend.parse(rel, data)
        stats.seconds += time.perf_counter() - start
        stats.files += 1
        stats.lines += data.count(b"\n") + 1
        stats.size += len(data)
        stats.symbols += len(table.symbols)
        stats.references += len(table.references)
        if table.parse_error:
            stats.parse_errors += 1
            stats.crashes += "internal error" in table.parse_error
    return out


# ---------------------------------------------------------------- planted drift


@dataclass
class Plan:
    """What `plant` did and the findings a scan must report for it."""

    target: Symbol
    caller_path: str
    caller_line: int
    duplicate_paths: tuple[str, str]
    conflict_path: str
    expected: list[dict[str, object]]


def _targets(root: Path) -> list[tuple[Symbol, str]]:
    """Real exported JS/TS functions with required parameters and a one-line head, best
    first (TypeScript sources, then the most parameters)."""
    found: list[tuple[tuple[bool, int, str, int], Symbol, str]] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        frontend = frontend_for(rel)
        if frontend is None or frontend.name not in ("javascript", "typescript"):
            continue
        if rel.endswith((".d.ts", ".d.mts", ".d.cts")) or "/node_modules/" in rel:
            continue
        text = path.read_text("utf-8", "replace")
        for sym in frontend.parse(rel, text.encode()).symbols:
            sig = sym.signature
            if sym.kind != "function" or sig is None or not sig.params:
                continue
            if not all(p.required and p.name.isidentifier() for p in sig.params):
                continue
            head = text.splitlines()[sym.start_line - 1]
            if not re.search(rf"export\s+(async\s+)?function\s+{sym.name}\s*\(.*\)", head):
                continue
            key = (frontend.name != "typescript", -len(sig.params), rel, sym.start_line)
            found.append((key, sym, text))
    found.sort(key=lambda item: item[0])
    found = [f for i, f in enumerate(found) if f[1].name not in {g[1].name for g in found[:i]}]
    if len(found) < 2:
        raise RuntimeError(f"need two exported functions with required parameters in {root}")
    return [(sym, text) for _, sym, text in found]


def _add_parameter(text: str, sym: Symbol, param: str) -> str:
    """`function f(a, b)` -> `function f(a, b, <param>)` on the function's line."""
    lines = text.splitlines(keepends=True)
    head = lines[sym.start_line - 1]
    start = head.index("(", head.index(sym.name))
    depth = 0
    for i in range(start, len(head)):
        depth += {"(": 1, ")": -1}.get(head[i], 0)
        if depth == 0:
            inside = head[start + 1 : i].rstrip().rstrip(",")
            lines[sym.start_line - 1] = f"{head[: start + 1]}{inside}, {param}{head[i:]}"
            return "".join(lines)
    raise RuntimeError(f"cannot find the parameter list of {sym.name}")


def _specifier(importer: str, target: str) -> str:
    """How `importer` imports `target` (TypeScript ESM writes `.js` for `.ts`)."""
    rel = os.path.relpath(target, os.path.dirname(importer) or ".")
    rel = rel if rel.startswith(".") else "./" + rel
    return re.sub(r"\.(m|c)?tsx?$", ".js", rel)


_HELPER = """\
export function {name}({items}: string[], {limit}: number): string[] {{
  const {out}: string[] = [];
  for (const {item} of {items}) {{
    if ({item}.trim().length > 0 && {out}.length < {limit}) {{
      {out}.push({item}.trim().toLowerCase());
    }}
  }}
  return {out}.sort();
}}
"""


def plant(root: Path, workdir: Path, *, env: dict[str, str] | None = None) -> tuple[Path, Plan]:
    """A repository of the sources at `workdir/repo` and six drifting worktrees.

    plant/signature adds a required parameter to one real function and an optional one
    to another; plant/caller adds a file calling both with the old arity: only the first
    call breaks. plant/dup-a and plant/dup-b add one helper under two sets of names;
    plant/same-a and plant/same-b insert different lines at one place of package.json.
    """
    repo = workdir / "repo"
    if repo.exists():
        shutil.rmtree(workdir)
    repo.mkdir(parents=True)
    subprocess.run(["cp", "-a", f"{root}/.", str(repo)], check=True)
    git("init", "-q", "-b", "main", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-q", "-m", "base: package sources", cwd=repo, env=env)
    (target, text), (other, other_text) = _targets(repo)[:2]
    folder = str(Path(target.path).parent)
    ext = Path(target.path).suffix
    caller_path = ("" if folder == "." else folder + "/") + f"planted-caller{ext}"
    calls = []
    for sym in (target, other):
        args = ", ".join(p.name for p in sym.signature.params) if sym.signature else ""
        calls.append((sym, args))
    caller = "".join(
        f'import {{ {sym.name} as {sym.name}{n} }} from "{_specifier(caller_path, sym.path)}";\n'
        for n, (sym, _) in enumerate(calls)
    )
    caller += "".join(
        f"\nexport function plantedCaller{n}({args}) {{\n  return {sym.name}{n}({args});\n}}\n"
        for n, (sym, args) in enumerate(calls)
    )
    signature_edits = {target.path: _add_parameter(text, target, "plantedExtra")}
    optional = "plantedOptional = undefined"
    if other.path == target.path:
        signature_edits[target.path] = _add_parameter(signature_edits[target.path], other, optional)
    else:
        signature_edits[other.path] = _add_parameter(other_text, other, optional)
    names = [("cleanWords", "words", "max", "kept", "word"), ("tidyTags", "tags", "n", "res", "t")]
    helpers = [
        _HELPER.format(name=n, items=i, limit=lim, out=o, item=it) for n, i, lim, o, it in names
    ]
    duplicate_paths = ("planted-words.ts", "planted-tags.ts")
    conflict_path = "package.json"
    first, _, rest = (repo / conflict_path).read_text().partition("\n")
    edits: dict[str, dict[str, str]] = {
        "signature": signature_edits,
        "caller": {caller_path: caller},
        "dup-a": {duplicate_paths[0]: helpers[0]},
        "dup-b": {duplicate_paths[1]: helpers[1]},
        "same-a": {conflict_path: f'{first}\n  "x": "a",\n{rest}'},
        "same-b": {conflict_path: f'{first}\n  "x": "b",\n{rest}'},
    }
    for n, (name, files) in enumerate(edits.items()):
        wt = workdir / name
        git("worktree", "add", "-q", "-b", f"plant/{name}", str(wt), cwd=repo, env=env)
        for rel, content in files.items():
            (wt / rel).write_text(content)
        git("add", "-A", cwd=wt, env=env)
        if n % 2 == 0:  # half committed, half left as staged work
            git("commit", "-q", "-m", f"plant {name}", cwd=wt, env=env)
    call_line = 2 + len(calls) + 1  # after the imports and a blank line and the head
    expected: list[dict[str, object]] = [
        {
            "kind": "stale-caller",
            "code": "DC201",
            "participants": ["plant/caller", "plant/signature"],
            "path": caller_path,
            "line": call_line,
            "symbol": target.qualname,
        },
        {"kind": "duplicate", "code": "DC301", "participants": ["plant/dup-a", "plant/dup-b"]},
        {
            "kind": "textual-conflict",
            "code": "DC101",
            "participants": ["plant/same-a", "plant/same-b"],
            "path": conflict_path,
        },
    ]
    return repo, Plan(target, caller_path, call_line, duplicate_paths, conflict_path, expected)


def scan(repo: Path, *, env: dict[str, str] | None = None) -> tuple[int, list[dict], float]:
    """(exit code, findings, seconds) of `driftcheck scan --format json`."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "driftcheck", "scan", "--format", "json"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"scan failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc.returncode, json.loads(proc.stdout)["findings"], elapsed


def check(findings: list[dict], plan: Plan) -> list[str]:
    """Problems: a planted finding that is missing, or any finding nobody planted (on
    real code every other finding is noise)."""
    problems = []
    left = list(findings)
    for want in plan.expected:
        match = next((f for f in left if _matches(want, f)), None)
        if match is None:
            problems.append(f"missing {json.dumps(want)}")
        else:
            left.remove(match)
    problems += [f"unexpected {f['kind']} {f['code']}: {f['message']}" for f in left]
    return problems


def _matches(want: dict[str, object], got: dict[str, object]) -> bool:
    for key, value in want.items():
        if key == "participants":
            if sorted(got.get(key) or []) != sorted(value):  # type: ignore[call-overload]
                return False
        elif got.get(key) != value:
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("specs", nargs="*", default=list(DEFAULT_SPECS))
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--measure", action="store_true", help="parse speed per language")
    parser.add_argument("--scan", action="store_true", help="plant drift and scan it")
    parser.add_argument("--workdir", type=Path, default=CACHE.parent / "npm-work")
    args = parser.parse_args()
    status = 0
    for spec in args.specs:
        root = fetch(spec, args.cache)
        print(f"{spec}: {root}")
        if args.measure or not args.scan:
            for language, stats in sorted(measure(root).items()):
                print("  " + stats.row(language))
        if args.scan:
            repo, plan = plant(root, args.workdir / re.sub(r"\W+", "_", spec))
            code, findings, seconds = scan(repo)
            print(f"  scan: exit {code}, {len(findings)} findings in {seconds:.1f} s")
            print(f"  planted: {plan.target.qualname} gets a parameter; {plan.caller_path}")
            for problem in check(findings, plan):
                status = 1
                print(f"  PROBLEM {problem}")
    return status


if __name__ == "__main__":
    sys.exit(main())
