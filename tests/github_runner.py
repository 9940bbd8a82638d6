"""Run a GitHub Actions workflow's `run:` steps locally, the way a hosted runner would.

Enough of a runner for driftcheck's own workflow: the checkout (what actions/checkout
does with full history), the environment GitHub gives each step (`GITHUB_*`,
`RUNNER_TEMP`, `$GITHUB_ENV` carried between steps), the few `${{ }}` expressions used
outside `run:` blocks, and a Python in which the workflow's own install step installs a
wheel of this source tree. `uses:` steps are recorded and skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from helpers import git
from sarif_schema import cache_dir, real_env

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
DEFAULT_BRANCH = "main"


# --- the workflow file ------------------------------------------------------------


def load_workflow(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def the_job(workflow: dict[str, Any]) -> dict[str, Any]:
    jobs = workflow["jobs"]
    assert len(jobs) == 1, "the workflow has one job"
    job: dict[str, Any] = next(iter(jobs.values()))
    return job


def step_named(job: dict[str, Any], prefix: str) -> tuple[int, dict[str, Any]]:
    found = [(i, s) for i, s in enumerate(job["steps"]) if s.get("name", "").startswith(prefix)]
    assert len(found) == 1, f"exactly one step named {prefix!r}..."
    return found[0]


def resolve(value: object, env: dict[str, str], context: dict[str, str]) -> str:
    """Evaluate `${{ env.X }}` and the context values the test knows; others fail."""

    def one(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr.startswith("env."):
            return env[expr[4:]]
        assert expr in context, f"the test does not know the expression ${{{{ {expr} }}}}"
        return context[expr]

    return EXPRESSION.sub(one, str(value))


# --- driftcheck as a wheel --------------------------------------------------------


def _sources(root: Path) -> list[Path]:
    files = [root / "pyproject.toml", root / "README.md", *sorted((root / "driftcheck").rglob("*"))]
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts]


def build_wheel(root: Path) -> Path:
    """A wheel of the source tree at `root`, built from a copy (the tree is not touched).

    Cached outside the repository by a hash of the sources, so a session builds it once
    and a later session with the same sources not at all; a lock keeps parallel test
    workers from building it twice.
    """
    sources = _sources(root)
    digest = hashlib.sha256()
    for path in sources:
        digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes() + b"\0")
    wheels = cache_dir() / "wheels"
    target = wheels / digest.hexdigest()[:20]
    wheels.mkdir(parents=True, exist_ok=True)
    with (wheels / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if built := sorted(target.glob("driftcheck-*.whl")):
            return built[0]
        with tempfile.TemporaryDirectory(prefix="driftcheck-wheel-") as tmp:
            src = Path(tmp) / "src"
            for path in sources:
                copy = src / path.relative_to(root)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, copy)
            dist = Path(tmp) / "dist"
            command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist)]
            proc = subprocess.run(
                [*command, str(src)],
                env=real_env(),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert proc.returncode == 0, f"building the driftcheck wheel failed:\n{proc.stderr}"
            _prune(wheels)
            shutil.copytree(dist, target)
    (wheel,) = target.glob("driftcheck-*.whl")
    return wheel


def _prune(wheels: Path, max_age: float = 7 * 86400) -> None:
    for old in wheels.iterdir():
        with contextlib.suppress(OSError):
            if old.is_dir() and time.time() - old.stat().st_mtime > max_age:
                shutil.rmtree(old)


# --- the runner -------------------------------------------------------------------


@dataclass
class Runner:
    """A stand-in for a GitHub-hosted runner: its folders, a Python, extra tools."""

    root: Path
    workspace: Path
    bin: Path
    wheel: Path | None = None

    @classmethod
    def create(cls, root: Path, tools: dict[str, str] | None = None) -> Runner:
        venv = root / "python"
        # actions/setup-python's part: a fresh Python whose dependencies are already
        # there (this interpreter's), so the install step needs only the wheel.
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        scheme = sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})
        (Path(scheme["purelib"]) / "_runner_dependencies.pth").write_text(
            sysconfig.get_paths()["purelib"] + "\n"
        )
        bin_dir = Path(scheme["scripts"])
        for name, script in (tools or {}).items():
            (bin_dir / name).write_text(script)
            (bin_dir / name).chmod(0o755)
        workspace = root / "work" / "repo"
        workspace.parent.mkdir(parents=True)
        (root / "temp").mkdir()
        return cls(root, workspace, bin_dir)

    def base_env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "DRIFTCHECK_", "RUNNER_"))
            and k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
        }
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        return env


def checkout(origin: Path, workspace: Path, pr: int | None, *, shallow: bool = False) -> None:
    """What actions/checkout does: a PR's merge commit detached, or the branch.

    `fetch-depth: 0` (full history) unless `shallow`, which is its default depth 1.
    """
    git("init", "-q", str(workspace), cwd=workspace.parent)
    git("remote", "add", "origin", origin.as_uri(), cwd=workspace)  # a URL, as on GitHub
    depth = ["--depth=1"] if shallow else []
    heads = "+refs/heads/*:refs/remotes/origin/*"
    git("fetch", "-q", *depth, "--prune", "origin", heads, cwd=workspace)
    if pr is None:
        git(
            "checkout",
            "-q",
            "-B",
            DEFAULT_BRANCH,
            f"refs/remotes/origin/{DEFAULT_BRANCH}",
            cwd=workspace,
        )
        return
    merge = f"refs/remotes/pull/{pr}/merge"
    git("fetch", "-q", *depth, "origin", f"+refs/pull/{pr}/merge:{merge}", cwd=workspace)
    git("checkout", "-q", "--detach", merge, cwd=workspace)


def github_env(runner: Runner, event: str, pr: int | None, repository: str) -> dict[str, str]:
    """The variables GitHub sets for every step of a `pull_request` or `schedule` run."""
    payload: dict[str, Any] = {"repository": {"full_name": repository}}
    if pr is not None:
        payload["pull_request"] = {
            "number": pr,
            "base": {"ref": DEFAULT_BRANCH},
            "head": {"ref": f"pr-{pr}", "repo": {"full_name": repository}},
        }
    (runner.root / "event.json").write_text(json.dumps(payload))
    env = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(runner.root / "event.json"),
        "GITHUB_REPOSITORY": repository,
        "GITHUB_WORKSPACE": str(runner.workspace),
        "GITHUB_STEP_SUMMARY": str(runner.root / "step_summary.md"),
        "GITHUB_ENV": str(runner.root / "github_env"),
        "GITHUB_OUTPUT": str(runner.root / "github_output"),
        "GITHUB_SHA": git("rev-parse", "HEAD", cwd=runner.workspace),
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": str(runner.root / "temp"),
        # The runner's pip installs the wheel alone: the dependencies are there.
        "PIP_NO_INDEX": "1",
        "PIP_NO_DEPS": "1",
        "PIP_IGNORE_INSTALLED": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    if pr is None:
        env.update(GITHUB_REF=f"refs/heads/{DEFAULT_BRANCH}", GITHUB_REF_NAME=DEFAULT_BRANCH)
        env.update(GITHUB_BASE_REF="", GITHUB_HEAD_REF="")
    else:
        env.update(GITHUB_REF=f"refs/pull/{pr}/merge", GITHUB_REF_NAME=f"{pr}/merge")
        env.update(GITHUB_BASE_REF=DEFAULT_BRANCH, GITHUB_HEAD_REF=f"pr-{pr}")
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_OUTPUT"):
        Path(env[name]).touch()
    return env


@dataclass
class Job:
    code: int
    log: str
    env: dict[str, str]
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_step: str | None = None

    def file(self, variable: str) -> Path:
        """A report file the workflow names in an environment variable."""
        return Path(self.env["GITHUB_WORKSPACE"]) / self.env[variable]


def run_job(
    runner: Runner,
    workflow_path: Path,
    origin: Path,
    event: str,
    pr: int | None = None,
    *,
    repository: str,
    context: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    stop_after: str | None = None,
    shallow: bool = False,
) -> Job:
    """Check out `origin`, then run the job's `run:` steps in order, stopping at a failure."""
    checkout(origin, runner.workspace, pr, shallow=shallow)
    workflow = load_workflow(workflow_path)
    job_def = the_job(workflow)
    shell = job_def.get("defaults", {}).get("run", {}).get("shell")
    env = {**runner.base_env(), **github_env(runner, event, pr, repository)}
    if runner.wheel is not None:
        env["DRIFTCHECK_PIP_SPEC"] = str(runner.wheel)
    context = {"github.ref": env["GITHUB_REF"], **(context or {})}
    for scope in (workflow.get("env") or {}, job_def.get("env") or {}):
        env.update({k: resolve(v, env, context) for k, v in scope.items()})
    env.update(extra_env or {})
    job = Job(0, "", env)
    for index, step in enumerate(job_def["steps"]):
        name = step.get("name") or f"step {index}"
        if "uses" in step:
            job.skipped.append(step["uses"])
            continue
        proc = run_step(step, index, shell, env, context, runner)
        job.ran.append(name)
        job.log += f"## {name}\n{proc.stdout}{proc.stderr}"
        if proc.returncode != 0:
            job.code, job.failed_step = proc.returncode, name
            return job
        absorb_github_env(env)
        if stop_after and name.startswith(stop_after):
            break
    return job


def run_step(
    step: dict[str, Any],
    index: int,
    shell: str | None,
    env: dict[str, str],
    context: dict[str, str],
    runner: Runner,
) -> subprocess.CompletedProcess[str]:
    """One `run:` step, as GitHub runs it for `shell: bash`."""
    name = step.get("name") or f"step {index}"
    assert (step.get("shell") or shell) == "bash", f"{name}: run steps are bash"
    step_env = {**env, **{k: resolve(v, env, context) for k, v in step.get("env", {}).items()}}
    script = runner.root / f"step-{index}.sh"
    script.write_text(step["run"])
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=str(runner.workspace),
        env=step_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def absorb_github_env(env: dict[str, str]) -> None:
    """What a step wrote to $GITHUB_ENV holds for the steps after it."""
    for line in Path(env["GITHUB_ENV"]).read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key] = value


def assert_shellcheck_clean(step: dict[str, Any]) -> None:
    """A `run:` step passes shellcheck, read with GitHub's bash options."""
    script = "set -eo pipefail\n" + step["run"]
    check = subprocess.run(
        ["shellcheck", "-s", "bash", "-"], input=script, text=True, capture_output=True, check=False
    )
    assert check.returncode == 0, f"{step.get('name')}:\n{check.stdout}"
