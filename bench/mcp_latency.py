"""MCP tool-call latency, answered by the daemon, on the benchmark repository.

Builds (or reuses) the workload of bench/run.py: Django's sdist with N drifting
worktrees. Starts the repository's daemon, opens a real MCP session over stdio with
the SDK's own client against `driftcheck mcp` in the first worktree, warms up, and
times each tool call from the client's side (request sent to result received).
Checks through `driftcheck daemon status` that the daemon answered every timed call;
a row that timed the in-process fallback would be meaningless.

    .venv/bin/python bench/mcp_latency.py            # --samples N, --worktrees N, --root DIR
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import add_worktrees, build_base

DAEMON = {**os.environ, "DRIFTCHECK_DAEMON": "1"}
DRIFTCHECK = [sys.executable, "-m", "driftcheck"]
TARGET_P50_MS = 100.0


def daemon(*args: str, repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DRIFTCHECK, "daemon", *args, "--repo", str(repo)],
        cwd=repo,
        env=DAEMON,
        capture_output=True,
        text=True,
        check=False,
    )


def requests(repo: Path) -> int:
    found = daemon("status", repo=repo)
    return int(json.loads(found.stdout)["requests"]) if found.returncode == 0 else -1


def calls(worktree: Path) -> list[tuple[str, dict[str, Any]]]:
    text = (worktree / "django/utils/text.py").read_text()
    proposal = text.replace("def capfirst(x):", "def capfirst(x):\n    # bench edit", 1)
    return [
        ("list_claims", {}),
        ("who_is_changing", {"path": "django/utils/functional.py"}),
        (
            "who_is_changing",
            {"path": "django/utils/text.py", "symbol": "django.utils.text.capfirst"},
        ),
        ("check_edit", {"path": "django/utils/text.py", "content": proposal}),
        ("drift_status", {}),
    ]


async def measure(worktree: Path, samples: int) -> dict[str, list[float]]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "driftcheck", "mcp"], cwd=str(worktree), env=DAEMON
    )
    timings: dict[str, list[float]] = {}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        plan = calls(worktree)
        for name, args in plan * 2:  # warm: tables parsed, pairs cached
            await session.call_tool(name, args)
        for _ in range(samples):
            for name, args in plan:
                label = name if "symbol" not in args else f"{name} (symbol)"
                started = time.perf_counter()
                result = await session.call_tool(name, args)
                timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
                if result.isError:
                    raise SystemExit(f"{name} failed: {result.structuredContent}")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--worktrees", type=int, default=3)
    parser.add_argument("--root", type=Path, help="Where to build (default: a temp folder).")
    options = parser.parse_args()
    root = options.root or Path(tempfile.mkdtemp(prefix="driftcheck-mcp-bench-"))
    repo = build_base(root)
    worktrees = add_worktrees(repo, options.worktrees)
    daemon("stop", repo=repo)
    if daemon("start", repo=repo).returncode != 0:
        raise SystemExit("the daemon did not start (Linux only; DRIFTCHECK_DAEMON=0 set?)")
    try:
        before = requests(repo)
        timings = anyio.run(measure, worktrees[0], options.samples)
        answered = requests(repo) - before
    finally:
        daemon("stop", repo=repo)
    expected = sum(len(v) for v in timings.values()) + 2 * len(calls(worktrees[0]))
    if answered < expected:
        raise SystemExit(f"the daemon answered {answered} of {expected} calls")
    print(f"MCP tool calls answered by the daemon: {repo} ({options.worktrees} worktrees)")
    print(f"{'tool':<30} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    every: list[float] = []
    for label, values in timings.items():
        every += values
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"{label:<30} {statistics.median(values):8.1f} {p95:8.1f} {max(values):8.1f}")
    overall = statistics.median(every)
    verdict = "ok" if overall <= TARGET_P50_MS else "over"
    print(f"{'all calls':<30} {overall:8.1f}   (target p50 <= {TARGET_P50_MS:.0f} ms: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
