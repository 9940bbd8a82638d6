"""Label a case with a type-checker: does git's merge of A and B type-check as A and B do?

Each side's state is read back from the case repository (committed, staged, unstaged and
untracked work alike) through a temporary index and a temporary object directory, so the
case repository is never written. `git merge-tree --write-tree` merges the two states;
a conflicted merge is labelled `conflict`. Otherwise the checker runs on A, B and the
merge, materialised over the project's base in one fixed folder per project (so mypy's
cache and tsc's build info are reused), and errors are compared without line numbers as
(path, message, code): errors in the merge that neither side has are new, and any new
error labels the case `breaks`, none `clean`.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from common import MYPY, NODE_MODULES, TSC, WORK, Edits, Files, Project, hermetic_env

Error = tuple[str, str, str]  # (path, message, code)
TIMEOUT = 600

MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<msg>.*?)(?:  \[(?P<code>[a-z-]+)\])?$"
)
TSC_LINE = re.compile(
    r"^(?P<path>[^(\n]+)\((?P<line>\d+),(?P<col>\d+)\): error (?P<code>TS\d+): (?P<msg>.*)$"
)


class CheckerFailed(RuntimeError):
    """The checker crashed or ran out of time."""


class Checker:
    """Runs mypy or tsc on the base with an overlay of edits, in a fixed folder."""

    def __init__(self, project: Project, base: Files) -> None:
        self.project = project
        self.base = base
        self.root = WORK / project.name
        self.cache = WORK / f"{project.name}.cache"
        self.overlay: Edits = {}
        self.clock = 1_800_000_000
        self.memo: dict[str, Counter[Error]] = {}
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        for path, text in base.items():
            self._write(path, text)
        if project.language == "typescript":
            (self.root / "node_modules").symlink_to(NODE_MODULES)
        self.cache.mkdir(parents=True, exist_ok=True)
        self.base_errors = self.errors({})

    def _write(self, path: str, text: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        # mypy trusts an unchanged (size, whole-second mtime): give every write its own second.
        self.clock += 1
        os.utime(target, (self.clock, self.clock))

    def _switch(self, overlay: Edits) -> None:
        for path in set(self.overlay) | set(overlay):
            want = (
                overlay.get(path, self.base.get(path)) if path in overlay else self.base.get(path)
            )
            have = (
                self.overlay.get(path, self.base.get(path))
                if path in self.overlay
                else self.base.get(path)
            )
            if want == have:
                continue
            if want is None:
                (self.root / path).unlink(missing_ok=True)
            else:
                self._write(path, want)
        self.overlay = dict(overlay)

    def errors(self, overlay: Edits) -> Counter[Error]:
        key = hashlib.sha256(repr(sorted(overlay.items())).encode()).hexdigest()
        if key not in self.memo:
            self._switch(overlay)
            self.memo[key] = self._run()
        return self.memo[key]

    def new_errors(self, overlay: Edits) -> list[Error]:
        return sorted((self.errors(overlay) - self.base_errors).elements())

    def _run(self) -> Counter[Error]:
        if self.project.language == "python":
            cmd = [
                str(MYPY),
                "--ignore-missing-imports",
                "--no-error-summary",
                "--show-error-codes",
                "--cache-dir",
                str(self.cache / "mypy"),
                self.project.check_target,
            ]
            pattern = MYPY_LINE
        else:
            cmd = [
                str(TSC),
                "-p",
                "tsconfig.json",
                "--pretty",
                "false",
                "--incremental",
                "--tsBuildInfoFile",
                str(self.cache / "tsbuildinfo"),
            ]
            pattern = TSC_LINE
        try:
            proc = subprocess.run(
                cmd, cwd=self.root, capture_output=True, text=True, timeout=TIMEOUT
            )
        except subprocess.TimeoutExpired as exc:
            raise CheckerFailed(f"checker timed out after {TIMEOUT}s") from exc
        found = parse_errors(proc.stdout, pattern)
        # mypy exits 2 on a blocking error (a syntax error is reported like any error).
        if proc.returncode not in (0, 1, 2) or (proc.returncode == 2 and not found):
            raise CheckerFailed(f"checker exit {proc.returncode}: {proc.stderr[-500:]}")
        return found


def parse_errors(output: str, pattern: re.Pattern[str]) -> Counter[Error]:
    found: Counter[Error] = Counter()
    current: list[str] | None = None
    for line in output.splitlines():
        match = pattern.match(line)
        if match:
            current = [match["path"], match["msg"].strip(), match["code"] or ""]
            found[(current[0], current[1], current[2])] += 1
        elif current is not None and line.startswith("  ") and pattern is TSC_LINE:
            # tsc continues a message on indented lines: they belong to the message.
            old = (current[0], current[1], current[2])
            found[old] -= 1
            if not found[old]:
                del found[old]
            current[1] += " " + line.strip()
            found[(current[0], current[1], current[2])] += 1
    return found


def compare(merged: Counter[Error], a: Counter[Error], b: Counter[Error]) -> list[Error]:
    """Errors in the merge that are in neither side (as a multiset, without lines)."""
    new: list[Error] = []
    for error, count in merged.items():
        extra = count - max(a[error], b[error])
        new.extend([error] * max(0, extra))
    return sorted(new)


# ---------------------------------------------------------------- git states and merge


class CaseRepo:
    """Reads a case's side states and git's merge of them, writing nothing to the repo."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.repo = folder / "repo"
        self.tmp = Path(tempfile.mkdtemp(prefix="refbench-"))
        objects = self.tmp / "objects"
        objects.mkdir()
        self.env = hermetic_env()
        self.env.update(
            GIT_OBJECT_DIRECTORY=str(objects),
            GIT_ALTERNATE_OBJECT_DIRECTORIES=str(self.repo / ".git" / "objects"),
            GIT_AUTHOR_NAME="label",
            GIT_AUTHOR_EMAIL="label@driftcheck.invalid",
            GIT_COMMITTER_NAME="label",
            GIT_COMMITTER_EMAIL="label@driftcheck.invalid",
            GIT_AUTHOR_DATE="1700000000 +0000",
            GIT_COMMITTER_DATE="1700000000 +0000",
        )
        self.base = self.git("rev-parse", "main", cwd=self.repo).strip()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def git(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)
    ) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=env or self.env, capture_output=True, text=True
        )
        if proc.returncode not in ok:
            raise RuntimeError(f"git {' '.join(args[:3])}: {proc.stderr.strip()}")
        return proc.stdout

    def state_commit(self, side: str) -> str:
        """Commit the worktree's state as `git add -A` would record it, in the temp store."""
        worktree = self.folder / side
        index = self.git(
            "rev-parse", "--path-format=absolute", "--git-path", "index", cwd=worktree
        ).strip()
        temp_index = self.tmp / f"index-{side}"
        shutil.copyfile(index, temp_index)
        env = dict(self.env, GIT_INDEX_FILE=str(temp_index))
        self.git("add", "-A", cwd=worktree, env=env)
        tree = self.git("write-tree", cwd=worktree, env=env).strip()
        return self.git("commit-tree", tree, "-p", "HEAD", "-m", side, cwd=worktree).strip()

    def merge(self, a: str, b: str) -> str | None:
        """The merged tree, or None when git reports a conflict."""
        proc = subprocess.run(
            ["git", "merge-tree", "--write-tree", "--no-messages", a, b],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if proc.returncode == 1:
            return None
        if proc.returncode != 0:
            raise RuntimeError(f"git merge-tree: {proc.stderr.strip()}")
        return proc.stdout.split("\n", 1)[0].strip()

    def edits(self, tree: str) -> Edits:
        """The tree's differences from the base commit, as edits."""
        out = self.git(
            "diff-tree", "-r", "-z", "--no-renames", "--name-status", self.base, tree, cwd=self.repo
        )
        parts = out.split("\0")
        edits: Edits = {}
        for status, path in zip(parts[0::2], parts[1::2], strict=False):
            if not path:
                continue
            edits[path] = (
                None
                if status == "D"
                else self.git("cat-file", "blob", f"{tree}:{path}", cwd=self.repo)
            )
        return edits
