"""Exact three-way merge simulation: git merge-tree judges, we only read its answer.

`git merge-tree --write-tree -z` (git >= 2.38) merges two commits in memory and writes
the result into the scratch object store. Its output lists the conflicted files with
their index stages and structured messages; conflict hunks are read from the markers
git wrote into the result tree.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from driftcheck.errors import GitError
from driftcheck.workspace import git
from driftcheck.workspace.merge_setup import merge_tree_setup
from driftcheck.workspace.object_reader import MAX_BLOB_BYTES, stand_in_size

# When git names several conflict types for one path, the most specific wins.
_TYPE_PRIORITY = (
    "binary",
    "file/directory",
    "rename/delete",
    "rename/rename",
    "modify/delete",
    "distinct modes",
    "submodule",
    "add/add",
    "content",
)
_MESSAGE_TYPE = re.compile(r"^CONFLICT \(([^)]*)\)")
_START = re.compile(rb"^<{7,}(?: |$)")


@dataclass(frozen=True)
class Hunk:
    """One conflicting region: 1-based inclusive line ranges, None where a side is empty."""

    left: tuple[int, int] | None
    right: tuple[int, int] | None

    def to_json(self) -> dict[str, list[int] | None]:
        return {
            "left": list(self.left) if self.left else None,
            "right": list(self.right) if self.right else None,
        }


@dataclass
class FileConflict:
    path: str
    conflict_type: str
    messages: list[str] = field(default_factory=list)
    # stage number (1 base, 2 left, 3 right) -> (mode, oid)
    stages: dict[int, tuple[str, str]] = field(default_factory=dict)
    hunks: list[Hunk] = field(default_factory=list)
    left_text: list[bytes] = field(default_factory=list)
    right_text: list[bytes] = field(default_factory=list)
    # other paths git's messages name with this one (a rename's source, say)
    related_paths: list[str] = field(default_factory=list)
    # stage -> blob content, read for content conflicts (detectors look at them too)
    contents: dict[int, bytes] = field(default_factory=dict)
    # The size of its largest version when one is too large to analyse (then no
    # contents, no hunks: git's verdict alone).
    too_large: int | None = None


@dataclass
class MergeResult:
    tree: str
    clean: bool
    conflicts: list[FileConflict]


def simulate(left_commit: str, right_commit: str, *, cwd: str, scratch: git.Scratch) -> MergeResult:
    """Merge two commits the way `git merge` would, without touching any ref or index."""
    # Built-in merges only: no merge driver a repository configures ever runs.
    options, env = merge_tree_setup(scratch, cwd=cwd, oid_length=len(left_commit))
    proc = git.run_git(
        [
            *options,
            *("-c", "merge.conflictStyle=merge", "merge-tree", "--write-tree", "-z"),
            *("--messages", left_commit, right_commit),
        ],
        cwd=cwd,
        env=env,
        ok_codes=(0, 1),
    )
    result = parse_merge_tree(proc.stdout, clean=proc.returncode == 0)
    _add_hunks(result, (left_commit, right_commit), cwd=cwd, scratch=scratch)
    return result


def parse_merge_tree(out: bytes, *, clean: bool) -> MergeResult:
    tokens = out.split(b"\0")
    tree = tokens[0].decode()
    pos = 1
    conflicts: dict[str, FileConflict] = {}
    if not clean:
        while pos < len(tokens) and tokens[pos]:
            meta, _, raw_path = tokens[pos].partition(b"\t")
            mode, oid, stage = meta.decode().split()
            path = raw_path.decode("utf-8", "surrogateescape")
            entry = conflicts.setdefault(path, FileConflict(path=path, conflict_type="other"))
            entry.stages[int(stage)] = (mode, oid)
            pos += 1
        pos += 1  # the empty token that ends the file list
    types: dict[str, set[str]] = {}
    listed = bool(conflicts)
    while pos < len(tokens) and tokens[pos].isdigit():
        count = int(tokens[pos])
        paths = [t.decode("utf-8", "surrogateescape") for t in tokens[pos + 1 : pos + 1 + count]]
        kind = tokens[pos + 1 + count].decode(errors="replace")
        message = tokens[pos + 2 + count].decode(errors="replace").strip()
        pos += count + 3
        if not kind.startswith("CONFLICT"):
            continue
        matched = _MESSAGE_TYPE.match(message) or _MESSAGE_TYPE.match(kind)
        ctype = _normalise_type(matched.group(1) if matched else kind)
        for path in paths:
            # Paths named only in messages (e.g. a rename source) are not conflicted
            # files unless git listed no files at all.
            if path in conflicts or (not clean and not listed):
                entry = conflicts.setdefault(path, FileConflict(path=path, conflict_type="other"))
                entry.messages.append(message)
                types.setdefault(path, set()).add(ctype)
                named = entry.related_paths
                named += [p for p in paths if p != path and p not in named]
    for path, entry in conflicts.items():
        found = types.get(path, set())
        entry.conflict_type = next((t for t in _TYPE_PRIORITY if t in found), None) or (
            sorted(found)[0] if found else "other"
        )
    return MergeResult(tree=tree, clean=clean, conflicts=sorted(conflicts.values(), key=_by_path))


def _by_path(conflict: FileConflict) -> str:
    return conflict.path


def _normalise_type(raw: str) -> str:
    raw = raw.strip().lower()
    if raw == "contents":
        return "content"
    if raw.startswith("submodule"):
        return "submodule"
    return raw


def _add_hunks(
    result: MergeResult, labels: tuple[str, str], *, cwd: str, scratch: git.Scratch
) -> None:
    """Locate each content conflict's regions in the left and right versions."""
    wanted = [c for c in result.conflicts if c.conflict_type in ("content", "add/add")]
    if not wanted:
        return
    oids: list[str] = []
    merged_oids: dict[str, str] = {}
    for conflict in wanted:
        oids += [conflict.stages[s][1] for s in (1, 2, 3) if s in conflict.stages]
    try:
        listing = git.ls_tree(result.tree, [c.path for c in wanted], cwd=cwd, env=scratch.env)
    except GitError:
        listing = {}
    for conflict in wanted:
        if conflict.path in listing:
            merged_oids[conflict.path] = listing[conflict.path]
            oids.append(listing[conflict.path])
    oversized: dict[str, int] = {}
    blobs = git.read_blobs(
        oids, cwd=cwd, env=scratch.env, max_bytes=MAX_BLOB_BYTES, oversized=oversized
    )
    for conflict in wanted:
        versions = [oid for _mode, oid in conflict.stages.values()]
        versions.append(merged_oids.get(conflict.path, ""))
        # Never read, or a kept state's stand-in for a file too large to keep.
        sizes = [oversized.get(oid) or stand_in_size(blobs.get(oid, b"")) for oid in versions]
        if any(sizes):
            conflict.too_large = max(s for s in sizes if s)
            continue
        conflict.contents = {s: blobs.get(oid, b"") for s, (_mode, oid) in conflict.stages.items()}
        merged = blobs.get(merged_oids.get(conflict.path, ""))
        left = conflict.contents.get(2, b"")
        right = conflict.contents.get(3, b"")
        if merged is None:
            continue
        conflict.hunks, conflict.left_text, conflict.right_text = locate_hunks(
            merged, left, right, labels
        )


def locate_hunks(
    merged: bytes, left: bytes, right: bytes, labels: tuple[str, str] | None = None
) -> tuple[list[Hunk], list[bytes], list[bytes]]:
    """Conflict regions as line ranges in `left` and `right`.

    Resolving every block to one side gives a text that differs from that side only
    by the other side's clean changes, so a line diff against the side maps each
    block to its real position there.
    """
    blocks = _conflict_blocks(merged.splitlines(keepends=True), left, right, labels)
    if not blocks:
        return [], [], []
    left_ranges = _map_blocks(blocks, 0, left.splitlines(keepends=True))
    right_ranges = _map_blocks(blocks, 1, right.splitlines(keepends=True))
    hunks = [Hunk(lr, rr) for lr, rr in zip(left_ranges, right_ranges, strict=True)]
    first = blocks[0][1]
    return hunks, first[0], first[1]


_Block = tuple[list[bytes], tuple[list[bytes], list[bytes]]]
# A conflict block in a merged file, as `simulate` labels it (by the sides' commits).
_OPENS = re.compile(r"^<{7} [0-9a-f]{40}")
_CLOSES = re.compile(r"^>{7} [0-9a-f]{40}")


def outside_conflicts(lines: list[str]) -> list[str]:
    """A merged file's lines that git merged cleanly: its conflict blocks left out,
    since what stands in them is the textual conflict's to settle."""
    return [line for line, inside in zip(lines, in_conflicts(lines), strict=True) if not inside]


def in_conflicts(lines: list[str]) -> list[bool]:
    """For each line of a merged file, whether it belongs to a conflict block."""
    mask: list[bool] = []
    inside = False
    for line in lines:
        if not inside and _OPENS.match(line):
            inside = True
            mask.append(True)
        elif inside and _CLOSES.match(line):
            inside = False
            mask.append(True)
        else:
            mask.append(inside)
    return mask


def _conflict_blocks(
    lines: list[bytes], left: bytes, right: bytes, labels: tuple[str, str] | None
) -> list[_Block]:
    """Split merged text into (lines before the block, (left side, right side)) pairs.

    Start and end markers carry the labels we gave git, so content that merely looks
    like a marker is not taken for one; a separator-like line inside a side (an RST
    underline, say) is told apart by checking which split gives each side's real text.
    """
    blocks: list[_Block] = []
    plain: list[bytes] = []
    inside: list[bytes] | None = None
    size = 7
    for line in lines:
        bare = line.rstrip(b"\r\n")
        if inside is None:
            if _START.match(bare) and _labelled(bare, b"<", labels[0] if labels else None):
                size = len(bare) - len(bare.lstrip(b"<"))
                inside = []
            else:
                plain.append(line)
        elif bare.startswith(b">" * size) and _labelled(bare, b">", labels[1] if labels else None):
            blocks.append((plain, _split_sides(inside, size, left, right)))
            plain, inside = [], None
        else:
            inside.append(line)
    return blocks


def _labelled(marker: bytes, char: bytes, label: str | None) -> bool:
    if label is None:
        return True
    rest = marker.lstrip(char)
    return rest == b"" or rest[1:].startswith(label.encode())


def _split_sides(
    inside: list[bytes], size: int, left: bytes, right: bytes
) -> tuple[list[bytes], list[bytes]]:
    separator = b"=" * size
    candidates = [i for i, line in enumerate(inside) if line.rstrip(b"\r\n") == separator]
    if not candidates:
        return inside, []
    for i in candidates:
        ours, theirs = b"".join(inside[:i]), b"".join(inside[i + 1 :])
        if ours in left and theirs in right:
            return inside[:i], inside[i + 1 :]
    i = candidates[0]
    return inside[:i], inside[i + 1 :]


def _map_blocks(
    blocks: list[_Block],
    side: int,
    target: list[bytes],
) -> list[tuple[int, int] | None]:
    resolved: list[bytes] = []
    spans: list[tuple[int, int]] = []
    for before, sides in blocks:
        resolved += before
        start = len(resolved)
        resolved += sides[side]
        spans.append((start, len(resolved)))
    to_target = _line_map(resolved, target)
    ranges: list[tuple[int, int] | None] = []
    for start, end in spans:
        if start == end:
            ranges.append(None)
            continue
        first = to_target.get(start)
        last = to_target.get(end - 1)
        if first is None or last is None or last < first:
            ranges.append((start + 1, end))  # best effort: position in the resolved text
        else:
            ranges.append((first + 1, last + 1))
    return ranges


# Above this many line pairs, difflib's exact matching (quadratic on files with many
# repeated lines, such as blank ones) gives way to its faster heuristic.
_EXACT_MATCH_BUDGET = 4_000_000


def line_opcodes(
    old: list[bytes], new: list[bytes], *, exact: bool = False
) -> list[tuple[str, int, int, int, int]] | None:
    """difflib opcodes turning `old` into `new`, in their own line numbers.

    The common prefix and suffix are matched directly and difflib sees only the
    rest: exact matching is quadratic on files with many repeated (blank) lines.
    Past a budget, difflib's faster heuristic is used, or with `exact` None is
    returned (the caller cannot afford an answer it would have to trust).
    """
    head, tail = 0, 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    middle_old, middle_new = old[head : len(old) - tail], new[head : len(new) - tail]
    small = len(middle_old) * len(middle_new) <= _EXACT_MATCH_BUDGET
    if exact and not small:
        return None
    codes: list[tuple[str, int, int, int, int]] = []
    if head:
        codes.append(("equal", 0, head, 0, head))
    if middle_old or middle_new:
        matcher = difflib.SequenceMatcher(None, middle_old, middle_new, autojunk=not small)
        codes += [
            (tag, head + i1, head + i2, head + j1, head + j2)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    if tail:
        codes.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return codes


def _line_map(old: list[bytes], new: list[bytes]) -> dict[int, int]:
    """Line index in `old` -> the same line's index in `new`, for lines both share."""
    mapping: dict[int, int] = {}
    for tag, i1, i2, j1, _j2 in line_opcodes(old, new) or []:
        if tag == "equal":
            for k in range(i2 - i1):
                mapping[i1 + k] = j1 + k
    return mapping
