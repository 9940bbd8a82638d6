"""One look at every participant, from one worktree: captured states and a session.

The daemon lends its session (watched worktree states, parsed tables kept); a
process on its own captures and opens one for the call.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from driftcheck.config import Config, load_config
from driftcheck.engine.session import AnalysisSession
from driftcheck.model import Participant
from driftcheck.store.cache import cache_enabled
from driftcheck.workspace import filters, git
from driftcheck.workspace.participants import discover
from driftcheck.workspace.state_store import StateStore


@dataclass
class View:
    root: Path
    repo: git.RepoInfo
    config: Config
    session: AnalysisSession
    participants: list[Participant]
    current: Participant | None

    @property
    def others(self) -> list[Participant]:
        return [p for p in self.participants if p is not self.current]

    def worktree_participant(self, path: str) -> Participant | None:
        wanted = Path(path).resolve()
        return next(
            (p for p in self.participants if p.path and Path(p.path).resolve() == wanted), None
        )


@contextmanager
def own_session(repo: git.RepoInfo) -> Iterator[AnalysisSession]:
    """A session for one call, able to read kept worktree states: their object store
    is an alternate before the index copies the scratch environment (as the
    daemon's session does)."""
    with git.Scratch(repo) as scratch:
        if cache_enabled():
            alternates = scratch.env["GIT_ALTERNATE_OBJECT_DIRECTORIES"]
            store = StateStore.open(repo.cache_dir, alternates)
            if store is not None:
                scratch.add_alternate(store.objects)
        with AnalysisSession.open(repo, scratch, use_cache=cache_enabled()) as session:
            yield session


@contextmanager
def open_view(
    root: Path, repo: git.RepoInfo, session: AnalysisSession | None = None
) -> Iterator[View]:
    """Every participant's current state as seen from worktree `root`."""
    config = load_config(root)
    filters.allow(config.git_filters)
    if session is not None:
        found = _discover(repo, session, config)
        yield _view(root, repo, config, session, found)
        return
    with own_session(repo) as own:
        yield _view(root, repo, config, own, _discover(repo, own, config))


def _discover(repo: git.RepoInfo, session: AnalysisSession, config: Config) -> list[Participant]:
    found = discover(
        repo,
        session.scratch,
        trunk=config.trunk,
        keep_states=cache_enabled(),
        live=session.live,
    )
    return found.participants


def _view(
    root: Path,
    repo: git.RepoInfo,
    config: Config,
    session: AnalysisSession,
    participants: list[Participant],
) -> View:
    current = next(
        (p for p in participants if p.path and Path(p.path).resolve() == root.resolve()), None
    )
    return View(root, repo, config, session, participants, current)
