"""What the daemon keeps between judgements of one repository.

A hook process starts from nothing: it opens the cache, starts `git cat-file`,
loads symbol tables and whole-tree indexes, and captures every worktree. The
daemon keeps all of that in a session: an analysis session (engine/session.py)
that owns its scratch store and lends the watched worktree states. Everything a
session holds is keyed by content (blob, tree and commit ids) or checked against
the watcher, so keeping it cannot make an answer stale (that includes the pair facts it keeps
between analyses, detectors/context.py KeptFacts); a session is still renewed
after any error (a deadline may have cut a read from git short) and after
`RENEW_AFTER` judgements (its scratch store only grows).
"""

from __future__ import annotations

from pathlib import Path

from driftcheck.detectors.context import KeptFacts
from driftcheck.engine.session import AnalysisSession
from driftcheck.store.cache import open_cache
from driftcheck.symbols.index import SymbolIndex
from driftcheck.workspace import git
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.state_store import StateStore

RENEW_AFTER = 500
# Entries of kept pair facts (side facts, DC303 lookups...) past which they start
# afresh: one scan adds a few per changed worktree, so this is hours of typing.
KEPT_FACTS_LIMIT = 20_000


class Session(AnalysisSession):
    live: LiveStates
    keeps_between_runs = True  # the next judgement reads the same blobs again

    def __init__(self, repo: git.RepoInfo, live: LiveStates) -> None:
        self.judged = 0
        self._kept = KeptFacts()
        # Pairs (names, heads, trees) analysed for what the session keeps (feed.py).
        self.warmed: set[tuple[str | None, ...]] = set()
        scratch = git.Scratch(repo)
        try:
            store = StateStore.open(repo.cache_dir, scratch.env["GIT_ALTERNATE_OBJECT_DIRECTORIES"])
            if store is not None:
                # Before the index copies the environment: its reads must see kept states.
                scratch.add_alternate(store.objects)
            cache = open_cache(repo.cache_dir)
            index = SymbolIndex(cwd=str(repo.common_dir), env=scratch.env, cache=cache)
            live.read_trees = index.read_trees
        except BaseException:
            scratch.close()
            raise
        super().__init__(repo, scratch, cache, index, live)

    def worktree_of(self, path: Path) -> tuple[Path, git.RepoInfo] | None:
        """The worktree of this repository holding `path`, told from the worktree
        list the session keeps (no git call); None when it is not plainly one of
        them (a nested repository, a bare repository, elsewhere)."""
        folder = path.parent.resolve()
        roots = {Path(e.path).resolve() for e in self.live.worktrees() if not e.bare}
        probe = folder
        while probe not in roots:
            if (probe / ".git").exists() or probe == probe.parent:
                return None
            probe = probe.parent
        repo = git.RepoInfo(common_dir=self.repo.common_dir, toplevel=probe, is_bare=False)
        return probe, repo

    def kept_facts(self) -> KeptFacts:
        """Kept between analyses: everything in it is keyed by content, so the pairs
        a write touches find the facts of their unchanged sides worked out."""
        if self._kept.size() > KEPT_FACTS_LIMIT:
            self._kept = KeptFacts()
        return self._kept

    @property
    def worn(self) -> bool:
        return self.judged >= RENEW_AFTER

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.scratch.close()  # the session's own
