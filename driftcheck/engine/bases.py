"""Where two sides' histories meet: merge bases per pair of heads, and the changes
between two trees; both cached for good (commits and trees never change)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from driftcheck.model import Participant
from driftcheck.store.cache import Cache
from driftcheck.workspace import git, history

Sides = tuple[Participant, Participant]


class MergeBase(NamedTuple):
    """The merge base of a pair's heads, its tree, and whether it is one of several
    (a criss-cross history): then only git's own merge, against its virtual base,
    tells whether the changes meet."""

    commit: str
    tree: str
    several: bool = False


def heads_key(left: Participant, right: Participant) -> str:
    return ":".join(sorted((left.head or "", right.head or "")))


def tree_changes(
    base_tree: str, tree: str, *, cwd: str, env: Mapping[str, str], cache: Cache
) -> dict[str, git.Change]:
    """`git.changes` between two trees, cached for good (trees never change)."""
    key = f"{base_tree}:{tree}"
    found: dict[str, git.Change] | None = cache.get("diff-blobs", key)
    if found is None:
        found = git.changes(base_tree, tree, cwd=cwd, env=env)
        cache.put("diff-blobs", key, found)
    return found


def merge_bases(pairs: list[Sides], *, cwd: str, cache: Cache) -> dict[str, MergeBase]:
    """The merge base per pair of heads; commits never change, so a found base is
    cached for good (a missing one is not: a shallow clone may deepen)."""
    keys = {heads_key(a, b): (a.head, b.head) for a, b in pairs if a.head and b.head}
    known = {k: MergeBase(*v) for k, v in cache.get_many("merge-bases", keys).items()}
    fresh: dict[str, list[str]] = {}
    for key, (a, b) in keys.items():
        if key in known or a is None or b is None:
            continue
        found = [a] if a == b else git.merge_bases(a, b, cwd=cwd)
        if found:
            fresh[key] = found
    # The bases' trees in one call: a scan of many pull requests has thousands of pairs.
    trees = history.trees_of((found[0] for found in fresh.values()), cwd=cwd)
    for key, found in fresh.items():
        known[key] = MergeBase(found[0], trees[found[0]], len(found) > 1)
        cache.put("merge-bases", key, tuple(known[key]))  # plain data in the cache
    return known
