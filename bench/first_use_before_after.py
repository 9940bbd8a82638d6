"""First use, before and after (#20 items 1, 2, 5 and 6): the same steps with two
installations of driftcheck, side by side.

    .venv/bin/python bench/first_use_before_after.py \
        --before /work/eval-base/.venv/bin/python --after .venv/bin/python \
        > bench/first_use/before_after.txt

Each step runs the CLI as a user would, in a fresh repository with two worktrees
(`a` changes greet's signature; `b` calls it the old way):
1. `driftcheck install claude` with no driftcheck on PATH: its output, and the
   PreToolUse command it wrote into .claude/settings.json;
2. `scan` when the two worktrees hold different untracked .claude/settings.json;
3. (item 5) the Claude Code hook's answer to b's agent writing the stale call;
4. (item 6) `hook pre-commit` in b with nothing staged, its drift already committed.
Hooks judge in their own process (DRIFTCHECK_DAEMON=0): no daemon is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

APP = "def greet(name):\n    return 'hi ' + name\n"
USE = "from app import greet\n\n\ndef hello():\n    return greet('x')\n"


IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def git(*args: str, cwd: Path) -> None:
    env = {**os.environ, **IDENTITY}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def run(python: str, *args: str, cwd: Path, stdin: str | None = None) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "PATH": "/usr/local/bin:/usr/bin:/bin",  # no driftcheck on PATH
        "DRIFTCHECK_DAEMON": "0",
        "NO_COLOR": "1",
        "PYTHONSAFEPATH": "1",
        **IDENTITY,
    }
    proc = subprocess.run(
        [python, "-m", "driftcheck", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


def build(root: Path) -> tuple[Path, Path, Path]:
    repo = root / "repo"
    repo.mkdir()
    git("init", "-q", "-b", "main", cwd=repo)
    (repo / "app.py").write_text(APP)
    git("add", "app.py", cwd=repo)
    git("commit", "-q", "-m", "base", cwd=repo)
    a, b = root / "a", root / "b"
    git("worktree", "add", "-q", "-b", "a", str(a), cwd=repo)
    git("worktree", "add", "-q", "-b", "b", str(b), cwd=repo)
    (a / "app.py").write_text(APP.replace("greet(name)", "greet(name, loud)"))
    return repo, a, b


def shown(code: int, out: str, err: str) -> str:
    lines = [f"exit {code}"]
    lines += [f"  stdout| {line}" for line in out.rstrip("\n").splitlines()]
    lines += [f"  stderr| {line}" for line in err.rstrip("\n").splitlines()]
    return "\n".join(lines)


def steps(python: str) -> list[tuple[str, str]]:
    done: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="dc-first-use-") as tmp:
        repo, a, b = build(Path(tmp))
        shorten = lambda text: text.replace(tmp, "$TMP")  # noqa: E731

        # 1. install claude, driftcheck not on PATH
        result = run(python, "install", "claude", cwd=b)
        settings = json.loads((b / ".claude" / "settings.json").read_text())
        commands = [
            hook["command"]
            for entry in settings.get("hooks", {}).get("PreToolUse", [])
            for hook in entry.get("hooks", [])
        ]
        text = shown(*result) + "\n  written PreToolUse command(s):\n"
        text += "\n".join(f"    {c}" for c in commands)
        done.append(("1. driftcheck install claude (no driftcheck on PATH)", shorten(text)))

        # 2. differing untracked .claude/settings.json in two worktrees
        (a / ".claude").mkdir(exist_ok=True)
        (a / ".claude" / "settings.json").write_text('{"hooks": {}, "model": "a"}\n')
        result = run(python, "scan", cwd=repo)
        done.append(("2. scan: a and b hold different untracked .claude/settings.json",
                     shorten(shown(*result))))  # fmt: skip

        # 5. the agent hook's answer to a stale call
        proposal = {
            "session_id": "s-1",
            "hook_event_name": "PreToolUse",
            "tool_name": "Write",
            "tool_input": {"file_path": str(b / "use.py"), "content": USE},
            "cwd": str(b),
        }
        code, out, err = run(python, "hook", "claude", cwd=b, stdin=json.dumps(proposal))
        try:
            answer = json.loads(out)["hookSpecificOutput"]
            text = f"exit {code}\n  decision: {answer.get('permissionDecision')}\n"
            for key in ("permissionDecisionReason", "additionalContext"):
                if answer.get(key):
                    text += f"  {key}:\n" + "\n".join(
                        f"    | {line}" for line in answer[key].splitlines()
                    )
                    text += "\n"
        except (ValueError, KeyError, TypeError):
            text = shown(code, out, err)
        done.append(("5. hook claude: b's agent writes greet('x')", shorten(text.rstrip())))

        # 6. pre-commit with nothing staged, the drift committed before
        (b / "use.py").write_text(USE)
        git("add", "use.py", cwd=b)
        git("commit", "-q", "-m", "use greet", cwd=b)
        result = run(python, "hook", "pre-commit", cwd=b)
        done.append(("6. hook pre-commit in b: nothing staged, drift already committed",
                     shorten(shown(*result))))  # fmt: skip
    return done


def version(python: str) -> str:
    where = subprocess.run(
        [python, "-P", "-c", "import driftcheck, os; print(os.path.dirname(driftcheck.__file__))"],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", where, "log", "-1", "--format=%h %s"], capture_output=True, text=True
    ).stdout.strip()
    return f"{python} (driftcheck in {where}, commit {commit[:90]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="python of the old installation")
    parser.add_argument("--after", required=True, help="python of the new installation")
    args = parser.parse_args()
    before, after = steps(args.before), steps(args.after)
    print(f"before: {version(args.before)}")
    print(f"after:  {version(args.after)}")
    for (title, old), (_, new) in zip(before, after, strict=True):
        print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")
        print("--- before ---")
        print(old)
        print("--- after ---")
        print(new)


if __name__ == "__main__":
    main()
