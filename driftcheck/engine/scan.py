"""The scan use case: participants -> pairs -> detectors -> a `ScanResult`."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcheck.config import Config, load_config
from driftcheck.engine.inline_ignores import ContentReader, drop_inline_ignored
from driftcheck.engine.options import Progress, ScanOptions
from driftcheck.engine.pairs import PairAnalysis, analyse_pairs
from driftcheck.engine.session import AnalysisSession
from driftcheck.engine.syntax_errors import syntax_errors, syntax_warnings, warning_lines
from driftcheck.errors import UsageError
from driftcheck.model import TEXTUAL_CONFLICT, Finding, Participant, ScanResult
from driftcheck.store.cache import cache_enabled
from driftcheck.workspace import filters, git
from driftcheck.workspace.participants import Discovery, discover

if TYPE_CHECKING:
    from driftcheck.verify.merges import VerifyOutcome


def scan(options: ScanOptions, progress: Progress | None = None) -> ScanResult:
    with scanning(options, progress) as scanned:
        return scanned.result


@dataclass
class Scanned:
    """A finished scan with its session still open: a use case built on the scan
    (the merge plan) reads the same participants, cache and symbol index."""

    repo: git.RepoInfo
    options: ScanOptions
    found: Discovery
    session: AnalysisSession
    result: ScanResult
    trunk: Participant | None


@contextmanager
def scanning(options: ScanOptions, progress: Progress | None = None) -> Iterator[Scanned]:
    """Scan, then hold the scratch space and the analysis session open until the
    caller is done with them."""
    started = time.monotonic()
    repo = git.open_repo(options.repo)
    config = options.config or load_config(repo.toplevel)
    options = replace(options, config=config, trunk=options.trunk or config.trunk)
    filters.allow(config.git_filters)
    with git.Scratch(repo) as scratch:
        found = discover(
            repo,
            scratch,
            ref_patterns=options.ref_patterns,
            trunk=options.trunk,
            committed_only=options.committed_only,
            keep_states=cache_enabled(options.use_cache),
        )
        pairs = list(itertools.combinations(found.participants, 2))
        with AnalysisSession.open(repo, scratch, use_cache=options.use_cache) as session:
            trunk = trunk_of(found)
            analysis = analyse_pairs(
                session,
                pairs,
                options,
                progress,
                trunk,
                participants=found.participants if options.prune else None,
                shard=options.shard,
            )
            verify = options.verify or config.verify
            if verify:
                # Pruned pairs cannot meet, and another shard verifies the others.
                analysis.verified = _verify(session, analysis.mine, verify, options, config)
                analysis.findings += analysis.verified.findings
            read = session.index.file_contents
            result = build_result(
                repo, found, analysis, config, started, options=options, read=read
            )
            errors = syntax_errors(session, found.participants, analysis.changed_by)
            result.warnings = [*result.warnings, *warning_lines(errors)]
            if analysis.local and "shard" in result.stats:
                # What merge-reports needs to rebuild the unsharded report's union.
                result.stats["shard"].update(
                    plan="local",
                    changed_paths={k: sorted(v) for k, v in analysis.changed_by.items()},
                    syntax_errors=[list(e) for e in errors],
                    discovery_warnings=len(found.warnings),
                )
            yield Scanned(repo, options, found, session, result, trunk)


@dataclass
class Answered:
    """Pairs a scan answered from the pair cache, and how it analysed the others."""

    options: ScanOptions
    trunk: Participant | None
    pairs: list[tuple[Participant, Participant]]
    analysed: list[tuple[Participant, Participant]]  # every pair it looked at


def scan_in(
    session: AnalysisSession, options: ScanOptions, answered: list[Answered] | None = None
) -> ScanResult:
    """A whole scan with a long-lived session (the daemon's, for `driftcheck watch`):
    worktrees come from its watched states, parses from its symbol index, so only
    what changed since the last scan is captured and analysed again. The pairs
    answered from the pair cache are added to `answered`."""
    started = time.monotonic()
    config = options.config or load_config(Path(options.repo))
    options = replace(options, config=config, trunk=options.trunk or config.trunk)
    found = discover(
        session.repo,
        session.scratch,
        ref_patterns=options.ref_patterns,
        trunk=options.trunk,
        keep_states=cache_enabled(options.use_cache),
        live=session.live,
    )
    pairs = list(itertools.combinations(found.participants, 2))
    analysis = analyse_pairs(
        session,
        pairs,
        options,
        trunk=trunk_of(found),
        # The pairs `scan` enumerates (with a trunk, those that can meet): same answer.
        participants=found.participants if options.prune else None,
    )
    if answered is not None:
        answered.append(Answered(options, trunk_of(found), analysis.answered, analysis.mine))
    result = build_result(
        session.repo, found, analysis, config, started, read=session.index.file_contents
    )
    broken = syntax_warnings(session, found.participants, analysis.changed_by)
    result.warnings = [*result.warnings, *broken]
    return result


def analyse_again(
    session: AnalysisSession,
    options: ScanOptions,
    trunk: Participant | None,
    pairs: list[tuple[Participant, Participant]],
) -> None:
    """Analyse `pairs` without the pair cache, for what the session keeps of it
    (symbol tables, whole-tree indexes, each side's facts); the findings are not
    needed. git's merges are left out: they are the pair's own."""
    only = options.only - {TEXTUAL_CONFLICT}
    analyse_pairs(session, pairs, replace(options, only=only), trunk=trunk, reuse=False)


def _verify(
    session: AnalysisSession,
    pairs: list[tuple[Participant, Participant]],
    specs: Iterable[str],
    options: ScanOptions,
    config: Config,
) -> VerifyOutcome:
    from driftcheck.verify.checkers import checker_for
    from driftcheck.verify.merges import verify_pairs

    pattern = options.verify_pattern or config.verify_pattern
    checkers = [checker_for(spec, pattern) for spec in dict.fromkeys(specs)]
    if not options.verify and any(c.preset is None for c in checkers):
        # The repository's own configuration may name presets, never a command: a
        # cloned repository must not make `driftcheck scan` run what it chooses.
        raise UsageError(
            f"{config.source}: verify takes presets only (mypy, tsc, go vet); "
            "pass a command with --verify"
        )
    index, cache = session.index, session.cache
    return verify_pairs(session.repo, session.scratch, cache, index, pairs, checkers)


def trunk_of(found: Discovery) -> Participant | None:
    """The trunk's participant (a worktree that has it checked out, or its ref)."""
    if found.trunk_name is None:
        return None
    return next((p for p in found.participants if p.name == found.trunk_name), None)


def build_result(
    repo: git.RepoInfo,
    found: Discovery,
    analysis: PairAnalysis,
    config: Config,
    started: float,
    findings: list[Finding] | None = None,
    options: ScanOptions | None = None,
    read: ContentReader | None = None,
) -> ScanResult:
    """The v1 result: configured, sorted findings and the run's statistics. With
    `read` (the participants' files), inline ignores are honoured too."""
    stats: dict[str, Any] = {
        "participants": len(found.participants),
        "pairs": analysis.pairs,
        "pairs_enumerated": analysis.enumerated,
        "pairs_pruned": analysis.pruned,
        "pairs_analysed": analysis.analysed,
        "pairs_skipped_disjoint": analysis.skipped_disjoint,
        "pairs_without_merge_base": analysis.without_base,
        "merge_simulations": analysis.merge_simulations,
        "pairs_from_cache": analysis.from_cache,
        "skipped_participants": found.skipped,
        # Not analysed for their size (the hooks' limit): git's merge still judges them.
        "files_too_large": [
            {"path": path, "bytes": size} for path, size in sorted(analysis.too_large.items())
        ],
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    if analysis.verified is not None:
        stats["verify"] = analysis.verified.stats
    if options is not None and options.shard is not None:
        stats["shard"] = {
            "index": options.shard.index,
            "count": options.shard.count,
            "pairs": analysis.assigned,
            "state": state_digest(found.participants, options),
        }
    if findings is None:
        findings = configured(analysis.findings, config, found.participants, read)
    return ScanResult(
        repo=str(main_worktree(repo, found)),
        trunk=found.trunk,
        participants=found.participants,
        findings=sorted(findings, key=Finding.sort_key),
        stats=stats,
        changed_paths={k: len(v) for k, v in analysis.changed_by.items()},
        warnings=found.warnings,
        fail_on=config.fail_on,
    )


def configured(
    findings: Iterable[Finding],
    config: Config,
    participants: Iterable[Participant] = (),
    read: ContentReader | None = None,
) -> list[Finding]:
    """Apply severities, disabled kinds and ignored paths from configuration, and,
    given a reader of the participants' files, their inline ignores."""
    kept = [f for f in map(config.apply, findings) if f is not None]
    if read is not None:
        kept = drop_inline_ignored(kept, participants, read)
    return kept


def main_worktree(repo: git.RepoInfo, found: Discovery) -> Path:
    """The main worktree's folder (for a bare repository, the repository itself)."""
    if repo.is_bare:
        return repo.common_dir
    # `git worktree list` names the main worktree first; discovery kept it.
    return Path(found.main_path) if found.main_path else repo.toplevel or repo.common_dir


def state_digest(participants: Iterable[Participant], options: ScanOptions) -> str:
    """What a shard scanned: every participant's state and the kinds asked for.
    `merge-reports` refuses shards of different scans."""
    import hashlib

    parts = [f"{p.name}\0{p.head}\0{p.tree}" for p in participants]
    parts.append(",".join(sorted(options.only)))
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]
