"""The `driftcheck` command: an agent hook asks the repository's daemon first.

An agent hook runs before every edit an agent makes. With a daemon answering,
the hook process only starts Python, reads the payload and passes it on; nothing
heavy is imported. Without one (none running, another platform, switched off,
the daemon's code is older than ours), everything runs here as before, and the
hook starts a daemon for the next edits.

The deadline counts from the process's start as the kernel recorded it, not from
this module's first line: starting Python is part of what the agent waits for, and
on a busy machine it is a good part. A hook judged here is also held to it by a
hard stop (deadline.HardStop) a moment after the deadline, whatever it is doing
then (importing, cleaning up), and leaves without the interpreter's teardown.
"""

from __future__ import annotations

import sys
import time

from driftcheck.cli.handoff import Handoff

_AGENTS = ("claude", "codex")
_FLAGS = ("--strict", "--no-strict")
_NO_ANSWER_IN_TIME = "driftcheck: allowing the edit: the daemon did not answer within the deadline"
# The configuration's default (config.py); the fast path does not import it.
DEFAULT_DEADLINE_MS = 1500
_NO_TURN = (
    "driftcheck: allowing the edit: other hooks were judging alone, no turn within the deadline"
)
_NO_TURN_S = 0.05  # to say so before the deadline
# A start-up longer than this is not believed (a clock that counted a suspend).
_MAX_STARTUP_S = 30.0


def entry() -> None:
    started = process_started()
    handoff = Handoff(started=started)
    hook = _hook_arguments(sys.argv[1:])
    if hook is not None:
        code = _through_daemon(*hook, started, handoff)
        if code is not None:
            _leave(code)
        _judge_here(hook[2], started, handoff)
    # Imported only here: a hook the daemon answered never loads click or the rest.
    from driftcheck.cli.main import entry as full_entry

    full_entry(handoff)


def _leave(code: int) -> None:
    """Exit now: the agent waits for the process to end, and the interpreter's
    teardown is time spent for nobody."""
    import os

    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 (contextlib is not imported on this path)
            stream.flush()
        except Exception:  # an agent that went away: nothing to tell
            pass
    os._exit(code)


def process_started() -> float:
    """When this process started, on time.monotonic()'s clock (Linux: the start
    time in /proc/self/stat, in clock ticks since boot); now where that is unknown."""
    import os

    now = time.monotonic()
    try:
        with open("/proc/self/stat", "rb") as handle:
            stat = handle.read()
        # Field 22 (starttime); the command name before it may hold spaces.
        ticks = int(stat[stat.rindex(b")") + 2 :].split()[19])
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - age if 0.0 <= age < _MAX_STARTUP_S else now


def budget_ms(deadline_ms: int | None) -> int:
    """The hook's deadline: the flag's, else the configuration's, else the default."""
    import os

    from driftcheck.daemon import client

    if deadline_ms is not None:
        return deadline_ms
    try:
        root = client.worktree_root(os.getcwd())
    except OSError:
        root = None
    return client.configured_deadline_ms(root) or DEFAULT_DEADLINE_MS


def _judge_here(deadline_ms: int | None, started: float, handoff: Handoff) -> None:
    """Run the agent hook in this process, in its turn (turns.py), under a hard
    stop at its deadline, then leave at once (never returns)."""
    from driftcheck.cli.turns import take_turn
    from driftcheck.deadline import HardStop, on_hard_stop

    until = started + budget_ms(deadline_ms) / 1000
    # The stop's thread needs the interpreter lock at the deadline: a busy main
    # thread hands it over after this long on the CPU (5 ms by default, which a
    # starved process takes many scheduler rounds to run).
    sys.setswitchinterval(0.001)
    # Cut short by the hard stop (before judging began, or while it ran), the hook
    # still starts the daemon the next edits need; a judgement that ends by itself
    # starts it in agent_hook. Told before the stop is armed: a deadline already
    # past stops at once. What to start is worked out after, under the stop: a hard
    # stop leaves a fraction of a second, which reading the configuration and
    # importing `subprocess` can take on a loaded machine (a stop that comes before
    # that is done works it out itself).
    known: list[tuple[str, float] | None] = []
    if handoff.daemon_missing:
        on_hard_stop(lambda: _start_daemon(known[0] if known else _daemon_wanted()))
    stop = HardStop(until, started)
    if handoff.daemon_missing:
        known.append(_daemon_wanted())
    if not take_turn(until - _NO_TURN_S):
        stop.claim()  # one line on stderr: this one, or the stop's if it came first
        print(_NO_TURN, file=sys.stderr)
        stop.leave(0)
    from driftcheck.cli.main import main

    stop.leave(main(handoff=handoff))


def _daemon_wanted() -> tuple[str, float] | None:
    """(common dir, idle minutes) of the daemon the configuration asks for, if any."""
    import os
    import subprocess  # noqa: F401 (imported now for start_in_background)
    from pathlib import Path

    from driftcheck.config import load_config
    from driftcheck.daemon import client

    try:
        cwd = os.getcwd()
        common, root = client.find_common_dir(cwd), client.worktree_root(cwd)
        if common is None or root is None:
            return None
        config = load_config(Path(root))
    except Exception:  # a broken configuration: the judgement says so, not this
        return None
    return (str(common), config.daemon_idle_minutes) if config.daemon else None


def _start_daemon(wanted: tuple[str, float] | None) -> None:
    from driftcheck.daemon import client

    if wanted is not None:
        client.start_in_background(wanted[0], idle_minutes=wanted[1])


def _hook_arguments(args: list[str]) -> tuple[str, bool | None, int | None] | None:
    """(agent, strict, deadline) for exactly `hook claude|codex [--strict|--no-strict]
    [--deadline-ms N]`; anything else (help, a typo) goes to the full command."""
    if len(args) < 2 or args[0] != "hook" or args[1] not in _AGENTS:
        return None
    strict: bool | None = None
    deadline: int | None = None
    rest = args[2:]
    while rest:
        flag = rest.pop(0)
        if flag in _FLAGS:
            strict = flag == "--strict"
        elif flag.startswith("--deadline-ms"):
            value = flag.partition("=")[2] if "=" in flag else (rest.pop(0) if rest else "")
            if not value.isdigit() or int(value) < 1:
                return None
            deadline = int(value)
        else:
            return None
    return args[1], strict, deadline


def _through_daemon(
    agent: str, strict: bool | None, deadline_ms: int | None, started: float, handoff: Handoff
) -> int | None:
    """The exit code once the daemon has answered; None to run the hook here (with
    what was learnt on the way in `handoff`)."""
    import os

    from driftcheck.daemon import client

    if not client.available() or sys.stdin is None or sys.stdin.isatty():
        return None
    try:
        cwd = os.getcwd()
    except OSError:
        return None
    # The hook runs in the agent's project: its repository is the daemon's. (An
    # edit elsewhere is still judged right: the daemon judges it in full.)
    common = client.find_common_dir(cwd)
    if common is None:
        return None
    handoff.stdin = raw = sys.stdin.buffer.read(client.MAX_STDIN_BYTES + 1)
    request = {
        "op": b"hook",
        "agent": agent.encode(),
        "strict": b"" if strict is None else b"1" if strict else b"0",
        "deadline_ms": b"" if deadline_ms is None else b"%d" % deadline_ms,
        "cwd": os.fsencode(cwd),
        "started": repr(started).encode(),  # CLOCK_MONOTONIC: one clock for all processes
        "payload": raw,
    }
    # The whole exchange fits in the hook's deadline: the daemon keeps the same
    # deadline, less a moment to answer in (agent_hook.py).
    budget = budget_ms(deadline_ms) / 1000
    try:
        answer = client.ask(common, request, started + budget - time.monotonic())
    except TimeoutError:
        print(_NO_ANSWER_IN_TIME, file=sys.stderr)
        return 0
    except (OSError, ValueError):
        handoff.daemon_missing = True  # none there, or it broke off: judge here, start one
        return None
    if answer.get("retry") or "stdout" not in answer:  # other code than ours: it is leaving
        handoff.daemon_missing = True
        return None
    stderr = answer.get("stderr", b"").decode("utf-8", "replace")
    if stderr:
        print(stderr, file=sys.stderr)
    if answer["stdout"]:
        print(answer["stdout"].decode("utf-8", "replace"))
    return 0
