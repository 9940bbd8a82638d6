"""Deterministic monthly windows of concurrent pull requests.

For a month M (UTC), the window's trunk is the newest first-parent trunk commit whose
committer date falls before the end of M, and its candidates are the pull requests whose
head commit's committer date falls in M. A candidate is *concurrent* unless
- trunk at the window's end already contains it: its head is an ancestor of the trunk
  commit, or a commit trunk contains by then names it (`#N` in the subject: `(#N)` of
  a squash merge, `Merge pull request #N`, ...); or
- it is not based on trunk: it shares no history with trunk, it has more than 100
  commits trunk lacks, or its merge base with a maintenance branch (as that branch was
  at the window's end) is a commit trunk lacks and newer than its merge base with
  trunk, as a backport's is.
Windows go back month by month, newest first, until enough have two or more
concurrent pull requests.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import gitio
from projects import Project

MAX_AHEAD = 100
_NAMED = re.compile(r"#(\d+)")


@dataclass(frozen=True)
class Commit:
    sha: str
    time: int
    subject: str


@dataclass
class Candidate:
    pr: int
    head: str
    time: int
    concurrent: bool = True
    reason: str | None = None
    merge_base: str | None = None
    ahead: int = 0
    source_files: int = 0


@dataclass
class Window:
    name: str
    start: int
    end: int
    trunk: str
    candidates: list[Candidate] = field(default_factory=list)
    chosen: list[int] = field(default_factory=list)
    duplicates: dict[int, int] = field(default_factory=dict)  # PR -> PR with the same head

    @property
    def concurrent(self) -> list[Candidate]:
        return [c for c in self.candidates if c.concurrent]

    def candidate(self, pr: int) -> Candidate:
        return next(c for c in self.candidates if c.pr == pr)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Window:
        data = dict(data)
        data["candidates"] = [Candidate(**c) for c in data["candidates"]]
        data["duplicates"] = {int(k): v for k, v in data.get("duplicates", {}).items()}
        return cls(**data)


def first_parent_log(mirror: Path, ref: str) -> list[Commit]:
    """A branch's first-parent history, newest first."""
    rows = gitio.lines(mirror, "log", "--first-parent", "--format=%H%x00%ct%x00%s", ref)
    commits = []
    for row in rows:
        sha, time, subject = row.split("\0", 2)
        commits.append(Commit(sha, int(time), subject))
    return commits


def pull_heads(mirror: Path) -> list[Candidate]:
    rows = gitio.lines(
        mirror,
        "for-each-ref",
        "--format=%(refname)%00%(objectname)%00%(committerdate:unix)",
        "refs/pull/*/head",
    )
    heads = []
    for row in rows:
        ref, sha, time = row.split("\0")
        number = ref.removeprefix("refs/pull/").removesuffix("/head")
        if number.isdigit() and time:
            heads.append(Candidate(pr=int(number), head=sha, time=int(time)))
    return sorted(heads, key=lambda c: c.pr)


def maintenance_logs(project: Project) -> dict[str, list[Commit]]:
    if not project.maintenance:
        return {}
    pattern = re.compile(project.maintenance)
    branches = gitio.lines(project.mirror, "for-each-ref", "--format=%(refname)", "refs/heads")
    logs = {}
    for ref in branches:
        short = ref.removeprefix("refs/heads/")
        if short != project.trunk and pattern.fullmatch(short):
            logs[short] = first_parent_log(project.mirror, ref)
    return logs


def months(newest: int) -> Iterator[tuple[str, int, int]]:
    """(name, start, end) of each UTC month, the one holding `newest` first."""
    day = datetime.fromtimestamp(newest, UTC)
    year, month = day.year, day.month
    while True:
        start = datetime(year, month, 1, tzinfo=UTC)
        days = calendar.monthrange(year, month)[1]
        end = start.timestamp() + days * 86400
        yield f"{year:04d}-{month:02d}", int(start.timestamp()), int(end)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


def state_at(log: list[Commit], end: int) -> tuple[int, Commit] | None:
    """The newest first-parent commit committed before `end`, and its index."""
    for index, commit in enumerate(log):
        if commit.time < end:
            return index, commit
    return None


def named_prs(log: list[Commit], index: int) -> set[int]:
    return {int(n) for commit in log[index:] for n in _NAMED.findall(commit.subject)}


def named_in_history(mirror: Path, trunk: str) -> set[int]:
    """Pull requests that any commit the trunk contains names, not only its first
    parents: a squash commit that reached trunk through a merged branch (hono merges
    `next` into `main`) lands the pull request all the same."""
    subjects = gitio.lines(mirror, "log", "--format=%s", trunk)
    return {int(n) for subject in subjects for n in _NAMED.findall(subject)}


def classify(
    project: Project,
    candidate: Candidate,
    trunk: str,
    ancestry: set[str],
    named: set[int],
    branches: dict[str, Commit],
) -> None:
    """Set `concurrent` and `reason`, plus the facts they rest on."""
    mirror = project.mirror
    candidate.merge_base = gitio.merge_base(mirror, candidate.head, trunk)
    if candidate.head in ancestry:
        candidate.concurrent, candidate.reason = False, "in trunk (ancestor)"
        return
    if candidate.pr in named:
        candidate.concurrent, candidate.reason = False, "in trunk (named in a subject)"
        return
    if candidate.merge_base is None:
        candidate.concurrent, candidate.reason = False, "no merge base with trunk"
        return
    ahead = gitio.out(
        mirror, "rev-list", "--count", f"--max-count={MAX_AHEAD + 1}", candidate.head, f"^{trunk}"
    )
    candidate.ahead = int(ahead)
    if candidate.ahead > MAX_AHEAD:
        candidate.concurrent, candidate.reason = False, f"more than {MAX_AHEAD} commits ahead"
        return
    trunk_base_time = gitio.commit_time(mirror, candidate.merge_base)
    for name, state in branches.items():
        base = gitio.merge_base(mirror, candidate.head, state.sha)
        if base and base not in ancestry and gitio.commit_time(mirror, base) > trunk_base_time:
            candidate.concurrent, candidate.reason = False, f"based on {name}"
            return


def maintenance_states(
    logs: dict[str, list[Commit]], end: int, ancestry: set[str]
) -> dict[str, Commit]:
    """Maintenance branches as they were at `end`, once forked off trunk. A dormant one
    counts too: a pull request opened today on 7.4.x, untouched for two years, is
    still a backport, not concurrent work on trunk."""
    states = {}
    for name, log in logs.items():
        found = state_at(log, end)
        if found is None or found[1].sha in ancestry:
            continue
        states[name] = found[1]
    return states


def reclassify(project: Project, chosen: list[Window]) -> None:
    """Classify the candidates of saved windows again with today's rules, keeping the
    windows and their candidates (and so the pairs and the checker's results)."""
    trunk_log = first_parent_log(project.mirror, project.trunk)
    logs = maintenance_logs(project)
    for window in chosen:
        found = state_at(trunk_log, window.end)
        if found is None:
            continue
        ancestry = set(gitio.lines(project.mirror, "rev-list", window.trunk))
        named = named_prs(trunk_log, found[0]) | named_in_history(project.mirror, window.trunk)
        branches = maintenance_states(logs, window.end, ancestry)
        for candidate in window.candidates:
            candidate.concurrent, candidate.reason = True, None
            classify(project, candidate, window.trunk, ancestry, named, branches)


def source_files(project: Project, candidate: Candidate) -> int:
    if candidate.merge_base is None:
        return 0
    paths = gitio.changed_paths(project.mirror, candidate.merge_base, candidate.head)
    return sum(1 for path in paths if project.is_source(path))


def choose(window: Window, max_prs: int) -> None:
    """At most `max_prs`: concurrent first, then most source files, then newest PR."""
    ranked = sorted(
        (c for c in window.candidates if c.pr not in window.duplicates),
        key=lambda c: (not c.concurrent, -c.source_files, -c.pr),
    )
    window.chosen = sorted(c.pr for c in ranked[:max_prs])


def build_window(
    project: Project,
    name: str,
    start: int,
    end: int,
    trunk_log: list[Commit],
    heads: list[Candidate],
    logs: dict[str, list[Commit]],
) -> Window | None:
    found = state_at(trunk_log, end)
    if found is None:
        return None
    index, trunk = found
    window = Window(name=name, start=start, end=end, trunk=trunk.sha)
    window.candidates = [Candidate(c.pr, c.head, c.time) for c in heads if start <= c.time < end]
    if not window.candidates:
        return window
    ancestry = set(gitio.lines(project.mirror, "rev-list", trunk.sha))
    named = named_prs(trunk_log, index) | named_in_history(project.mirror, trunk.sha)
    branches = maintenance_states(logs, end, ancestry)
    seen: dict[str, int] = {}
    for candidate in window.candidates:
        if candidate.head in seen:
            window.duplicates[candidate.pr] = seen[candidate.head]
        seen.setdefault(candidate.head, candidate.pr)
        classify(project, candidate, trunk.sha, ancestry, named, branches)
        candidate.source_files = source_files(project, candidate)
    return window


def select_windows(
    project: Project, count: int, max_prs: int, log: Callable[[str], None] | None = None
) -> list[Window]:
    """The newest `count` months with two or more concurrent pull requests."""
    trunk_log = first_parent_log(project.mirror, project.trunk)
    heads = pull_heads(project.mirror)
    logs = maintenance_logs(project)
    oldest = trunk_log[-1].time
    chosen: list[Window] = []
    for name, start, end in months(trunk_log[0].time):
        if len(chosen) >= count or end < oldest:
            break
        window = build_window(project, name, start, end, trunk_log, heads, logs)
        if window is None:
            continue
        qualifying = [c for c in window.concurrent if c.pr not in window.duplicates]
        if log:
            log(f"{name}: {len(window.candidates)} candidates, {len(qualifying)} concurrent")
        if len(qualifying) >= 2:
            choose(window, max_prs)
            chosen.append(window)
    return chosen
