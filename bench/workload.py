"""Build the benchmark workload: a large real Python project with N drifting worktrees.

The base is Django's sdist (about 2,800 Python files, 490k lines), fetched with
`pip download` into bench/.cache and never committed. Each worktree changes 20-50
files across committed, staged, unstaged and untracked work; a few of them carry
real drift (a signature change and a stale new call, a duplicated helper, edits to
the same lines).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import tarfile
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
SDIST_SPEC = "django==5.2.*"
_DEF = re.compile(r"^(\s*)def \w+\(.*\):\s*$")

_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
        cwd=cwd,
        env=env or _ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def fetch_sources() -> Path:
    """The extracted sdist folder (downloaded once into bench/.cache)."""
    CACHE.mkdir(exist_ok=True)
    found = sorted(CACHE.glob("django-*.tar.gz"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "-q",
                "-d",
                str(CACHE),
                SDIST_SPEC,
            ],
            check=True,
        )
        found = sorted(CACHE.glob("django-*.tar.gz"))
    archive = found[-1]
    target = CACHE / archive.name.removesuffix(".tar.gz")
    if not target.is_dir():
        with tarfile.open(archive) as tar:
            tar.extractall(CACHE, filter="data")
    return target


def build_base(root: Path) -> Path:
    """A repository whose first commit is the sdist's sources."""
    repo = root / "repo"
    if (repo / ".git").is_dir():
        return repo
    sources = fetch_sources()
    repo.mkdir(parents=True)
    subprocess.run(["cp", "-a", f"{sources}/.", str(repo)], check=True)
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "base: django sources", cwd=repo)
    return repo


def _python_files(repo: Path) -> list[str]:
    listing = git("ls-files", "*.py", cwd=repo).splitlines()
    return sorted(p for p in listing if p.startswith(("django/", "tests/")))


def _edit_body(text: str, rng: random.Random, tag: str) -> str:
    """Insert a statement at the top of a random function body."""
    lines = text.splitlines(keepends=True)
    defs = [i for i, line in enumerate(lines) if _DEF.match(line) and i + 1 < len(lines)]
    if not defs:
        return text + f"\n# {tag}\n"
    i = rng.choice(defs)
    indent = re.match(r"\s*", lines[i + 1]).group(0) or "    "  # type: ignore[union-attr]
    lines.insert(i + 1, f"{indent}_bench_{tag} = {rng.randint(0, 999)}\n")
    return "".join(lines)


def add_worktrees(repo: Path, count: int, seed: int = 7) -> list[Path]:
    """`count` worktrees (reused when present), each with 20-50 changed files."""
    files = _python_files(repo)
    paths = []
    for n in range(count):
        wt = repo.parent / f"wt{n:02d}"
        paths.append(wt)
        if wt.is_dir():
            continue
        git("worktree", "add", "-q", "-b", f"agent/{n:02d}", str(wt), cwd=repo)
        rng = random.Random(seed * 1000 + n)
        chosen = rng.sample(files, rng.randint(20, 50))
        if n % 2 == 0:
            _drift(wt, n)  # committed drift
        for k, rel in enumerate(chosen):
            path = wt / rel
            path.write_text(_edit_body(path.read_text(), rng, f"w{n}_{k}"))
            if k % 4 == 0:
                git("add", rel, cwd=wt)
        git("commit", "-q", "-a", "-m", f"agent {n}: committed part", cwd=wt)
        if n % 2 == 1:
            _drift(wt, n)  # uncommitted drift
        for k, rel in enumerate(rng.sample(files, 12)):
            path = wt / rel
            path.write_text(_edit_body(path.read_text(), rng, f"u{n}_{k}"))
            if k % 3 == 0:
                git("add", rel, cwd=wt)  # staged, the rest unstaged
        for k in range(3):
            (wt / f"django/utils/agent{n}_new{k}.py").write_text(
                f'"""Untracked work of agent {n}."""\n\n\ndef helper_{n}_{k}(value):\n'
                "    result = []\n    for item in value:\n        result.append(item)\n"
                "    return result\n"
            )
    return paths


def _drift(wt: Path, n: int) -> None:
    """Real drift between some of the worktrees."""
    text_py = wt / "django/utils/text.py"
    if n == 0:  # a signature change ...
        source = text_py.read_text()
        source = source.replace(
            'def get_text_list(list_, last_word=gettext_lazy("or")):',
            'def get_text_list(list_, separator, last_word=gettext_lazy("or")):',
        )
        text_py.write_text(source)
    if n == 1:  # ... and a new call with the old arity
        target = wt / "django/utils/dateformat.py"
        target.write_text(
            target.read_text() + "\n\ndef bench_listing(items):\n"
            "    from django.utils.text import get_text_list\n\n"
            "    return get_text_list(items, 'and')\n"
        )
    if n in (2, 3):  # the same helper twice, under different names
        target = wt / f"django/utils/slug_{n}.py"
        target.write_text(
            f"def make_slug_{n}(value, limit):\n"
            "    cleaned = value.strip().lower()\n"
            "    parts = [p for p in cleaned.split() if p]\n"
            "    joined = '-'.join(parts)\n"
            "    return joined[:limit]\n"
        )
    if n in (4, 5):  # the same lines, two ways
        target = wt / "django/utils/version.py"
        lines = target.read_text().splitlines(keepends=True)
        lines[5] = f"# agent {n} rewrote this line\n"
        target.write_text("".join(lines))
