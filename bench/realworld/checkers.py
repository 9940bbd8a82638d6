"""The breakage oracle: a type-checker run on a tree, cached by tree id.

A tree is written into one fixed work folder per project (so mypy's and tsc's incremental
caches carry over from one tree to the next) through a temporary index:
`read-tree` then `checkout-index --prefix`. Results are kept per tree id in a JSON file;
trees are content-addressed, so a result never goes stale.

Errors are compared as multisets of (path, message, code) without line numbers, since
lines shift in a merge; "line N" inside a message is normalised for the same reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import gitio
from projects import TOOLS, Project, go_binary

TIMEOUT = 600.0
MAX_EXCLUDED = 5
_DUPLICATE = re.compile(r'Duplicate module named "[^"]+" \(also at "(?P<path>[^"]+)"\)')
_LINE_IN_MESSAGE = re.compile(r"\bline \d+\b")
_MYPY = re.compile(
    r"^(?P<path>[^:\n]+?):(?P<line>\d+)(?::\d+)?(?::\d+:\d+)?: (?P<severity>error|warning): "
    r"(?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_TSC = re.compile(
    r"^(?P<path>[^(\n]+)\((?P<line>\d+),\d+\): error (?P<code>TS\d+): (?P<message>.*)$"
)
_GO = re.compile(r"^(?:vet: )?(?P<path>[^:\s]+\.go):(?P<line>\d+)(?::\d+)?: (?P<message>.*)$")

Error = tuple[str, str, str]  # path, message, code


@dataclass
class TreeResult:
    """One checker run on one tree. `errors` is None when the run said nothing usable."""

    tree: str
    status: str  # ok | timeout | failed
    errors: list[Error] | None
    seconds: float
    exit_code: int | None = None
    # mypy: project | none (the project's config made mypy stop); TypeScript: the compiler
    config: str = "project"
    note: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "tree": self.tree,
            "status": self.status,
            "errors": [list(e) for e in self.errors] if self.errors is not None else None,
            "seconds": round(self.seconds, 2),
            "exit_code": self.exit_code,
            "config": self.config,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, data: dict) -> TreeResult:
        errors = data.get("errors")
        return cls(
            tree=data["tree"],
            status=data["status"],
            errors=[tuple(e) for e in errors] if errors is not None else None,
            seconds=data.get("seconds", 0.0),
            exit_code=data.get("exit_code"),
            config=data.get("config", "project"),
            note=data.get("note", ""),
        )


def normalise(message: str) -> str:
    return _LINE_IN_MESSAGE.sub("line N", message.strip())


def parse_mypy(text: str) -> list[Error]:
    errors = []
    for line in text.splitlines():
        match = _MYPY.match(line)
        if match and match["severity"] == "error":
            errors.append((match["path"], normalise(match["message"]), match["code"] or ""))
    return errors


def parse_tsc(text: str) -> list[Error]:
    errors: list[list[str]] = []
    for line in text.splitlines():
        match = _TSC.match(line)
        if match:
            errors.append([match["path"], match["message"], match["code"]])
        elif errors and line.startswith(" "):  # a message's continuation lines
            errors[-1][1] += " " + line.strip()
    return [(path, normalise(message), code) for path, message, code in errors]


def parse_go(text: str) -> list[Error]:
    errors = []
    for line in text.splitlines():
        match = _GO.match(line.strip())
        if match:
            path = match["path"].removeprefix("./")
            errors.append((path, normalise(match["message"]), "vet"))
    return errors


def new_errors(left: list[Error], right: list[Error], merged: list[Error]) -> list[Error]:
    """Errors of the merged tree that neither side has (as multisets)."""
    extra = Counter(merged) - (Counter(left) | Counter(right))
    return sorted(extra.elements())


class Checker:
    """Runs one project's checker on trees, one fixed work folder per worker slot."""

    def __init__(self, project: Project, timeout: float = TIMEOUT) -> None:
        self.project = project
        self.timeout = timeout
        self.root = project.cache / "checker"
        self.root.mkdir(parents=True, exist_ok=True)
        self.results_file = project.cache / "checker-results.json"
        self.lock = threading.Lock()
        self.results: dict[str, dict] = {}
        if self.results_file.is_file():
            self.results = json.loads(self.results_file.read_text())
        self.signature = self._signature()

    # -- cache ---------------------------------------------------------------
    def _signature(self) -> str:
        """What decides a result besides the tree: the checker, its version, its flags."""
        version = self._version()
        return f"{self.project.language}|{version}|{' '.join(self.project.checker_args)}"

    def _version(self) -> str:
        language = self.project.language
        if language == "python":
            command = [str(TOOLS / "bin" / "mypy"), "--version"]
        elif language == "typescript":
            command = ["node", str(self.tsc()), "--version"]
        else:
            command = [go_binary(), "version"]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError:
            return "missing"
        return proc.stdout.strip() or proc.stderr.strip()

    def cached(self, tree: str) -> TreeResult | None:
        """A kept result; a failed run is tried again (failures are quick, and may be ours)."""
        with self.lock:
            data = self.results.get(f"{self.signature}:{tree}")
        if not data or data.get("status") == "failed":
            return None
        return TreeResult.from_json(data)

    def _store(self, result: TreeResult) -> None:
        with self.lock:
            self.results[f"{self.signature}:{result.tree}"] = result.to_json()
            temporary = self.results_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.results, indent=0, sort_keys=True))
            os.replace(temporary, self.results_file)

    # -- running -------------------------------------------------------------
    def check(self, repo: Path, tree: str, slot: int = 0) -> TreeResult:
        found = self.cached(tree)
        if found is not None:
            return found
        work = self.root / f"work-{slot}"
        materialise(repo, tree, work, self.root / f"index-{slot}")
        started = time.perf_counter()
        if self.project.language == "python":
            result = self._mypy(work, tree, slot)
        elif self.project.language == "typescript":
            result = self._tsc(work, tree, slot)
        else:
            result = self._go(work, tree, slot)
        result.seconds = time.perf_counter() - started
        self._store(result)
        return result

    def _run(self, command: list[str], cwd: Path, env: dict[str, str] | None = None):
        try:
            proc = subprocess.run(
                command,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        return proc

    def _mypy(self, work: Path, tree: str, slot: int) -> TreeResult:
        paths = [p for p in self.project.check_paths if (work / p).exists()]
        if not paths:
            return TreeResult(tree, "failed", None, 0.0, note="no path to check")
        command = [
            str(TOOLS / "bin" / "mypy"),
            *paths,
            "--ignore-missing-imports",
            "--no-error-summary",
            "--show-error-codes",
            "--hide-error-context",
            "--no-pretty",
            "--no-color-output",
            "--cache-dir",
            str(self.root / f"mypy-cache-{slot}"),
            *self.project.checker_args,
        ]
        result = self._mypy_excluding(command, work, tree)
        if result.status == "failed":
            # The project's own config can make mypy stop (an unknown plugin, an option
            # this mypy refuses): check the tree without it rather than not at all.
            empty = self.root / "empty-mypy.ini"
            empty.write_text("[mypy]\n")
            command = [*command, "--config-file", str(empty)]
            retry = self._mypy_excluding(command, work, tree)
            retry.config = "none"
            retry.note = f"project config failed: {result.note}; {retry.note}"[:2000]
            return retry
        return result

    def _mypy_excluding(self, command: list[str], work: Path, tree: str) -> TreeResult:
        """mypy, leaving out each second module of a name until it stops complaining.

        Two top-level modules of one name (a pull request adding a second
        `conftest.py` in a folder without `__init__.py`) stop mypy before it checks
        anything; the other trees lack the file, so leaving it out keeps them comparable.
        """
        excluded: list[str] = []
        for _ in range(MAX_EXCLUDED):
            result = self._mypy_once([*command, *excluded], work, tree)
            duplicate = _DUPLICATE.search(result.note) if result.status == "failed" else None
            if duplicate is None:
                break
            excluded += ["--exclude", f"^{re.escape(duplicate['path'])}$"]
        if excluded:
            left_out = ", ".join(excluded[1::2])
            result.note = f"{result.note}; left out {left_out}".lstrip("; ")
        return result

    def _mypy_once(self, command: list[str], work: Path, tree: str) -> TreeResult:
        proc = self._run(command, work)
        if proc is None:
            return TreeResult(tree, "timeout", None, 0.0)
        errors = parse_mypy(proc.stdout)
        if proc.returncode in (0, 1) or (proc.returncode == 2 and errors):
            # Exit 2 with file errors: a blocking error (say a syntax error) in a file.
            note = "blocking error" if proc.returncode == 2 else ""
            return TreeResult(tree, "ok", errors, 0.0, proc.returncode, note=note)
        detail = (proc.stderr.strip() or proc.stdout.strip())[-1500:]
        return TreeResult(tree, "failed", None, 0.0, proc.returncode, note=detail)

    # -- TypeScript ------------------------------------------------------------
    def deps(self) -> Path:
        return self.project.cache / "deps"

    def prepare(self, commit: str) -> None:
        """node_modules for TypeScript, installed once from `commit`'s package.json.

        Every tree gets a symlink to it. Scripts are not run and the lockfile is not
        used (bun's is not npm's): what matters is one fixed set of type definitions
        for every tree, so that errors of two trees can be compared.
        """
        typescript = self.deps() / "node_modules" / "typescript"
        if self.project.language != "typescript" or typescript.is_dir():
            return
        deps = self.deps()
        deps.mkdir(parents=True, exist_ok=True)
        manifest = json.loads(gitio.out(self.project.mirror, "show", f"{commit}:package.json"))
        for key in ("scripts", "workspaces", "packageManager"):
            manifest.pop(key, None)
        (deps / "package.json").write_text(json.dumps(manifest, indent=1))
        (deps / "SOURCE").write_text(f"package.json of {commit}\n")
        subprocess.run(
            ["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--legacy-peer-deps"],
            cwd=deps,
            check=True,
        )
        self.signature = self._signature()

    def tsc(self) -> Path:
        """The compiler: tsgo (TypeScript's native port) where the project pins it, else tsc."""
        modules = self.deps() / "node_modules"
        if self.project.ts_compiler == "tsgo":
            native = modules / "@typescript" / "native-preview" / "bin" / "tsgo.js"
            if native.is_file():
                return native
        return modules / "typescript" / "bin" / "tsc"

    def _tsc(self, work: Path, tree: str, slot: int) -> TreeResult:
        config = next((c for c in self.project.ts_configs if (work / c).is_file()), None)
        if config is None:
            return TreeResult(tree, "failed", None, 0.0, note="no tsconfig")
        link = work / "node_modules"
        if not link.exists():
            link.symlink_to(self.deps() / "node_modules")
        compiler = self.tsc()
        result = self._tsc_once(compiler, config, work, tree)
        classic = self.deps() / "node_modules" / "typescript" / "bin" / "tsc"
        refused = any(code.startswith("TS5") for _, _, code in result.errors or [])
        if compiler != classic and (result.status == "failed" or refused):
            # tsgo drops options older trees use (moduleResolution "node"): tsc then.
            result = self._tsc_once(classic, config, work, tree)
            result.note += "; tsgo refused the config"
        return result

    def _tsc_once(self, compiler: Path, config: str, work: Path, tree: str) -> TreeResult:
        command = ["node", str(compiler), "--noEmit", "--pretty", "false", "-p", config]
        proc = self._run(command, work)
        if proc is None:
            return TreeResult(tree, "timeout", None, 0.0)
        name = compiler.name.removesuffix(".js")
        errors = parse_tsc(proc.stdout)
        if proc.returncode == 0 or errors:
            note = f"{name} -p {config}"
            return TreeResult(tree, "ok", errors, 0.0, proc.returncode, config=name, note=note)
        detail = (proc.stdout.strip() + "\n" + proc.stderr.strip())[-1500:]
        return TreeResult(tree, "failed", None, 0.0, proc.returncode, config=name, note=detail)

    # -- Go --------------------------------------------------------------------
    def _go(self, work: Path, tree: str, slot: int) -> TreeResult:
        if not (work / "go.mod").is_file():
            return TreeResult(tree, "failed", None, 0.0, note="no go.mod")
        env = {
            "GOFLAGS": "-mod=mod",
            "GOPROXY": "off",
            "GOTOOLCHAIN": "local",
            "GOCACHE": str(self.root / f"go-cache-{slot}"),
            "GOPATH": str(self.root / "gopath"),
        }
        proc = self._run([go_binary(), "vet", "./..."], work, env)
        if proc is None:
            return TreeResult(tree, "timeout", None, 0.0)
        text = proc.stdout + "\n" + proc.stderr
        errors = parse_go(text)
        if proc.returncode == 0 or errors:
            return TreeResult(tree, "ok", errors, 0.0, proc.returncode)
        return TreeResult(tree, "failed", None, 0.0, proc.returncode, note=text.strip()[-1500:])


def materialise(repo: Path, tree: str, work: Path, index: Path) -> None:
    """Make `work` hold exactly `tree`, through a private index.

    From the tree the folder held last, `read-tree -m -u` rewrites only the files that
    differ, so the others keep their modification times and mypy's cache need not hash
    them again; otherwise (or if that fails) the folder is emptied and written anew.
    """
    env = {"GIT_INDEX_FILE": str(index)}
    held = index.with_suffix(".tree")
    previous = held.read_text().strip() if held.is_file() and work.is_dir() else None
    if previous == tree:
        return
    held.unlink(missing_ok=True)
    if previous:
        try:
            gitio.run(repo, f"--work-tree={work}", "read-tree", "-m", "-u", previous, tree, env=env)
            # Files both trees share are left alone: make sure nothing changed them.
            gitio.run(repo, f"--work-tree={work}", "update-index", "-q", "--refresh", env=env)
            gitio.run(repo, f"--work-tree={work}", "diff-files", "--quiet", env=env)
            held.write_text(tree)
            return
        except gitio.GitError:
            pass
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    index.unlink(missing_ok=True)
    gitio.run(repo, "read-tree", tree, env=env)
    gitio.run(repo, f"--work-tree={work}", "checkout-index", "--all", "--force", "--index", env=env)
    held.write_text(tree)
