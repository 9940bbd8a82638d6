"""Judge one worktree's prospective state against every other participant.

This is what runs *before the write*: the agent hooks and `driftcheck check` put the
proposed content of a file into the current worktree's state (in memory, via a
private index), the pre-commit hook uses the staged tree instead, and only the pairs
(current, other) are analysed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from driftcheck.config import Config, load_config
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.pairs import Sides, analyse_pairs
from driftcheck.engine.scan import build_result, configured, trunk_of
from driftcheck.engine.session import AnalysisSession
from driftcheck.errors import UsageError
from driftcheck.model import Finding, Participant, ScanResult
from driftcheck.store.cache import cache_enabled
from driftcheck.workspace import filters, git
from driftcheck.workspace.capture import StateOverride
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.participants import Discovery, discover


@dataclass
class Judgement:
    result: ScanResult
    current: Participant | None
    config: Config


def open_worktree(path: Path) -> tuple[Path, git.RepoInfo]:
    """The top folder of the worktree holding `path` (which may not exist yet), and
    its repository."""
    probe = path if path.is_dir() else path.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    repo = git.open_repo(probe)
    if repo.toplevel is None:
        raise UsageError(f"not inside a worktree: {path}")
    return repo.toplevel.resolve(), repo


def worktree_root(path: Path) -> Path:
    """The top folder of the worktree holding `path` (which may not exist yet)."""
    return open_worktree(path)[0]


def relative_to_root(path: Path, root: Path) -> str:
    """`path` relative to the worktree `root`; UsageError for a path outside it, or
    inside git's own files (`.git/config`, a linked worktree's `.git` file, a nested
    repository's): the one check every door uses, in a hook's process or the daemon."""
    # resolve() follows symlinks even when their target does not exist yet: writing
    # through a dangling link creates the target, which may be outside the repository.
    resolved = path.resolve()
    try:
        relative = resolved.relative_to(root)
    except ValueError as exc:
        raise UsageError(f"{path} is outside the repository at {root}") from exc
    # git refuses `.git` as a path component in any case (`.GIT` on case-folding disks).
    if any(part.lower() == ".git" for part in relative.parts):
        raise UsageError(f"not inside a worktree: {path}")
    return relative.as_posix()


def judge(
    root: Path,
    *,
    files: Mapping[str, bytes | None] | None = None,
    staged_index: Path | None = None,
    trunk: str | None = None,
    ref_patterns: tuple[str, ...] = (),
    repo: git.RepoInfo | None = None,
    config: Config | None = None,
    session: AnalysisSession | None = None,
) -> Judgement:
    """Findings between worktree `root` (with `files` or `staged_index` applied) and
    every other participant. With `files`, only findings about those files are kept.
    `repo` and `config`, when the caller has them already, are `root`'s; a
    long-lived `session` of the same repository lends what it keeps (the daemon):
    its scratch store, cache, symbol index and watched worktree states."""
    started = time.monotonic()
    repo = repo or git.open_repo(root)
    config = config or load_config(root)
    filters.allow(config.git_filters)
    override = StateOverride(files=dict(files or {}), staged_index=staged_index)
    options = ScanOptions(repo=str(root), trunk=trunk or config.trunk, config=config)
    focus = frozenset(files) if files is not None else None
    options = replace(options, ref_patterns=ref_patterns, focus=focus)
    overrides = {str(root): override}
    if session is not None:
        found = _discover(repo, session.scratch, options, overrides, session.live)
        current, pairs = _pairs_of(found, root)
        analysis = analyse_pairs(session, pairs, options, trunk=trunk_of(found))
        findings = configured(
            analysis.findings, config, found.participants, session.index.file_contents
        )
    else:
        with git.Scratch(repo) as scratch:
            found = _discover(repo, scratch, options, overrides, None)
            current, pairs = _pairs_of(found, root)
            # Opened once the states are captured: the index reads through the
            # scratch environment as discovery left it (kept states as an alternate).
            with AnalysisSession.open(repo, scratch) as own:
                analysis = analyse_pairs(own, pairs, options, trunk=trunk_of(found))
                # Inline ignores are read from each side's files (the proposal's too).
                findings = configured(
                    analysis.findings, config, found.participants, own.index.file_contents
                )
    if files is not None:
        findings = [f for f in findings if _mentions(f, set(files))]
    result = build_result(repo, found, analysis, config, started, findings)
    return Judgement(result=result, current=current, config=config)


def _discover(
    repo: git.RepoInfo,
    scratch: git.Scratch,
    options: ScanOptions,
    overrides: dict[str, StateOverride],
    live: LiveStates | None,
) -> Discovery:
    return discover(
        repo,
        scratch,
        ref_patterns=options.ref_patterns,
        trunk=options.trunk,
        overrides=overrides,
        keep_states=cache_enabled(),
        live=live,
    )


def _pairs_of(found: Discovery, root: Path) -> tuple[Participant | None, list[Sides]]:
    """The worktree at `root` and its pairs with every other participant."""
    current = next(
        (p for p in found.participants if p.path and Path(p.path).resolve() == root), None
    )
    pairs = [(current, p) for p in found.participants if p is not current] if current else []
    return current, pairs


def _mentions(finding: Finding, paths: set[str]) -> bool:
    """Whether a finding is about one of `paths`: its own path or a location in details."""
    if finding.path in paths or finding.details.get("git_path") in paths:
        return True
    return any(p in paths for p in _detail_paths(finding.details))


def _detail_paths(value: object) -> Iterable[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("path", "removed_path") and isinstance(item, str):
                yield item
            elif key == "related_paths" and isinstance(item, list):
                yield from (p for p in item if isinstance(p, str))
            else:
                yield from _detail_paths(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _detail_paths(item)
