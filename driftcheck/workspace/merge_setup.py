"""Where `git merge-tree` runs: a private git dir in which only built-in merges exist.

A repository's config can define a merge driver (`merge.<name>.driver`: any shell
command) and its attributes can pick it (`merge=<name>` in a `.gitattributes`, in
`$GIT_DIR/info/attributes`, or for every path through `merge.default`); git runs
it for each file both sides changed. A `.git` may come from someone else, and
driftcheck was not asked to run anything. A driver cannot be undefined with `-c`,
and a replaced command is still a command; so merge-tree runs in a bare git dir
of its own inside the scratch folder, whose only configuration is ours: no
system, global or repository file, no `GIT_CONFIG_*` from the environment, no
attributes (no worktree, core.attributesFile and the system file switched off).
No driver is defined there, so git merges every file with its built-in three-way
text merge (binary files with its binary merge). The settings that change what a
merge finds (rename detection and its limits) are read from the repository, and
passed on as values.
"""

from __future__ import annotations

import os
from pathlib import Path

from driftcheck.workspace import git

# The repository's settings a merge result depends on (git reads them in
# merge_recursive_config); `git config --get-regexp` gives them lowercased.
_CARRIED = r"^(merge\.(renames|renamelimit|directoryrenames)|diff\.(renames|renamelimit))$"


def merge_tree_setup(
    scratch: git.Scratch, *, cwd: str | Path, oid_length: int
) -> tuple[list[str], dict[str, str]]:
    """(`-c` options, environment) for a `git merge-tree` of commits whose ids are
    `oid_length` long (40: SHA-1, 64: SHA-256); made once per scratch folder."""
    found = scratch.merge_setup.get(oid_length)
    if found is None:
        gitdir = _private_git_dir(scratch.root / f"merge-git-{oid_length}", oid_length)
        options = ["-c", f"core.attributesFile={os.devnull}", *_carried(cwd)]
        env = {
            **scratch.env,
            "GIT_DIR": str(gitdir),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_COUNT": "0",  # the caller's GIT_CONFIG_KEY_n are not ours
            "GIT_ATTR_NOSYSTEM": "1",
        }
        found = scratch.merge_setup[oid_length] = (options, env)
    return list(found[0]), dict(found[1])


def _private_git_dir(folder: Path, oid_length: int) -> Path:
    """A bare repository's bones: its objects are the scratch store (GIT_OBJECT_DIRECTORY)."""
    (folder / "refs").mkdir(parents=True, exist_ok=True)
    (folder / "HEAD").write_text("ref: refs/heads/main\n")
    config = "[core]\n\trepositoryformatversion = {}\n\tbare = true\n"
    if oid_length == 64:
        config = config.format(1) + "[extensions]\n\tobjectformat = sha256\n"
    (folder / "config").write_text(config.format(0))
    return folder


def _carried(cwd: str | Path) -> list[str]:
    """`-c key=value` for each of the repository's settings in _CARRIED."""
    listing = git.run_git(["config", "-z", "--get-regexp", _CARRIED], cwd=cwd, ok_codes=(0, 1))
    options = []
    for entry in listing.stdout.split(b"\0"):
        key, newline, value = entry.decode("utf-8", "surrogateescape").partition("\n")
        if key:  # no value at all is "true", as git reads `[merge] renames`
            options += ["-c", f"{key}={value}" if newline else key]
    return options
