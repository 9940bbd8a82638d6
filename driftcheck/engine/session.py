"""An analysis session: what analysing pairs needs, and what may be kept between
analyses of one repository.

A scan opens one for its run and closes it at the end. The daemon keeps one open
across judgements (daemon/session.py): everything held here is keyed by content
(blob, tree and commit ids), so keeping it cannot make an answer stale.
"""

from __future__ import annotations

from types import TracebackType

from driftcheck.detectors.context import KeptFacts
from driftcheck.store.cache import Cache, open_cache
from driftcheck.symbols.index import SymbolIndex
from driftcheck.workspace import git
from driftcheck.workspace.live_states import LiveStates


class AnalysisSession:
    # Whether later analyses ask again for what this one reads: a one-off run lets
    # go of each symbol table after the last pair that reads it (engine/windows.py).
    keeps_between_runs = False

    def __init__(
        self,
        repo: git.RepoInfo,
        scratch: git.Scratch,
        cache: Cache,
        index: SymbolIndex,
        live: LiveStates | None = None,
    ) -> None:
        self.repo = repo
        self.scratch = scratch  # the caller's: it outlives the session
        self.cache = cache
        self.index = index
        # Worktree states a long-lived process keeps watched; None: capture each time.
        self.live = live

    @classmethod
    def open(
        cls, repo: git.RepoInfo, scratch: git.Scratch, *, use_cache: bool = True
    ) -> AnalysisSession:
        """A session for one run: the persistent cache (unless `use_cache` is off) and
        a fresh symbol index reading through `scratch`."""
        cache = open_cache(repo.cache_dir, enabled=use_cache)
        index = SymbolIndex(cwd=str(repo.common_dir), env=scratch.env, cache=cache)
        return cls(repo, scratch, cache, index)

    def kept_facts(self) -> KeptFacts:
        """The content-keyed facts an analysis starts from: none for a session of
        one run (a long-lived one keeps them, daemon/session.py)."""
        return KeptFacts()

    def close(self) -> None:
        """Stop the index's git and parsing processes and close the cache, on every path."""
        try:
            self.index.close()
        finally:
            self.cache.close()

    def __enter__(self) -> AnalysisSession:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
