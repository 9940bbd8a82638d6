"""Large files: one size limit everywhere, bounded memory, no copies kept.

A file larger than the hooks' limit (8,000,000 bytes) is never read into memory:
git's merge alone judges it. One larger than the parse limit (2,000,000 bytes) is
read for its conflict's lines but never parsed. Both are listed in
`stats.files_too_large`. A kept worktree state records a small stand-in for such
a file, never a copy of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

from helpers import add_worktree, commit_all, git, init_repo, snapshot_repo, write

from driftcheck.workspace.object_reader import MAX_BLOB_BYTES

MAX_RSS_KIB = 500 * 1024
_MEASURE = (
    "import resource, subprocess, sys\n"
    "proc = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "sys.stdout.buffer.write(proc.stdout)\n"
    "sys.stderr.buffer.write(proc.stderr)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(proc.returncode)\n"
)


def _measured(*args: str, cwd: Path) -> tuple[int, str, int]:
    """(exit code, stdout, peak RSS in KiB of driftcheck and every process it waited
    for, git included)."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, sys.executable, "-m", "driftcheck", *args],
        cwd=cwd,
        capture_output=True,
        env={**os.environ, "PYTHONSAFEPATH": "1"},
        timeout=300,
        check=False,
    )
    *errors, peak = proc.stderr.decode().splitlines()
    assert not any("Traceback" in line for line in errors), errors
    return proc.returncode, proc.stdout.decode(), int(peak)


def _python(size: int) -> str:
    lines, total, n = [], 0, 0
    while total < size:
        line = f"VALUE_{n} = {n}  # a generated constant\n"
        lines.append(line)
        total += len(line)
        n += 1
    return "".join(lines)


def test_a_large_file_changed_on_both_sides_stays_bounded(workspace: Path) -> None:
    big, medium = _python(MAX_BLOB_BYTES + 500_000), _python(3_000_000)
    repo = init_repo(workspace / "repo", {"big.py": big, "medium.py": medium, "a.py": "A = 1\n"})
    a = add_worktree(repo, "a")
    write(a, {"big.py": "VALUE_0 = 'a'\n" + big, "medium.py": "VALUE_0 = 'a'\n" + medium})
    commit_all(a)
    agent = add_worktree(repo, "agent")
    write(agent, {"big.py": "VALUE_0 = 'b'\n" + big, "medium.py": "VALUE_0 = 'b'\n" + medium})
    git("add", "big.py", "medium.py", cwd=agent)
    before = snapshot_repo(repo)

    code, out, peak = _measured("scan", "--format", "json", cwd=repo)
    assert code == 1
    report = json.loads(out)
    conflicts = {f["path"]: f for f in report["findings"] if f["code"] == "DC101"}
    assert {"big.py", "medium.py"} <= conflicts.keys()
    assert conflicts["big.py"]["details"]["too_large_bytes"] > MAX_BLOB_BYTES
    assert conflicts["medium.py"]["details"]["hunks"]  # read, not parsed
    skipped = {f["path"]: f["bytes"] for f in report["stats"]["files_too_large"]}
    assert skipped.keys() >= {"big.py", "medium.py"} and skipped["big.py"] > MAX_BLOB_BYTES
    assert peak < MAX_RSS_KIB, f"scan peaked at {peak // 1024} MiB"
    # Warm: the pair's answer comes from the cache, and still names the skipped file.
    again = json.loads(_measured("scan", "--format", "json", cwd=repo)[1])
    assert "big.py" in {f["path"] for f in again["stats"]["files_too_large"]}

    code, _out, peak = _measured("hook", "pre-commit", cwd=agent)
    assert code == 1
    assert peak < MAX_RSS_KIB, f"pre-commit peaked at {peak // 1024} MiB"
    assert snapshot_repo(repo) == before


def _stored_blob_sizes(folder: Path) -> list[int]:
    """The size each loose object in driftcheck's folder declares in its header."""
    sizes = []
    for path in folder.rglob("objects/??/*"):
        header = zlib.decompressobj().decompress(path.read_bytes(), 64).split(b"\0")[0]
        kind, _, size = header.partition(b" ")
        if kind == b"blob":
            sizes.append(int(size))
    return sizes


def test_a_kept_state_keeps_no_copy_of_a_large_file(workspace: Path) -> None:
    repo = init_repo(workspace / "repo", {"a.py": "A = 1\n"})
    a = add_worktree(repo, "a")
    write(a, {"a.py": "A = 2\n"})
    with (a / "data.bin").open("wb") as sparse:  # untracked, mostly a hole
        sparse.truncate(MAX_BLOB_BYTES + 1_000_000)
        sparse.write(os.urandom(4096))
    folder = repo / ".git" / "driftcheck"
    for _ in range(2):  # captured, then captured again from the kept state
        code, out, _peak = _measured("scan", "--format", "json", cwd=repo)
        assert code in (0, 1)
        changed = {p["name"]: p["changed_paths"] for p in json.loads(out)["participants"]}
        assert changed["a"] == 2  # a.py and the large file: its change still counts
    sizes = _stored_blob_sizes(folder)
    assert sizes and max(sizes) <= MAX_BLOB_BYTES
    on_disk = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert on_disk < 4_000_000, on_disk
