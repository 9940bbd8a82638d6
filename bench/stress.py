"""driftcheck hook stress: `python bench/stress.py` prints latency and exit codes per scenario.

Every hook is run as an agent runs it: a process per call (`driftcheck hook claude`,
the console script of this installation), a PreToolUse Edit payload on stdin, the
daemon switched on, no deadline flag (the configured `hook-deadline-ms` applies,
unless --deadline-ms is given). Each time runs from the process's launch to its exit,
Python's start-up included. The workload is bench/run.py's: Django's sources with 8
drifting worktrees (bench/workload.py), in bench/.cache/work.

Scenarios (issue #19's review):
- concurrent, daemon warm: 32 hooks launched at once, spread over the worktrees;
- concurrent, no daemon yet: the same with none running (each judges alone, and
  they start one);
- daemon SIGKILLed: a burst of hooks, the daemon killed while their requests are
  queued or being judged (the kill comes 0.1 to 0.7 s after the launch);
- squatted socket: the daemon's socket name taken by a listener of the same user
  that accepts and never answers, answers garbage, or hangs up at once (the client
  checks only the listener's user: a same-user squatter is the case that gets in);
- FIFO edit: an Edit whose file_path is a FIFO, with the daemon warm and without.

A hook passes when it exits 0 within its deadline plus 200 ms. The script exits 1
when any hook does not. A private runtime folder is used, so a daemon the user
runs is never touched. Options: --concurrent N (default 32), --rounds N (default 3),
--deadline-ms N, --workdir DIR, --only NAME[,NAME] (scenario names as printed).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import _prune_to, _unpark, edit_payload
from workload import _ENV, CACHE, add_worktrees, build_base

from driftcheck.config import load_config
from driftcheck.daemon import client as daemon_client
from driftcheck.workspace.git import open_repo

MARGIN_S = 0.2  # issue #19: every hook answers within its deadline plus this
_CONSOLE = Path(sys.executable).with_name("driftcheck")
HOOK = [str(_CONSOLE)] if _CONSOLE.exists() else [sys.executable, "-m", "driftcheck"]


@dataclass
class Outcome:
    seconds: float
    code: int
    stderr: str


@dataclass
class Scenario:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)


def run_hooks(
    payloads: list[tuple[Path, bytes]], env: dict[str, str], args: list[str]
) -> list[Outcome]:
    """Launch one hook process per payload, all at once; each timed from its own
    launch to its exit (a thread per process waits, so nobody is reaped late)."""
    results: list[Outcome | None] = [None] * len(payloads)

    def one(n: int, cwd: Path, data: bytes) -> None:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*HOOK, "hook", "claude", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _out, err = proc.communicate(data)
        results[n] = Outcome(time.perf_counter() - start, proc.returncode, err.decode())

    threads = [
        threading.Thread(target=one, args=(n, cwd, data)) for n, (cwd, data) in enumerate(payloads)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def daemon_cli(op: str, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HOOK, "daemon", op, "--repo", str(repo)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=660,
    )


def daemon_pid(repo: Path, env: dict[str, str]) -> int | None:
    status = daemon_cli("status", repo, env)
    return json.loads(status.stdout).get("pid") if status.returncode == 0 else None


def stop_daemons(repo: Path, env: dict[str, str]) -> None:
    """Stop the daemon, and any a hook started meanwhile: one still warming up does
    not listen yet, but holds its name's lock file (listener.py) until it leaves."""
    runtime = Path(env[daemon_client.RUNTIME_DIR_VARIABLE])
    until = time.monotonic() + 300
    while time.monotonic() < until:
        daemon_cli("stop", repo, env)
        if not any(_held(lock) for lock in runtime.glob("*.sock.lock")):
            return
        time.sleep(0.5)
    raise SystemExit("a daemon did not stop within 300 s")


def _held(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def warm_daemon(repo: Path, env: dict[str, str], prime: list[tuple[Path, bytes]]) -> None:
    started = daemon_cli("start", repo, env)
    if started.returncode != 0:
        raise SystemExit(f"the daemon did not start: {started.stderr.strip()}")
    run_hooks(prime, env, [])  # the first answers load the pairs' symbol tables


class Squatter:
    """A listener of our own user on the daemon's socket name (no lock taken, as a
    stray program would): `silent` accepts and never answers, `garbage` answers
    bytes that are no daemon message, `hangup` closes at once."""

    def __init__(self, common_dir: Path, behaviour: str) -> None:
        self.path = daemon_client.socket_path(common_dir)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self._inode = os.stat(self.path).st_ino
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.behaviour = behaviour
        self.stopped = threading.Event()
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            if self.behaviour == "silent":
                self._held.append(conn)
            elif self.behaviour == "garbage":
                with conn, contextlib.suppress(OSError):
                    conn.settimeout(1.0)
                    conn.recv(1 << 16)
                    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n\x00\xff garbage 99999999999:x")
            else:
                conn.close()

    def close(self) -> None:
        self.stopped.set()
        self._thread.join()
        for conn in self._held:
            conn.close()
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            # Only if still ours: a daemon a hook started may have replaced it.
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)


@contextlib.contextmanager
def squatting(common_dir: Path, behaviour: str) -> Iterator[Squatter]:
    squatter = Squatter(common_dir, behaviour)
    try:
        yield squatter
    finally:
        squatter.close()


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(scenarios: list[Scenario], deadline_s: float) -> bool:
    print()
    head = f"{'scenario':<34} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}"
    print(f"{head} {'deadline':>8}  exit 0?  within +200 ms?")
    passed = True
    for scenario in scenarios:
        times = sorted(o.seconds for o in scenario.outcomes)
        codes = {o.code for o in scenario.outcomes}
        late = sum(o.seconds > deadline_s + MARGIN_S for o in scenario.outcomes)
        ok_codes = codes == {0}
        passed &= ok_codes and not late
        print(
            f"{scenario.name:<34} {len(times):>4} {percentile(times, 0.5) * 1000:>7.0f}"
            f" {percentile(times, 0.95) * 1000:>7.0f} {times[-1] * 1000:>7.0f}"
            f" {deadline_s * 1000:>6.0f}ms  {'yes' if ok_codes else f'no {sorted(codes)}':<7}"
            f"  {'yes' if not late else f'no ({late} late)'}"
        )
    return passed


def show_failures(scenario: Scenario, deadline_s: float) -> None:
    for outcome in scenario.outcomes:
        if outcome.code != 0 or outcome.seconds > deadline_s + MARGIN_S:
            last = (outcome.stderr.strip().splitlines() or [""])[-1][:200]
            print(
                f"  {scenario.name}: {outcome.seconds * 1000:.0f} ms, exit {outcome.code}: {last}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worktrees", type=int, default=8)
    parser.add_argument("--deadline-ms", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=CACHE / "work")
    parser.add_argument("--only", default="")
    args = parser.parse_args()

    package = Path(__file__).resolve().parent.parent / "driftcheck"
    compileall.compile_dir(str(package), quiet=1)
    repo = build_base(args.workdir)
    _unpark(repo)
    worktrees = add_worktrees(repo, args.worktrees)
    _prune_to(repo, worktrees)
    common = open_repo(repo).common_dir
    flag = [] if args.deadline_ms is None else ["--deadline-ms", str(args.deadline_ms)]
    configured = load_config(worktrees[0]).hook_deadline_ms
    deadline_s = (args.deadline_ms or configured) / 1000

    runtime = tempfile.mkdtemp(prefix="driftcheck-stress-run-")  # mode 0700
    os.environ[daemon_client.RUNTIME_DIR_VARIABLE] = runtime  # where the squatter binds
    env = {**_ENV, "DRIFTCHECK_DAEMON": "1", daemon_client.RUNTIME_DIR_VARIABLE: runtime}
    payloads = {wt: edit_payload(wt) for wt in worktrees}

    def burst(count: int) -> list[tuple[Path, bytes]]:
        return [
            (worktrees[n % len(worktrees)], payloads[worktrees[n % len(worktrees)]])
            for n in range(count)
        ]

    fifos = [wt / "django" / "utils" / "stress_pipe.py" for wt in worktrees]

    def fifo_burst(count: int) -> list[tuple[Path, bytes]]:
        out = []
        for n in range(count):
            wt, fifo = worktrees[n % len(worktrees)], fifos[n % len(worktrees)]
            payload = json.loads(payloads[wt])
            payload["tool_input"].update(file_path=str(fifo), old_string="a", new_string="b")
            out.append((wt, json.dumps(payload).encode()))
        return out

    def concurrent_warm(s: Scenario) -> None:
        warm_daemon(repo, env, burst(3))
        for _ in range(args.rounds):
            s.outcomes += run_hooks(burst(args.concurrent), env, flag)

    def concurrent_cold(s: Scenario) -> None:
        for _ in range(args.rounds):
            stop_daemons(repo, env)
            s.outcomes += run_hooks(burst(args.concurrent), env, flag)

    def killed(s: Scenario) -> None:
        for n in range(args.rounds * 2):
            warm_daemon(repo, env, burst(3))
            pid = daemon_pid(repo, env)
            assert pid is not None
            delay = 0.1 + 0.6 * n / max(1, args.rounds * 2 - 1)

            def kill(pid: int = pid, delay: float = delay) -> None:
                time.sleep(delay)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

            killer = threading.Thread(target=kill)
            killer.start()
            s.outcomes += run_hooks(burst(args.concurrent // 2), env, flag)
            killer.join()
        stop_daemons(repo, env)

    def squatted(behaviour: str) -> Callable[[Scenario], None]:
        def scenario(s: Scenario) -> None:
            for _ in range(args.rounds):
                stop_daemons(repo, env)
                with squatting(common, behaviour) as squatter:
                    s.outcomes += run_hooks(burst(args.concurrent // 2), env, flag)
                if squatter.accepted == 0:
                    raise SystemExit(f"no hook reached the {behaviour} squatter")
            stop_daemons(repo, env)

        return scenario

    def fifo(with_daemon: bool) -> Callable[[Scenario], None]:
        def scenario(s: Scenario) -> None:
            for path in fifos:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                os.mkfifo(path)
            try:
                for _ in range(args.rounds):
                    if with_daemon:
                        warm_daemon(repo, env, burst(3))
                    else:
                        stop_daemons(repo, env)
                    s.outcomes += run_hooks(fifo_burst(args.concurrent // 2), env, flag)
            finally:
                for path in fifos:
                    path.unlink()
                stop_daemons(repo, env)

        return scenario

    plan: list[tuple[str, Callable[[Scenario], None]]] = [
        (f"{args.concurrent} concurrent, daemon warm", concurrent_warm),
        (f"{args.concurrent} concurrent, no daemon yet", concurrent_cold),
        ("daemon SIGKILLed mid-request", killed),
        ("squatter: accepts, never answers", squatted("silent")),
        ("squatter: answers garbage", squatted("garbage")),
        ("squatter: hangs up at once", squatted("hangup")),
        ("FIFO edit, daemon warm", fifo(True)),
        ("FIFO edit, no daemon", fifo(False)),
    ]
    wanted = {name.strip() for name in args.only.split(",") if name.strip()}
    load = os.getloadavg()[0]
    print(f"{len(worktrees)} worktrees of Django in {repo.parent}; hook: {' '.join(HOOK)}")
    cores = os.cpu_count()
    print(f"deadline {deadline_s * 1000:.0f} ms; load average at start {load:.2f}, {cores} cores")
    scenarios = []
    try:
        for name, body in plan:
            if wanted and not any(w in name for w in wanted):
                continue
            scenario = Scenario(name)
            body(scenario)
            scenarios.append(scenario)
            print(f"  done: {name} ({len(scenario.outcomes)} hooks)", flush=True)
    finally:
        stop_daemons(repo, env)
        shutil.rmtree(runtime, ignore_errors=True)
    passed = report(scenarios, deadline_s)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    for scenario in scenarios:
        show_failures(scenario, deadline_s)
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
