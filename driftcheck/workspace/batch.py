"""Many refs read in a few git processes: diffs, fork points and the trunk's history.

With 200 refs a process per ref (or per pair) costs more than the reading: each git
start is milliseconds. These helpers ask git once for many answers: `diff-tree
--stdin` for many tree pairs, one `rev-list` for every side's own commits (from
which most fork points follow without `merge-base`), one first-parent log of the
trunk with the paths each of its commits changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from driftcheck.workspace import git
from driftcheck.workspace.git import Change


def diffs(
    pairs: Iterable[tuple[str, str]], *, cwd: str | Path, env: Mapping[str, str] | None = None
) -> dict[tuple[str, str], dict[str, Change]]:
    """`git.changes` for many (old tree, new tree) pairs with one `diff-tree --stdin`."""
    wanted = list(dict.fromkeys(p for p in pairs))
    result: dict[tuple[str, str], dict[str, Change]] = {p: {} for p in wanted}
    asked = [p for p in wanted if p[0] != p[1]]
    if not asked:
        return result
    lines = "".join(f"{old} {new}\n" for old, new in asked).encode()
    args = ["diff-tree", "--stdin", "-r", "-z", "--no-renames", "--raw", "--abbrev=40"]
    out = git.run_git(args, cwd=cwd, env=env, input=lines).stdout
    current: dict[str, Change] | None = None
    parts = out.split(b"\0")
    i = 0
    while i < len(parts):
        token = parts[i]
        if not token.startswith(b":"):
            # A pair's header "<old> <new>" ends with a newline, not a NUL, so its
            # first record's meta may follow it in the same token. Only a token
            # where a meta is due is read so: a path may hold a newline too.
            header, _, token = token.partition(b"\n")
            names = header.decode(errors="replace").split()
            if len(names) == 2:
                current = result.setdefault((names[0], names[1]), {})
            if not token.startswith(b":"):
                i += 1
                continue
        if current is not None and i + 1 < len(parts):
            fields = token.decode().lstrip(":").split()
            if len(fields) == 5:
                old_mode, new_mode, old_oid, new_oid, status = fields
                current[parts[i + 1].decode("utf-8", "surrogateescape")] = (
                    status[:1],
                    old_oid if old_mode in git._REGULAR else None,
                    new_oid if new_mode in git._REGULAR else None,
                )
        i += 2
    return result


@dataclass(frozen=True)
class Forks:
    """Where each head forked from the trunk, and each head's own commits."""

    fork: dict[str, list[str]]  # head -> merge-base --all with the trunk
    own: dict[str, frozenset[str]]  # head -> its commits the trunk does not have


def forks(heads: Sequence[str], trunk: str, *, cwd: str | Path) -> Forks:
    """Every head's merge bases with `trunk`, from one `rev-list` of the commits the
    trunk lacks: a head whose own commits leave that set through one parent forked
    there (every common ancestor lies below it); `merge-base --all` answers the rest."""
    unique = list(dict.fromkeys(h for h in heads if h != trunk))
    fork: dict[str, list[str]] = {trunk: [trunk]} if trunk in heads else {}
    own: dict[str, frozenset[str]] = {trunk: frozenset()}
    if not unique:
        return Forks(fork, own)
    out = git.run_git(["rev-list", "--parents", *unique, "--not", trunk], cwd=cwd).stdout
    parents: dict[str, list[str]] = {}
    for line in out.decode().splitlines():
        commit, *its = line.split()
        parents[commit] = its
    for head in unique:
        if head not in parents:  # the trunk has it: it is its own fork point
            fork[head], own[head] = [head], frozenset()
            continue
        seen: set[str] = set()
        boundary: set[str] = set()
        todo = [head]
        while todo:
            commit = todo.pop()
            if commit in seen:
                continue
            seen.add(commit)
            for parent in parents[commit]:
                if parent in parents:
                    todo.append(parent)
                else:
                    boundary.add(parent)
        own[head] = frozenset(seen)
        # Several ways out (a merge of the trunk into the branch): ask git.
        several = len(boundary) != 1
        fork[head] = git.merge_bases(head, trunk, cwd=cwd) if several else sorted(boundary)
    return Forks(fork, own)


@dataclass(frozen=True)
class TrunkHistory:
    """The trunk's first-parent line, newest first, and what each commit changed
    against its first parent (path -> status letter)."""

    line: list[str]
    position: dict[str, int]  # commit -> index in `line` (0: the trunk's tip)
    changes: list[dict[str, str]]  # by position, for the positions read


def trunk_history(trunk: str, *, depth: int, cwd: str | Path) -> TrunkHistory:
    """The first-parent line of `trunk`, with changed paths for its `depth` newest
    commits (one `rev-list` and one `log`)."""
    line = git.run_git(["rev-list", "--first-parent", trunk], cwd=cwd).stdout.decode().split()
    position = {c: i for i, c in enumerate(line)}
    changes: list[dict[str, str]] = []
    if depth > 0:
        args = ["log", "--first-parent", "--diff-merges=first-parent", "--no-renames"]
        args += ["--name-status", "-z", "--format=%x01%H", f"-n{depth}", trunk]
        out = git.run_git(args, cwd=cwd).stdout
        for chunk in out.split(b"\x01")[1:]:
            parts = chunk.split(b"\0")
            _, _, first = parts[0].partition(b"\n")
            items = [first, *parts[1:]] if first else parts[1:]
            found: dict[str, str] = {}
            for status, path in zip(items[0::2], items[1::2], strict=False):
                letter = status.decode().strip()[:1]
                if letter:
                    found[path.decode("utf-8", "surrogateescape")] = letter
            changes.append(found)
    return TrunkHistory(line, position, changes)
