"""Find the participants of a scan and capture each one's state as a git tree.

Naming rule (documented in the README):
- a worktree on a branch is named by the branch's short name (`feat/a`);
- a worktree on a detached HEAD is named by its folder's base name (`agent-3`);
- a ref is named by its short name (`origin/pr/12`);
- a name already taken gets a `#2`, `#3`, ... suffix, in discovery order.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from driftcheck.errors import GitError, UsageError
from driftcheck.model import Participant
from driftcheck.workspace import git
from driftcheck.workspace.state_store import StateStore

if TYPE_CHECKING:
    from driftcheck.workspace.live_states import LiveStates

ZERO_OID = "0" * 40


@dataclass(frozen=True)
class WorktreeEntry:
    path: str
    head: str | None
    branch_ref: str | None
    detached: bool
    bare: bool
    locked: bool
    prunable: bool


@dataclass
class Discovery:
    participants: list[Participant]
    trunk: str | None
    trunk_name: str | None
    warnings: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    main_path: str | None = None  # the main worktree's folder, as git lists it
    kept_states: int = 0  # worktrees captured through the kept states (state_store)


def list_worktrees(repo: git.RepoInfo) -> list[WorktreeEntry]:
    out = git.run_git(["worktree", "list", "--porcelain", "-z"], cwd=repo.common_dir).stdout
    entries: list[WorktreeEntry] = []
    record: dict[str, str] = {}
    for item in git.iter_nul(out):
        if item:
            key, _, value = item.partition(" ")
            record[key] = value
            continue
        if record:
            entries.append(_entry(record))
            record = {}
    if record:
        entries.append(_entry(record))
    return entries


def _entry(record: dict[str, str]) -> WorktreeEntry:
    head = record.get("HEAD")
    return WorktreeEntry(
        path=record["worktree"],
        head=None if not head or head == ZERO_OID else head,
        branch_ref=record.get("branch"),
        detached="detached" in record,
        bare="bare" in record,
        locked="locked" in record,
        prunable="prunable" in record,
    )


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/remotes/", "refs/tags/", "refs/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


@dataclass(frozen=True)
class StateOverride:
    """How a worktree's state departs from `git add -A`: for the file an agent is
    about to write, or for the staged tree a pre-commit hook judges."""

    # repository-relative path -> proposed content (None: the file is deleted)
    files: Mapping[str, bytes | None] = field(default_factory=dict)
    # judge this index (the staged tree) instead of the working files
    staged_index: Path | None = None


def worktree_tree(
    entry: WorktreeEntry,
    scratch: git.Scratch,
    *,
    committed_only: bool,
    override: StateOverride | None = None,
    store: StateStore | None = None,
) -> str:
    """The tree `git add -A` would record in this worktree, built in a private index."""
    if override is None and committed_only:
        return _head_tree(entry, scratch)
    if (
        store is not None
        and not committed_only
        and (override is None or not override.staged_index)
        # git status would look inside submodules, and refresh their own indexes.
        and not (Path(entry.path) / ".gitmodules").exists()
    ):
        with contextlib.suppress(GitError, OSError):  # then the throwaway way below
            return _from_store(entry, scratch, store, override)
    env = scratch.index_env()
    if override is not None and override.staged_index is not None:
        shutil.copy2(override.staged_index, env["GIT_INDEX_FILE"])
    elif committed_only:
        _seed_from_head(entry, env)
    else:
        _add_all(entry, env)
    if override is not None and override.files:
        apply_files(entry.path, env, override.files)
    return git.git_out(["write-tree"], cwd=entry.path, env=env)


def _from_store(
    entry: WorktreeEntry, scratch: git.Scratch, store: StateStore, override: StateOverride | None
) -> str:
    own_index = git_dir(entry.path) / "index"
    if override is None or not override.files:
        return store.capture(entry.path, own_index, entry.head, None)
    env = scratch.index_env()
    store.capture(entry.path, own_index, entry.head, Path(env["GIT_INDEX_FILE"]))
    apply_files(entry.path, env, override.files)
    return git.git_out(["write-tree"], cwd=entry.path, env=env)


def _add_all(entry: WorktreeEntry, env: dict[str, str]) -> None:
    wt = entry.path
    own_index = git_dir(wt) / "index"
    # Seeding from a copy of the worktree's index keeps its stat data, so `add -A`
    # only hashes files that changed; it also keeps sparse-checkout skip bits.
    seeded = False
    if own_index.is_file():
        try:
            # copy2 keeps the mtime: git's racy-clean check compares file times with
            # the index's own, and a fresh mtime would hide same-second edits.
            shutil.copy2(own_index, env["GIT_INDEX_FILE"])
            seeded = True
        except OSError:
            seeded = False
    add = ["-c", "core.splitIndex=false", "add", "-A", "--ignore-errors", "--", "."]
    try:
        if not seeded:
            _seed_from_head(entry, env)
        git.run_git(add, cwd=wt, env=env)
    except GitError:
        if not seeded:
            raise
        # A copied index can be unreadable on its own (split index); start from HEAD.
        Path(env["GIT_INDEX_FILE"]).unlink(missing_ok=True)
        _seed_from_head(entry, env)
        git.run_git(add, cwd=wt, env=env)


def git_dir(worktree: str) -> Path:
    """The worktree's own git dir: `.git` itself, or where its `.git` file points."""
    dot_git = Path(worktree) / ".git"
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8", errors="surrogateescape").strip()
    except OSError:
        text = ""
    if text.startswith("gitdir: "):
        target = Path(text[len("gitdir: ") :])
        return target if target.is_absolute() else (Path(worktree) / target)
    return Path(git.git_out(["rev-parse", "--absolute-git-dir"], cwd=worktree))


def apply_files(wt: str, env: dict[str, str], files: Mapping[str, bytes | None]) -> None:
    """Put proposed contents into the private index, as `git add` would record them."""
    for path, content in sorted(files.items()):
        if content is None:
            git.run_git(["update-index", "--force-remove", "--", path], cwd=wt, env=env)
            continue
        oid = hash_proposed(wt, env, path, content)
        staged = git.git_out(["ls-files", "-s", "--", f":(literal){path}"], cwd=wt, env=env)
        mode = staged.split()[0] if staged else "100644"
        if mode not in ("100644", "100755"):
            mode = "100644"
        git.run_git(
            ["update-index", "--add", "--cacheinfo", f"{mode},{oid},{path}"], cwd=wt, env=env
        )


def hash_proposed(wt: str, env: Mapping[str, str], path: str, content: bytes) -> str:
    """The blob `git add` would record for `content` at `path`, written to the store
    `env` names; --path applies the same clean filters and eol conversion."""
    args = ["hash-object", "-w", "--stdin", f"--path={path}"]
    return git.run_git(args, cwd=wt, env=env, input=content).stdout.decode().strip()


def _seed_from_head(entry: WorktreeEntry, env: dict[str, str]) -> None:
    if entry.head:
        git.run_git(["read-tree", entry.head], cwd=entry.path, env=env)


def _head_tree(entry: WorktreeEntry, scratch: git.Scratch) -> str:
    if entry.head:
        return git.tree_of(entry.head, cwd=entry.path)
    return _empty_tree(entry.path, scratch)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}#{n}"
    taken.add(candidate)
    return candidate


def discover(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    *,
    ref_patterns: Sequence[str] = (),
    trunk: str | None = None,
    committed_only: bool = False,
    overrides: Mapping[str, StateOverride] | None = None,
    keep_states: bool = False,
    live: LiveStates | None = None,
) -> Discovery:
    """Every worktree's state, plus refs matching `ref_patterns`, plus the trunk.
    With `keep_states`, worktree states are kept between runs (see state_store);
    with `live`, a long-lived process supplies the states it knows (live_states)."""
    cwd = repo.common_dir
    trunk_commit = trunk_full = None
    if trunk:
        trunk_commit = git.resolve_commit(trunk, cwd=cwd)
        if trunk_commit is None:
            raise UsageError(f"unknown ref for --trunk: {trunk}")
        trunk_full = git.full_ref_name(trunk, cwd=cwd) or trunk_commit

    result = Discovery(participants=[], trunk=trunk_full, trunk_name=None)
    taken: set[str] = set()
    checked_out: dict[str, str] = {}
    entries = live.worktrees() if live is not None else list_worktrees(repo)
    result.main_path = entries[0].path if entries else None
    # git lists linked worktrees in directory order, which differs between file
    # systems; sort them by path (main first) so names and sides are stable.
    entries = entries[:1] + sorted(entries[1:], key=lambda e: e.path)
    live_entries: list[WorktreeEntry] = []
    for entry in entries:
        if entry.bare:
            continue
        if entry.prunable or not Path(entry.path).is_dir():
            result.warnings.append(f"skipped worktree {entry.path}: its folder is gone (prunable)")
            result.skipped.append({"path": entry.path, "reason": "folder is gone"})
            continue
        live_entries.append(entry)
    store = None
    if keep_states and live_entries and not committed_only:
        store = StateStore.open(repo.cache_dir, scratch.env["GIT_ALTERNATE_OBJECT_DIRECTORIES"])
        if store is not None:
            scratch.add_alternate(store.objects)
    captured = _capture_all(live_entries, scratch, committed_only, overrides or {}, store, live)
    result.kept_states = len(store.captured) if store is not None else 0
    for entry, state in zip(live_entries, captured, strict=True):
        if isinstance(state, BaseException):
            result.warnings.append(f"skipped worktree {entry.path}: {state}")
            result.skipped.append({"path": entry.path, "reason": str(state)})
            continue
        tree, dirty, state_commit = state
        branch = short_ref(entry.branch_ref) if entry.branch_ref else None
        name = _unique(branch or Path(entry.path).name, taken)
        if entry.branch_ref:
            checked_out[entry.branch_ref] = name
        result.participants.append(
            Participant(
                name=name,
                kind="worktree",
                path=entry.path,
                branch=branch,
                head=entry.head,
                tree=tree,
                state_commit=state_commit,
                dirty=dirty,
                ref=entry.branch_ref,
                detached=entry.detached,
                locked=entry.locked,
            )
        )

    unreadable = [s for s in result.skipped if s["reason"] != "folder is gone"]
    if unreadable and not result.participants:
        # Every worktree failed: a scan of nothing must not pass a CI gate silently.
        raise UsageError(f"cannot read any worktree: {unreadable[0]['reason']}")
    refs: list[tuple[str, str]] = []
    if trunk_full and trunk_commit:
        if trunk_full in checked_out:
            result.trunk_name = checked_out[trunk_full]
        else:
            refs.append((trunk_full, trunk_commit))
    matched: dict[str, str] = {}
    for pattern in ref_patterns:
        found = _matching_refs(pattern, cwd=cwd)
        if not found:
            result.warnings.append(f"no refs match --refs {pattern}")
        matched.update(found)
    refs += sorted(matched.items())
    seen_refs = set(checked_out)
    for full, commit in refs:
        if full in seen_refs:
            continue
        seen_refs.add(full)
        name = _unique(short_ref(full) if full.startswith("refs/") else full[:12], taken)
        if full == trunk_full:
            result.trunk_name = name
        result.participants.append(
            Participant(
                name=name,
                kind="ref",
                path=None,
                branch=None,
                head=commit,
                tree=git.tree_of(commit, cwd=cwd),
                state_commit=commit,
                dirty=False,
                ref=full if full.startswith("refs/") else None,
            )
        )
    return result


_State = tuple[str, bool, str | None]  # (tree, dirty, state commit)


def state_of(
    entry: WorktreeEntry, tree: str, head_tree: str | None, scratch: git.Scratch
) -> _State:
    dirty = tree != (head_tree or _empty_tree(entry.path, scratch))
    return tree, dirty, None if dirty else entry.head


def _capture(
    entry: WorktreeEntry,
    scratch: git.Scratch,
    committed_only: bool,
    override: StateOverride | None,
    head_tree: str | None,
    store: StateStore | None,
) -> _State:
    """The worktree's tree; the wrapper commit a merge needs is made only on demand
    (`ensure_state_commit`), since most pairs never reach a merge."""
    tree = worktree_tree(
        entry, scratch, committed_only=committed_only, override=override, store=store
    )
    return state_of(entry, tree, head_tree, scratch)


def ensure_state_commit(participant: Participant, scratch: git.Scratch, cwd: str) -> str | None:
    """A commit whose tree is the participant's state and whose parent is its HEAD."""
    if participant.state_commit or not participant.dirty:
        return participant.state_commit
    parents = [participant.head] if participant.head else []
    return git.commit_tree(participant.tree, parents, cwd=cwd, scratch=scratch)


def head_trees_of(entries: list[WorktreeEntry], cwd: Path) -> dict[str, str]:
    """HEAD's tree for every worktree, in one git call."""
    heads = sorted({e.head for e in entries if e.head})
    if not heads:
        return {}
    out = git.git_out(["rev-parse", *(f"{h}^{{tree}}" for h in heads)], cwd=cwd)
    return dict(zip(heads, out.splitlines(), strict=True))


def _capture_all(
    entries: list[WorktreeEntry],
    scratch: git.Scratch,
    committed_only: bool,
    overrides: Mapping[str, StateOverride],
    store: StateStore | None,
    live: LiveStates | None = None,
) -> list[_State | BaseException]:
    """Every worktree's state; git does the work, so threads run it in parallel."""

    try:
        if live is not None and not committed_only:
            head_trees = live.head_trees(entries)
        else:
            head_trees = head_trees_of(entries, scratch.repo.common_dir)
    except GitError:
        head_trees = {}

    def one(entry: WorktreeEntry) -> _State | BaseException:
        override = overrides.get(str(Path(entry.path).resolve()))
        try:
            head_tree = head_trees.get(entry.head or "")
            if entry.head and head_tree is None:
                head_tree = git.tree_of(entry.head, cwd=entry.path)
            if live is not None and not committed_only:
                return live.capture(entry, scratch, override, head_tree, store)
            return _capture(entry, scratch, committed_only, override, head_tree, store)
        except (GitError, OSError) as exc:
            return exc

    if len(entries) < 2:
        return [one(e) for e in entries]
    pool = ThreadPoolExecutor(max_workers=min(4, (os.cpu_count() or 2) * 2))
    try:
        return list(pool.map(one, entries))
    except BaseException:
        # A deadline or Ctrl-C: queued work is dropped and running git calls are
        # killed, so the workers end now instead of when git would have.
        with git.stopping():
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _empty_tree(cwd: str, scratch: git.Scratch) -> str:
    return git.git_out(["mktree"], cwd=cwd, env=scratch.env)


def _matching_refs(pattern: str, *, cwd: Path) -> dict[str, str]:
    """full ref -> commit for refs matching `pattern`, by git's own matching rules."""
    fmt = "%(refname)%00%(objectname)%00%(*objectname)%00%(objecttype)%00%(*objecttype)"
    out = git.run_git(["for-each-ref", f"--format={fmt}", "--", pattern], cwd=cwd).stdout
    found: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        name, oid, peeled, otype, ptype = line.split("\0")
        commit = peeled if ptype == "commit" else oid if otype == "commit" else None
        if commit:
            found[name] = commit
    return found
