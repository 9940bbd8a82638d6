"""`driftcheck daemon run`: one long-lived judge for a repository's agent hooks.

A hook process that judges by itself pays for starting Python, importing
driftcheck, opening the cache, starting git's object reader, loading symbol
tables and capturing every worktree with `git status`: most of a second on a
large repository. The daemon pays that once. It keeps a session (session.py) and
the worktree states (workspace/live_states.py), which a file watcher tells it to capture
again only where something changed.

It listens on a unix socket in the user's private runtime folder (listener.py,
client.py). Every client is read and answered on a thread of its own, so one that
never sends its request, or trickles it, holds nobody else up; the requests
themselves are judged one at a time on the main thread (connections.py). It
leaves when:
- nobody asked for `idle` seconds;
- its own code changed on disk (an upgrade): it answers "retry" and the hook
  judges in its own process, then starts a fresh daemon;
- the repository is gone, its socket file was removed, or it is told to stop
  (`driftcheck daemon stop`).

Once the worktrees have been quiet for a moment after a change, it captures the
changed ones and parses their changed files unasked, so the next hook finds them
kept. What a request worked out goes to the persistent cache once it is answered
(other processes, and a renewed session, find it there). It never judges with a
broken session: after any error the session is renewed. Every request is
answered; a driftcheck failure is an "allow", as in the hook.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import time
from pathlib import Path
from typing import Any, Protocol

from driftcheck.coordination import tools
from driftcheck.daemon import client as daemon_client
from driftcheck.daemon import feed
from driftcheck.daemon.budget import SharedBudget
from driftcheck.daemon.connections import Inbox, Request, allow
from driftcheck.daemon.listener import Listener, NameTaken
from driftcheck.daemon.session import Session
from driftcheck.daemon.upkeep import Signalled, code_stamp, identity, log, signalled, trim_log
from driftcheck.deadline import DeadlineExceeded, deadline
from driftcheck.engine.bases import heads_key, merge_bases, tree_changes
from driftcheck.engine.judge import judge
from driftcheck.model import Participant
from driftcheck.workspace import git
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.watcher import Watcher, WatchUnavailable, kernel_half, user_budget

# How often the daemon looks at its own files for an upgrade (a stat of each).
_CODE_CHECK_S = 1.0
# How long the worktrees must be quiet before changed ones are captured unasked.
_QUIET_S = 0.3
# How often trees left unwatched for want of watches are tried again.
_RETRY_WATCH_S = 30.0


class HookAnswer(Protocol):
    stdout: str | None
    stderr: list[str]
    trouble: bool  # something went wrong past the payload: renew the session
    late: bool  # ... namely the deadline: keep the worktree states, rebuild the rest now


class HookRunner(Protocol):
    """Judges one agent hook's payload with the daemon's session (the agent hook's
    own `run`, handed in by the command that starts the daemon)."""

    def __call__(
        self,
        agent: str,
        raw: bytes,
        *,
        strict: bool | None,
        deadline_ms: int | None,
        started: float | None,
        cwd: Path | None,
        session: Session,
    ) -> HookAnswer: ...


class Daemon:
    def __init__(
        self, repo: git.RepoInfo, listener: Listener, idle_s: float, hook: HookRunner
    ) -> None:
        self.repo = repo
        self.hook = hook
        self.listener = listener
        self.idle_s = idle_s
        self.started = time.time()
        self.requests = 0
        self.prepared = 0  # captures of what changed while nobody asked (warm-up included)
        self.stopping = False
        self.budget = _shared_budget()
        try:
            self.watcher: Watcher | None = Watcher(self.budget)
        except WatchUnavailable as exc:
            log(f"no file watcher ({exc}): every request captures every worktree")
            self.watcher = None
        self.live = LiveStates(repo, self.watcher)
        self.inbox = Inbox()
        self.warming = feed.Warming()
        self.session: Session | None = None
        self._cache_identity: tuple[int, int] | None = None
        self._code = code_stamp()
        self._code_checked = time.monotonic()
        self._upgraded = False
        self._rebuild = False  # a request missed its deadline: warm up again, unasked
        self.misses = 0

    def close(self) -> None:
        self.listener.close()  # first: a hook that comes now finds no daemon
        self.inbox.close({"retry": b"1"})
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
        self.live.close()
        if self.watcher is not None:
            self.watcher.close()
        if self.budget is not None:
            self.budget.close()  # after the watches: the kernel has freed them

    def serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self.listener.sock, selectors.EVENT_READ)
        selector.register(self.inbox.wake, selectors.EVENT_READ)
        if self.watcher is not None:
            selector.register(self.watcher.fd, selectors.EVENT_READ)
        last = changed = retried = time.monotonic()
        while not self.stopping:
            timeout = min(60.0, self.idle_s)
            if self.live.stale():
                timeout = max(0.0, changed + _QUIET_S - time.monotonic())
            elif self.warming.pending():
                timeout = 0.0  # a look for requests and events between steps
            ready = selector.select(timeout=timeout)
            for key, _ in ready:
                if key.fileobj is self.listener.sock:
                    self._accept()
                    last = time.monotonic()
                elif key.fileobj is self.inbox.wake:
                    self._answer_all()
                    last = time.monotonic()
                    if self._rebuild:  # before the next request, which finds it warm
                        began = time.monotonic()
                        self._prepare()
                        spent = round(time.monotonic() - began, 2)
                        log(f"warm again {spent} s after a request missed its deadline")
                else:
                    self.live.refresh()  # drained as it comes: the queue never overflows
                    changed = time.monotonic()
            if not ready and self.live.stale() and time.monotonic() - changed >= _QUIET_S:
                self._prepare()
            elif not ready and not self.live.stale() and self.warming.pending():
                self._warm()
            if self.watcher is not None and time.monotonic() - retried >= _RETRY_WATCH_S:
                retried = time.monotonic()
                if self.watcher.starved():
                    self.live.retry_starved()
            if time.monotonic() - last > self.idle_s:
                log(f"idle for {round(self.idle_s)} s, leaving")
                break
            if not self.repo.common_dir.is_dir():
                log("the repository is gone, leaving")
                break
            if not self.listener.still_ours():
                log(f"{self.listener.path} was removed or replaced, leaving")
                break

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.sock.accept()
        except OSError:
            return
        self.inbox.receive(conn)  # read on its own thread; queued once whole

    def _answer_all(self) -> None:
        """Judge the requests that arrived whole, one at a time, then keep in the
        persistent cache what they worked out (nobody waits for that)."""
        for request in self.inbox.take():
            if self.stopping:  # told to stop earlier in this batch
                request.answer({"retry": b"1"})
                continue
            try:
                answer = self._handle(request)
            except Exception as exc:  # a daemon bug: this caller judges alone, and it goes on
                log(f"internal error: {exc!r}")
                self._renew()
                answer = {"retry": b"1"}
            if answer is not None:  # None: a parked long poll answers on its own thread
                request.answer(answer)
        self._keep()

    def _keep(self) -> None:
        """Write what the session worked out to the persistent cache: other
        processes and a renewed session find it there, and the session's queue of
        writes stays short."""
        if self.session is not None:
            with contextlib.suppress(Exception):  # best effort, like every cache write
                self.session.cache.flush()

    def _handle(self, request: Request) -> dict[str, bytes] | None:
        header = request.header
        op = header.get("op")
        if header.get("v") != b"%d" % daemon_client.PROTOCOL or self._upgrade_seen():
            why = "its code changed" if self._upgraded else "a client of another protocol"
            log(f"{why}, leaving (the caller judges alone)")
            self.stopping = True
            return {"retry": b"1"}
        if op == b"hook":
            return self._hook(header)
        if op == b"tool":
            return self._tool(header, waited=time.monotonic() - request.received)
        if op == b"watch":  # `driftcheck watch`: a long poll, answered in feed.py
            self.requests += 1
            return feed.answer(
                request,
                live=self.live,
                session=self._ready_session,
                renew=self._renew,
                warming=self.warming,
            )
        if op == b"status":
            return {"status": json.dumps(self.status()).encode()}
        if op == b"stop":
            log("told to stop (driftcheck daemon stop), leaving")
            self.stopping = True
            return {"stopped": b"%d" % os.getpid()}
        return allow(f"driftcheck: allowing the edit: unknown daemon request {op!r}")

    def _upgrade_seen(self) -> bool:
        """Whether driftcheck's own files changed since the daemon started, looked
        at most once every _CODE_CHECK_S (a stat of every module costs a
        millisecond or two)."""
        if not self._upgraded and time.monotonic() - self._code_checked >= _CODE_CHECK_S:
            self._upgraded = code_stamp() != self._code
            self._code_checked = time.monotonic()
        return self._upgraded

    def _hook(self, header: dict[str, bytes]) -> dict[str, bytes]:
        self.requests += 1
        strict = {b"1": True, b"0": False}.get(header.get("strict", b""))
        deadline = header.get("deadline_ms", b"")
        try:
            started: float | None = float(header.get("started", b""))
        except ValueError:
            started = None
        cwd = header.get("cwd")
        try:
            self.live.refresh()
            self._ready()
            assert self.session is not None
            answer = self.hook(
                header.get("agent", b"").decode("utf-8", "replace"),
                header.get("payload", b""),
                strict=strict,
                deadline_ms=int(deadline) if deadline.isdigit() else None,
                started=started,
                cwd=Path(os.fsdecode(cwd)) if cwd else None,
                session=self.session,
            )
            self.session.judged += 1
        except Exception as exc:  # the session itself failed: allow, start afresh
            self._renew()
            return allow(f"driftcheck: allowing the edit after a daemon error: {exc!r}"[:400])
        if answer.trouble and answer.late:
            self._recover()
        elif answer.trouble:
            self._renew()
        return {
            "stdout": (answer.stdout or "").encode(),
            "stderr": "\n".join(answer.stderr).encode(),
        }

    def _tool(self, header: dict[str, bytes], *, waited: float = 0.0) -> dict[str, bytes]:
        """A coordination tool (MCP, `driftcheck context`) with the kept session,
        within the caller's budget, less what it `waited` in the queue: past it the
        caller runs the tool itself."""
        self.requests += 1
        budget = header.get("budget_ms", b"")
        seconds = min(int(budget), 60_000) / 1000 if budget.isdigit() and int(budget) else 5.0
        seconds -= waited
        cwd = Path(os.fsdecode(header.get("cwd", b"/")))
        if seconds <= 0:
            return {"tool": json.dumps(tools.error("deadline", "waited past its budget")).encode()}
        try:
            args = json.loads(header.get("args", b"{}") or b"{}")
            self.live.refresh()
            self._ready()
            assert self.session is not None
            with deadline(seconds):
                answer = tools.call(
                    header.get("name", b"").decode("utf-8", "replace"),
                    args,
                    cwd=cwd,
                    session=self.session,
                )
            self.session.judged += 1
        except ValueError:
            answer = tools.error("bad-input", "arguments are not JSON")
        except DeadlineExceeded:
            self._recover()
            answer = tools.error("deadline", f"no answer within {seconds} s")
        except Exception as exc:
            self._renew()
            answer = tools.error("internal", f"daemon: {exc!r}"[:400])
        if answer.get("error", {}).get("code") == "internal":
            self._renew()
        return {"tool": json.dumps(answer).encode()}

    def _ready(self) -> None:
        """A session that may be used: renewed when worn out, or when the cache
        folder was removed under us (`cache clear` by another installation): its
        kept states went with it."""
        if self.session is not None and (
            self.session.worn or identity(self.repo.cache_dir) != self._cache_identity
        ):
            self._renew()
        if self.session is None:
            self._open_session()

    def _ready_session(self) -> Session:
        self._ready()
        assert self.session is not None
        return self.session

    def _open_session(self) -> None:
        self.session = Session(self.repo, self.live)
        self._cache_identity = identity(self.repo.cache_dir)

    def warm_up(self) -> None:
        """Watch and capture every worktree, and open the session."""
        started = time.monotonic()
        self._prepare()
        spent = round(time.monotonic() - started, 2)
        log(f"warmed up in {spent} s: {self.live.watcher_summary()}")

    def _prepare(self) -> None:
        """Capture again what changed, while nobody waits: the next hook then finds
        every state kept. Done once the worktrees are quiet, so a busy build that
        writes all the time costs nothing here."""
        self.prepared += 1
        since = self.live.changes
        self._rebuild = False
        if self.session is None:
            self._open_session()
        assert self.session is not None
        roots = [e.path for e in self.live.worktrees() if not e.bare and not e.prunable]
        try:
            if roots:
                found = judge(Path(roots[0]), files={}, repo=self.repo, session=self.session)
                self._summarize_changes(found.result.participants)
        except Exception as exc:  # the next request captures, and says what went wrong
            log(f"preparing failed: {exc!r}")
            self._renew()
        self._keep()
        self.live.settle(since)

    def _summarize_changes(self, participants: list[Participant]) -> None:
        """Parse what the worktrees captured just now changed, as far as the next
        hook will look first (a summary of each changed file, against the merge base
        with the main worktree); everything parsed is kept by blob id, so a wrong
        guess costs time here, never a wrong answer."""
        assert self.session is not None
        fresh = self.live.take_captured()
        worktrees = [p for p in participants if p.kind == "worktree" and p.head]
        if not worktrees:
            return
        main, cwd, cache = worktrees[0], str(self.repo.common_dir), self.session.cache
        pairs = [(main, side) for side in worktrees[1:] if side.path in fresh]
        bases = merge_bases(pairs, cwd=cwd, cache=cache)
        for _main, side in pairs:
            found = bases.get(heads_key(main, side))
            if found is None:
                continue
            env = self.session.scratch.env
            changed = tree_changes(found.tree, side.tree, cwd=cwd, env=env, cache=cache)
            present = {path: change[2] for path, change in changed.items() if change[0] != "D"}
            self.session.index.learn(side.tree, present)
            self.session.index.similar_files(side.tree, present, [], set())

    def _warm(self) -> None:
        """One step of working out, while idle, what the live view's next scan
        will need (feed.Warming)."""
        try:
            self.warming.step(self._ready_session())
        except Exception as exc:  # the session may be broken: start afresh
            log(f"warming up failed: {exc!r}")
            self._renew()

    def _recover(self) -> None:
        """After a deadline: a read from git cut short may have left the session
        half-way, so it is renewed; the worktree states are kept (each is recorded
        only once whole, live_states.py) and the rest is rebuilt as soon as this
        batch is answered, with no deadline. Dropping the states too made the next
        request capture every worktree again: on a large repository it missed as
        well, and so did every one after it."""
        self.misses += 1
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
        self.session = None
        self._rebuild = True

    def _renew(self) -> None:
        """Start afresh: a new session, and every worktree captured again (what went
        wrong may have been a kept state, say its objects removed by `cache clear`)."""
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.close()
        self.session = None
        self.warming.clear()
        self.live.forget()

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "repository": str(self.repo.common_dir),
            "uptime_s": round(time.time() - self.started),
            "requests": self.requests,
            "prepared": self.prepared,
            "deadline_misses": self.misses,
            "idle_exit_s": self.idle_s,
            "watcher": self.watcher is not None,
            # Inotify watches all of this user's daemons may hold, and this one's share.
            "watch_budget": self.budget.total if self.budget else None,
            "watches_reserved": self.budget.held if self.budget else None,
            "socket": self.listener.path,
            "clients": self.inbox.clients,
            "clients_refused": self.inbox.refused,
            "warming_pairs": self.warming.left,  # for the live view, while idle
            **self.live.status(),
        }


def run(common_dir: Path, *, idle_minutes: float, hook: HookRunner) -> int:
    """Serve until idle, answering agent hooks with `hook`; 0 also when another
    daemon serves this repository already. DaemonUnavailable when there is no
    private folder to listen in."""
    repo = git.open_repo(common_dir)
    trim_log(repo.cache_dir / "daemon.log")
    try:
        listener = Listener(repo.common_dir)
    except NameTaken:
        return 0  # a daemon serves this repository already
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, signalled)
    try:
        daemon = Daemon(repo, listener, idle_minutes * 60, hook)
    except BaseException as exc:
        listener.close()
        if isinstance(exc, Signalled):
            log(f"stopped by signal {signal.Signals(exc.signum).name} while starting")
            return 0
        log(f"stopped by an error while starting: {exc!r}"[:600])
        raise
    # Every way out says why in the log: the ways serve() leaves by itself log there.
    try:
        # The name is ours from the lock, but hooks are let in only once the worktrees
        # are watched and captured: until then they judge in their own process.
        daemon.warm_up()
        listener.listen()
        log(f"serving {repo.common_dir} (pid {os.getpid()})")
        daemon.serve()
    except Signalled as exc:
        log(f"stopped by signal {signal.Signals(exc.signum).name}, leaving")
    except BaseException as exc:
        log(f"stopped by an error: {exc!r}"[:600])
        raise
    finally:
        daemon.close()
        log(f"stopped (pid {os.getpid()}, {daemon.requests} requests)")
    return 0


def _shared_budget() -> SharedBudget | None:
    """This daemon's share of the watches all of the user's daemons hold; None
    (the watcher keeps to half of the limit alone) without a runtime folder."""
    try:
        total = user_budget()
    except ValueError as exc:
        total = kernel_half()
        log(f"{exc}: using {total}, half of the kernel's limit")
    try:
        return SharedBudget(total)
    except OSError as exc:
        log(f"no shared watch budget ({exc})")
        return None
