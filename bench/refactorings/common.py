"""Shared pieces of the refactoring benchmark: paths, the project snapshots, text edits.

A project snapshot is a plain `dict[str, str]` from repository-relative path to text:
the base every case of that project starts from. Sides A and B are described as
`Edits`: path -> new text, or None to delete the path.
"""

from __future__ import annotations

import bisect
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAIN = HERE.parent.parent
CACHE = MAIN / "bench" / ".cache" / "refactorings"
CASES = CACHE / "cases"
WORK = CACHE / "work"  # one fixed folder per project, where the checkers run

TOOLS = Path("/work/tools")
MYPY = TOOLS / "refactor-venv" / "bin" / "mypy"
NODE_MODULES = TOOLS / "node" / "node_modules"
TSC = NODE_MODULES / ".bin" / "tsc"

Files = dict[str, str]
Edits = dict[str, "str | None"]


@dataclass(frozen=True)
class Project:
    """A real project we did not write, read from a bare mirror at one commit."""

    name: str
    language: str  # "python" or "typescript"
    mirror: Path
    ref: str
    roots: tuple[str, ...]  # folders taken from the mirror
    check_target: str  # what the checker is pointed at
    package: str  # folder where refactorings happen and new files go


PROJECTS = {
    "pytest": Project(
        "pytest",
        "python",
        Path("/work/.mirror/pytest-dev+pytest/repo"),
        "main",
        ("src",),
        "src/_pytest",
        "src/_pytest",
    ),
    "black": Project(
        "black",
        "python",
        Path("/work/.mirror/psf+black/repo"),
        "main",
        ("src",),
        "src/black",
        "src/black",
    ),
    "hono": Project(
        "hono",
        "typescript",
        Path("/work/.mirror/honojs+hono/repo"),
        "main",
        ("src",),
        "tsconfig.json",
        "src",
    ),
}

# hono's own tsconfig.build.json (extending tsconfig.base.json), flattened, without emit.
HONO_TSCONFIG = """{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ES2020",
    "moduleResolution": "Bundler",
    "esModuleInterop": true,
    "forceConsistentCasingInFileNames": true,
    "strict": true,
    "skipLibCheck": true,
    "types": ["node"],
    "noUnusedLocals": true,
    "noUnusedParameters": true,
    "noEmit": true
  },
  "include": ["src/**/*.ts", "src/**/*.mts"],
  "exclude": ["src/**/*.test.ts", "src/**/*.test.tsx"]
}
"""


def mirror_commit(project: Project) -> str:
    out = subprocess.run(
        ["git", "--git-dir", str(project.mirror), "rev-parse", project.ref + "^{commit}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def load_snapshot(project: Project) -> Files:
    """Read the project's text files at `project.ref` from the bare mirror (read only)."""
    git = ["git", "--git-dir", str(project.mirror)]
    names = subprocess.run(
        [*git, "ls-tree", "-r", "-z", "--name-only", project.ref, "--", *project.roots],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    wanted = [n.decode() for n in names if n and _wanted(project, n.decode())]
    batch = subprocess.run(
        [*git, "cat-file", "--batch"],
        input="".join(f"{project.ref}:{n}\n" for n in wanted).encode(),
        capture_output=True,
        check=True,
    ).stdout
    files: Files = {}
    pos = 0
    for name in wanted:
        header_end = batch.index(b"\n", pos)
        size = int(batch[pos:header_end].split()[2])
        body = batch[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        try:
            files[name] = body.decode("utf-8")
        except UnicodeDecodeError:
            continue
    if project.language == "typescript":
        files["tsconfig.json"] = HONO_TSCONFIG
    return files


def _wanted(project: Project, path: str) -> bool:
    if project.language == "typescript":
        # Test files are outside hono's type-check; leaving them out keeps cases small.
        return path.endswith((".ts", ".mts", ".tsx")) and ".test." not in path
    return True


# ---------------------------------------------------------------- text edits


class EditError(ValueError):
    """An edit that does not fit the text it is meant for."""


class Text:
    """A file's text with (line, column) -> offset conversion; ast columns are UTF-8 bytes."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, byte_col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:byte_col].decode("utf-8"))

    def line_start(self, lineno: int) -> int:
        return self.starts[lineno - 1]

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def apply_edits(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply (start, end, replacement) edits on offsets of `text`; overlapping edits fail."""
    out = text
    last = len(text) + 1
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        if end > last:
            raise EditError("overlapping edits")
        out = out[:start] + new + out[end:]
        last = start
    return out


def hermetic_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env
