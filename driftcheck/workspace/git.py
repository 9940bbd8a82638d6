"""Every git subprocess driftcheck runs goes through this module.

Two rules keep the user's repository untouched:
- inherited ``GIT_*`` variables are stripped, so a hook's ``GIT_INDEX_FILE`` or
  ``GIT_DIR`` can never redirect us at the user's index by accident (pre-commit learnt
  this the hard way: https://github.com/pre-commit/pre-commit/issues/300);
- anything that writes objects runs with a `Scratch` environment: a private object
  directory and index in a temp dir, with the real object store as an alternate.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from driftcheck.deadline import owned_tempdir
from driftcheck.errors import GitError, UsageError
from driftcheck.workspace import filters, warden
from driftcheck.workspace.git_children import RUNNING, forget, kill_group
from driftcheck.workspace.git_children import halt as halt  # deadline.HardStop finds it here
from driftcheck.workspace.git_children import kill as kill
from driftcheck.workspace.git_children import stopping as stopping

# Variables that describe the user's git setup rather than a repository location.
_KEEP_GIT_VARS = frozenset(
    {
        "GIT_EXEC_PATH",
        "GIT_CEILING_DIRECTORIES",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_COUNT",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_SSL_CAINFO",
        "GIT_SSL_NO_VERIFY",
        "GIT_ASKPASS",
        "GIT_TRACE",
        "GIT_TRACE2",
        "GIT_TRACE2_EVENT",
    }
)

# -c options on every call: no background maintenance, no fsmonitor daemon, no
# auto-gc (they would write into the user's .git), stable path output, and no
# signature checks (`log.showSignature` makes `git log` and `git show` run
# `gpg.program`, which a repository's config may name).
_SAFE_CONFIG = (
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotePath=false",
    "-c",
    "log.showSignature=false",
)
# ... and no hooks: writing a private index would run the repository's
# post-index-change hook, where the user's own read-only git runs none.
_NO_HOOKS = ("-c", f"core.hooksPath={os.devnull}")

# Fixed identity for driftcheck's throwaway commits (they live only in a temp dir).
_IDENTITY = {
    "GIT_AUTHOR_NAME": "driftcheck",
    "GIT_AUTHOR_EMAIL": "driftcheck@localhost",
    "GIT_AUTHOR_DATE": "1700000000 +0000",
    "GIT_COMMITTER_NAME": "driftcheck",
    "GIT_COMMITTER_EMAIL": "driftcheck@localhost",
    "GIT_COMMITTER_DATE": "1700000000 +0000",
}


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GIT_")
        or k in _KEEP_GIT_VARS
        or k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }
    # Messages are parsed in places; keep them untranslated.
    env["LC_ALL"] = "C"
    env.pop("LANGUAGE", None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    # No transport at all: driftcheck reads only what is here. A partial clone's
    # promisor remote would otherwise be asked for a missing object, running
    # `core.sshCommand` or a credential helper and writing into the user's objects.
    # (Set but empty, this list allows nothing, whatever `protocol.*.allow` says.)
    env["GIT_ALLOW_PROTOCOL"] = ""
    if extra:
        env.update(extra)
    filters.config_env(env)  # no filter driver driftcheck was not asked to run
    return env


def guard_filters(cwd: str | Path) -> None:
    """Learn the filter drivers configured as git sees them from `cwd` (includes and
    `includeIf` evaluated there), so that no later git call runs one; call it before
    git hashes a file of that worktree (see workspace/filters.py)."""
    if filters.allowed():
        return
    args = ["config", "-z", "--get-regexp", r"^filter\."]
    listing = run_git(args, cwd=cwd, ok_codes=(0, 1)).stdout  # 1: none configured
    filters.forbid(filters.drivers_in(listing))


def run_git(
    args: Sequence[str],
    *,
    cwd: str | Path,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    ok_codes: tuple[int, ...] = (0,),
    user_hooks_path: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Run git with a clean environment; raise `GitError` on an unexpected exit code.

    `user_hooks_path` keeps the user's core.hooksPath, for asking where hooks live."""
    child = start_git(
        args, cwd=cwd, env=env, stdin=input is not None, user_hooks_path=user_hooks_path
    )
    try:
        stdout, stderr = child.communicate(input)
    except BaseException:
        kill_group(child)
        raise
    finally:
        forget(child)
    proc = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    if proc.returncode not in ok_codes:
        raise GitError(list(args), proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc


def start_git(
    args: Sequence[str],
    *,
    cwd: str | Path,
    env: Mapping[str, str] | None = None,
    stdin: bool = False,
    user_hooks_path: bool = False,
) -> subprocess.Popen[bytes]:
    """Start git with a clean environment, known to `stopping()` until `forget`."""
    cmd = ["git", *_SAFE_CONFIG, *(() if user_hooks_path else _NO_HOOKS), *args]
    with RUNNING.lock:
        if RUNNING.halted:
            raise GitError(list(args), -1, "not started: driftcheck is stopping")
        # The warden runs before git does: a kill while it was still starting would
        # leave this git's group with nobody to end it.
        marks = warden.prepare()
        try:
            # Its own process group: on a deadline or Ctrl-C, git goes together with
            # whatever it started (a clean filter, a hook), never leaving strays.
            child = subprocess.Popen(
                cmd,
                cwd=str(cwd),
                env=clean_env(env),
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=marks,
            )
        except FileNotFoundError as exc:
            if not Path(cwd).is_dir():  # a worktree removed while we looked at it
                raise UsageError(f"its folder is gone: {cwd}") from exc
            raise UsageError("git is not installed or not on PATH") from exc
        except NotADirectoryError as exc:
            raise UsageError(f"not a directory: {cwd}") from exc
        RUNNING.children.add(child)
        warden.guard(child.pid)  # its group goes with us, even if we are killed outright
    return child


def git_out(args: Sequence[str], *, cwd: str | Path, env: Mapping[str, str] | None = None) -> str:
    """stdout of a git command as text, trailing newline stripped."""
    out = run_git(args, cwd=cwd, env=env).stdout
    return out.decode("utf-8", "surrogateescape").rstrip("\n")


@dataclass(frozen=True)
class RepoInfo:
    """Where a repository's pieces live, as absolute paths."""

    common_dir: Path
    toplevel: Path | None  # None for a bare repository
    is_bare: bool

    @property
    def objects_dir(self) -> Path:
        return self.common_dir / "objects"

    @property
    def cache_dir(self) -> Path:
        """The only place driftcheck may write inside a repository."""
        return self.common_dir / "driftcheck"


def open_repo(path: str | Path) -> RepoInfo:
    """Locate the repository containing `path`, or raise a one-line `UsageError`."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"no such directory: {path}")
    if not p.is_dir():
        p = p.parent
    try:
        out = git_out(
            [
                "rev-parse",
                "--path-format=absolute",
                "--git-common-dir",
                "--is-bare-repository",
                "--show-toplevel",
            ],
            cwd=p,
        )
    except GitError as exc:
        if "not a git repository" in exc.stderr:
            raise UsageError(f"not a git repository: {p.resolve()}") from exc
        if "this operation must be run in a work tree" not in exc.stderr:
            raise UsageError(f"cannot read repository at {p.resolve()}: {exc}") from exc
        out = git_out(
            ["rev-parse", "--path-format=absolute", "--git-common-dir", "--is-bare-repository"],
            cwd=p,
        )
    lines = out.splitlines()
    is_bare = lines[1].strip() == "true"
    toplevel = Path(lines[2]) if len(lines) > 2 and lines[2] else None
    return RepoInfo(common_dir=Path(lines[0]), toplevel=toplevel, is_bare=is_bare)


def resolve_commit(ref: str, *, cwd: str | Path) -> str | None:
    """The commit id `ref` names, or None when it names no commit."""
    proc = run_git(
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        cwd=cwd,
        ok_codes=(0, 1, 128),
    )
    if proc.returncode != 0:
        return None
    return proc.stdout.decode().strip()


def full_ref_name(ref: str, *, cwd: str | Path) -> str | None:
    """`main` -> `refs/heads/main`; None for a commit id or an expression."""
    if ref.startswith("-"):
        return None
    # --verify, not --end-of-options: git < 2.43 echoes the latter as an output line.
    proc = run_git(
        ["rev-parse", "--verify", "--quiet", "--symbolic-full-name", ref],
        cwd=cwd,
        ok_codes=(0, 1, 128),
    )
    name = proc.stdout.decode().strip()
    return name if proc.returncode == 0 and name.startswith("refs/") else None


def merge_bases(a: str, b: str, *, cwd: str | Path) -> list[str]:
    """Every merge base (`--all`): more than one in a criss-cross history, where git
    merges against a virtual base made of them. Empty for unrelated histories."""
    proc = run_git(["merge-base", "--all", a, b], cwd=cwd, ok_codes=(0, 1, 128))
    return proc.stdout.decode().split() if proc.returncode == 0 else []


def tree_of(commit: str, *, cwd: str | Path, env: Mapping[str, str] | None = None) -> str:
    return git_out(["rev-parse", "--verify", f"{commit}^{{tree}}"], cwd=cwd, env=env)


Change = tuple[str, str | None, str | None]  # (status letter, old blob, new blob)
_REGULAR = ("100644", "100755")


def changes(
    old_tree: str, new_tree: str, *, cwd: str | Path, env: Mapping[str, str] | None = None
) -> dict[str, Change]:
    """path -> (status letter A/M/D/T, blob before, blob after) between two trees,
    without rename pairing. A blob is None where that side has no regular file."""
    if old_tree == new_tree:
        return {}
    out = _diff_tree(["--no-renames", "--raw", "--abbrev=40"], old_tree, new_tree, cwd, env)
    parts = out.split(b"\0")
    result: dict[str, Change] = {}
    for meta, path in zip(parts[0::2], parts[1::2], strict=False):
        fields = meta.decode().lstrip(":").split()
        if len(fields) != 5:
            continue
        old_mode, new_mode, old_oid, new_oid, status = fields
        result[path.decode("utf-8", "surrogateescape")] = (
            status[:1],
            old_oid if old_mode in _REGULAR else None,
            new_oid if new_mode in _REGULAR else None,
        )
    return result


def renames(
    old_tree: str, new_tree: str, *, cwd: str | Path, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """old path -> new path for the files git's rename detection pairs between two
    trees (the same detection its merge uses)."""
    if old_tree == new_tree:
        return {}
    out = _diff_tree(["-M", "--diff-filter=R", "--name-status"], old_tree, new_tree, cwd, env)
    parts = [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0")]
    result: dict[str, str] = {}
    for i in range(0, len(parts) - 2, 3):
        if parts[i].startswith("R"):
            result[parts[i + 1]] = parts[i + 2]
    return result


def _diff_tree(
    options: list[str], old: str, new: str, cwd: str | Path, env: Mapping[str, str] | None
) -> bytes:
    return run_git(["diff-tree", "-r", "-z", *options, old, new], cwd=cwd, env=env).stdout


class Scratch:
    """A private object directory and index files in a temp dir.

    Objects driftcheck writes (blobs of untracked files, trees, wrapper commits, merge
    results) land here and vanish with the directory. The user's object store is
    read through GIT_ALTERNATE_OBJECT_DIRECTORIES and never written.
    """

    def __init__(self, repo: RepoInfo) -> None:
        self.repo = repo
        self.root = Path(owned_tempdir("driftcheck-"))
        try:
            (self.root / "objects" / "info").mkdir(parents=True)
            (self.root / "objects" / "pack").mkdir()
        except BaseException:
            self.close()
            raise
        self._counter = itertools.count(1)
        # merge_setup.py's private git dirs for merge-tree, by object id length.
        self.merge_setup: dict[int, tuple[list[str], dict[str, str]]] = {}
        alternates = [str(repo.objects_dir)]
        # GIT_OBJECT_DIRECTORY replaces objects/info/alternates of the repository,
        # so carry those over ourselves (e.g. a clone made with --reference).
        alt_file = repo.objects_dir / "info" / "alternates"
        if alt_file.is_file():
            for line in alt_file.read_text(errors="replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    alt = Path(line)
                    alternates.append(str(alt if alt.is_absolute() else repo.objects_dir / alt))
        self.env: dict[str, str] = {
            "GIT_OBJECT_DIRECTORY": str(self.root / "objects"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": os.pathsep.join(alternates),
            **_IDENTITY,
        }

    def add_alternate(self, objects: Path) -> None:
        """Read objects from `objects` too (driftcheck's own store of worktree states)."""
        known = self.env["GIT_ALTERNATE_OBJECT_DIRECTORIES"]
        if str(objects) not in known.split(os.pathsep):  # a daemon's scratch lives long
            self.env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = os.pathsep.join([str(objects), known])

    def index_env(self) -> dict[str, str]:
        """Scratch env plus a fresh private index file path."""
        # next() on a count is atomic under the GIL: worktrees are captured in threads.
        number = next(self._counter)
        return {**self.env, "GIT_INDEX_FILE": str(self.root / f"index-{number}")}

    def close(self) -> None:
        from driftcheck.deadline import alarms_held

        with alarms_held():
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def commit_tree(tree: str, parents: Sequence[str], *, cwd: str | Path, scratch: Scratch) -> str:
    """A throwaway commit (in the scratch store) wrapping `tree`."""
    args = ["commit-tree", "--no-gpg-sign", tree, "-m", "driftcheck state"]
    for parent in parents:
        args += ["-p", parent]
    return git_out(args, cwd=cwd, env=scratch.env)


def read_blobs(
    oids: Sequence[str],
    *,
    cwd: str | Path,
    env: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
    oversized: dict[str, int] | None = None,
) -> dict[str, bytes]:
    """Contents of many blobs with one `cat-file --batch` process. With `max_bytes`,
    larger blobs are not read (their sizes go to `oversized`): their sizes are asked
    first, so memory stays bounded whatever the repository holds."""
    if not oids:
        return {}
    unique = list(dict.fromkeys(oids))
    if max_bytes is not None:
        sizes = blob_sizes(unique, cwd=cwd, env=env)
        large = {oid: size for oid, size in sizes.items() if size > max_bytes}
        if oversized is not None:
            oversized.update(large)
        unique = [oid for oid in unique if oid not in large]
        if not unique:
            return {}
    out = run_git(
        ["cat-file", "--batch"], cwd=cwd, env=env, input="".join(o + "\n" for o in unique).encode()
    ).stdout
    result: dict[str, bytes] = {}
    pos = 0
    for oid in unique:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        pos = end + 1
        if len(header) < 3 or header[1] == b"missing":
            continue
        size = int(header[2])
        result[oid] = out[pos : pos + size]
        pos += size + 1
    return result


def blob_sizes(
    oids: Sequence[str], *, cwd: str | Path, env: Mapping[str, str] | None = None
) -> dict[str, int]:
    """oid -> size of each blob among `oids` (`cat-file --batch-check`)."""
    query = "".join(o + "\n" for o in oids).encode()
    out = run_git(["cat-file", "--batch-check"], cwd=cwd, env=env, input=query).stdout
    sizes = {}
    for line in out.decode("ascii", "replace").splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] == "blob" and fields[2].isdigit():
            sizes[fields[0]] = int(fields[2])
    return sizes


def iter_nul(data: bytes) -> Iterator[str]:
    for item in data.split(b"\0"):
        yield item.decode("utf-8", "surrogateescape")


def ls_tree(
    tree: str,
    paths: Sequence[str] | None = None,
    *,
    cwd: str | Path,
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """path -> blob id for regular files in `tree` (all of them when `paths` is None)."""
    args = ["ls-tree", "-r", "-z", "--full-tree", tree]
    if paths is not None:
        if not paths:
            return {}
        args += ["--", *(":(literal)" + p for p in paths)]
    out = run_git(args, cwd=cwd, env=env).stdout
    listing: dict[str, str] = {}
    for item in iter_nul(out):
        if not item:
            continue
        meta, _, path = item.partition("\t")
        mode, otype, oid = meta.split()
        if otype == "blob" and mode in ("100644", "100755"):
            listing[path] = oid
    return listing
