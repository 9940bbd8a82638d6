"""The file watcher (Linux inotify) and the in-process tree edit the daemon relies on."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import git

from driftcheck.workspace import git as dgit
from driftcheck.workspace.object_reader import ObjectReader
from driftcheck.workspace.tree_edit import CannotEdit, edit_tree
from driftcheck.workspace.watcher import LocalBudget, Watcher

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify")


@linux_only
def test_changes_anywhere_below_are_seen_with_their_tree(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    (one / "a" / "b").mkdir(parents=True)
    (two / "skipped").mkdir(parents=True)
    watcher = Watcher()
    watcher.watch("one", str(one))
    watcher.watch("two", str(two), skip=lambda rel: rel == "skipped")
    assert watcher.events() == []
    (one / "a" / "b" / "f.py").write_text("x")
    assert {(e.label, e.path) for e in watcher.events()} == {("one", "a/b/f.py")}
    (two / "skipped" / "ignored.log").write_text("x")
    assert watcher.events() == []
    # A folder made now is watched from when its creation is seen.
    (two / "new").mkdir()
    assert {e.path for e in watcher.events()} == {"new"}
    (two / "new" / "later.py").write_text("y")
    assert {(e.label, e.path) for e in watcher.events()} == {("two", "new/later.py")}
    os.rename(one / "a", one / "moved")
    assert {e.label for e in watcher.events()} == {"one"}
    watcher.unwatch("one")
    (one / "moved" / "b" / "g.py").write_text("z")
    assert watcher.events() == []
    assert watcher.broken() == set()
    watcher.close()


@linux_only
def test_past_its_budget_a_tree_is_marked_not_fully_watched(tmp_path: Path) -> None:
    for n in range(5):
        (tmp_path / f"d{n}").mkdir()
    watcher = Watcher(LocalBudget(3))  # other tools need watches too: never take them all
    watcher.watch("small", str(tmp_path / "d0"))
    watcher.watch("tree", str(tmp_path))
    # A tree that does not fit holds none: they would tell nothing, and others need them.
    assert watcher.watches == 1 and watcher.broken() == watcher.starved() == {"tree"}
    (tmp_path / "d1" / "f.py").write_text("x")
    (tmp_path / "d0" / "f.py").write_text("x")
    assert {(e.label, e.path) for e in watcher.events()} == {("small", "f.py")}
    watcher.close()


def _repo(tmp_path: Path, object_format: str = "sha1") -> tuple[Path, str]:
    repo = tmp_path / object_format
    repo.mkdir()
    git("init", "-q", f"--object-format={object_format}", cwd=repo)
    for rel in ("a.py", "src/x.py", "src/deep/y.py", "src-x", "src.txt", "z/w.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(rel)
    os.chmod(repo / "a.py", 0o755)
    git("add", "-A", cwd=repo)
    return repo, git("write-tree", cwd=repo)


def _by_index(repo: Path, tree: str, files: dict[str, str | None]) -> str:
    """What `update-index` makes of the same edit."""
    index = str(repo / ".git" / "other-index")
    env = {**os.environ, "GIT_INDEX_FILE": index}
    run = dgit.run_git
    run(["read-tree", tree], cwd=repo, env=env)
    for path, blob in files.items():
        if blob is None:
            run(["update-index", "--force-remove", "--", path], cwd=repo, env=env)
            continue
        staged = run(["ls-files", "-s", "--", path], cwd=repo, env=env).stdout.decode()
        mode = staged.split()[0] if staged else "100644"
        cacheinfo = f"{mode},{blob},{path}"
        run(["update-index", "--add", "--cacheinfo", cacheinfo], cwd=repo, env=env)
    return run(["write-tree"], cwd=repo, env=env).stdout.decode().strip()


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_a_tree_edit_makes_the_tree_git_would(tmp_path: Path, object_format: str) -> None:
    repo, tree = _repo(tmp_path, object_format)
    blob = git("hash-object", "-w", "--stdin", cwd=repo, input=b"new\n")
    reader = ObjectReader(cwd=repo)
    objects = repo / ".git" / "objects"
    edits: list[dict[str, str | None]] = [
        {"a.py": blob},  # keeps its executable mode
        {"src/new.py": blob},
        {"src/deep/y.py": None},  # the emptied folder goes too
        {"new/dir/f.py": blob, "src.txt": None},
        {"src/deep/y.py": None, "src/x.py": None},
        {"gone.py": None},
        {"a.py/below.py": None},  # nothing to delete below a file
    ]
    try:
        for files in edits:
            assert edit_tree(tree, files, reader.trees, objects) == _by_index(repo, tree, files)
        git("fsck", "--no-dangling", cwd=repo)
        with pytest.raises(CannotEdit):
            edit_tree(tree, {"src": blob}, reader.trees, objects)  # a file over a folder
        with pytest.raises(CannotEdit):
            edit_tree(tree, {"a.py/inner.py": blob}, reader.trees, objects)
    finally:
        reader.close()
