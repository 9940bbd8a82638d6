"""Run a GitHub Actions workflow of several jobs locally: `needs`, job and step
outputs, a `strategy.matrix` from an earlier job's output, and the artifact actions.

Builds on tests/github_runner.py (one job's `run:` steps, the checkout, GitHub's
environment). Each job, and each matrix entry, gets its own runner folder and
workspace, as each gets its own machine on GitHub. What the runner itself does for a
workflow is done here: `actions/upload-artifact` copies a file into the run's artifact
store and `actions/download-artifact` copies the matching ones back out; other
`uses:` steps are recorded and skipped.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from github_runner import (
    Runner,
    absorb_github_env,
    checkout,
    github_env,
    load_workflow,
    resolve,
    run_step,
)
from helpers import git

_FROM_JSON = re.compile(r"^\$\{\{\s*fromJSON\((.*)\)\s*\}\}$")


@dataclass
class JobRun:
    """One job (one matrix entry) as it ran."""

    name: str
    code: int
    log: str
    env: dict[str, str]
    outputs: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed_step: str | None = None

    def file(self, variable: str) -> Path:
        return Path(self.env["GITHUB_WORKSPACE"]) / self.env[variable]


@dataclass
class WorkflowRun:
    jobs: dict[str, list[JobRun]]  # job id -> its runs (one per matrix entry)
    artifacts: Path

    def one(self, job: str) -> JobRun:
        (only,) = self.jobs[job]
        return only

    @property
    def log(self) -> str:
        return "\n".join(r.log for runs in self.jobs.values() for r in runs)


def _order(jobs: dict[str, Any]) -> list[str]:
    done: list[str] = []
    while len(done) < len(jobs):
        ready = [
            name for name, job in jobs.items() if name not in done and set(_needs(job)) <= set(done)
        ]
        assert ready, "the jobs' `needs` form a cycle"
        done.extend(ready)
    return done


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def run_workflow(
    root: Path,
    workflow_path: Path,
    origin: Path,
    event: str,
    pr: int | None = None,
    *,
    repository: str,
    wheel: Path | None,
    tools: dict[str, str] | None = None,
    context: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    only: list[str] | None = None,
) -> WorkflowRun:
    """Every job in the order `needs` gives; a job whose needs failed does not run."""
    workflow = load_workflow(workflow_path)
    jobs: dict[str, Any] = workflow["jobs"]
    artifacts = root / "artifacts"
    artifacts.mkdir(parents=True)
    result = WorkflowRun({}, artifacts)
    outputs: dict[str, dict[str, str]] = {}
    for name in _order(jobs):
        if only is not None and name not in only:
            continue
        job = jobs[name]
        if any(
            dep not in result.jobs or any(r.code for r in result.jobs[dep]) for dep in _needs(job)
        ):
            continue
        shared = {**(context or {})}
        for key, value in (inputs or {}).items():
            shared[f"inputs.{key}"] = value
        for dep in _needs(job):
            for key, value in outputs.get(dep, {}).items():
                shared[f"needs.{dep}.outputs.{key}"] = value
        entries = _matrix(job, shared)
        runs = []
        for n, entry in enumerate(entries):
            local = {**shared, **{f"matrix.{k}": str(v) for k, v in entry.items()}}
            folder = root / (f"{name}-{n + 1}" if entry else name)
            runner = Runner.create(folder, tools)
            runner.wheel = wheel
            runs.append(
                _run_one(
                    name, runner, workflow, job, origin, event, pr, repository, local, extra_env
                )
            )
        result.jobs[name] = runs
        if len(runs) == 1 and not entries[0]:
            outputs[name] = runs[0].outputs
    return result


def _matrix(job: dict[str, Any], context: dict[str, str]) -> list[dict[str, Any]]:
    """The matrix entries: one axis, a list or `${{ fromJSON(<known value>) }}`."""
    matrix = (job.get("strategy") or {}).get("matrix")
    if not matrix:
        return [{}]
    ((axis, values),) = matrix.items()
    if isinstance(values, str):
        match = _FROM_JSON.match(values.strip())
        assert match, f"the test runner reads a matrix from fromJSON(...) only: {values}"
        expr = match.group(1).strip()
        assert expr in context, f"unknown expression in the matrix: {expr}"
        values = json.loads(context[expr])
    assert isinstance(values, list) and values, "a matrix axis needs a non-empty list"
    assert len(values) <= 256, "GitHub runs at most 256 jobs of a matrix"
    return [{axis: v} for v in values]


def _run_one(
    name: str,
    runner: Runner,
    workflow: dict[str, Any],
    job: dict[str, Any],
    origin: Path,
    event: str,
    pr: int | None,
    repository: str,
    context: dict[str, str],
    extra_env: dict[str, str] | None,
) -> JobRun:
    steps = job["steps"]
    if any(str(s.get("uses", "")).startswith("actions/checkout@") for s in steps):
        checkout(origin, runner.workspace, pr, shallow=_depth(steps) != 0)
    else:
        runner.workspace.mkdir()  # an empty workspace; GITHUB_SHA is the trunk's head
        git("init", "-q", str(runner.workspace), cwd=runner.workspace.parent)
        head = git("rev-parse", "refs/heads/main", cwd=origin)
        git("fetch", "-q", origin.as_uri(), head, cwd=runner.workspace)
        git("checkout", "-q", "--detach", head, cwd=runner.workspace)
    env = {**runner.base_env(), **github_env(runner, event, pr, repository)}
    if runner.wheel is not None:
        env["DRIFTCHECK_PIP_SPEC"] = str(runner.wheel)
    context = {"github.ref": env["GITHUB_REF"], **context}
    for scope in (workflow.get("env") or {}, job.get("env") or {}):
        env.update({k: resolve(v, env, context) for k, v in scope.items()})
    env.update(extra_env or {})
    shell = job.get("defaults", {}).get("run", {}).get("shell")
    run = JobRun(name, 0, "", env)
    step_outputs: dict[str, dict[str, str]] = {}
    output_file = Path(env["GITHUB_OUTPUT"])
    for index, step in enumerate(steps):
        title = step.get("name") or f"step {index}"
        if "uses" in step:
            _action(step, env, context, runner, run)
            continue
        proc = run_step(step, index, shell, env, context, runner)
        run.ran.append(title)
        run.log += f"## {name}: {title}\n{proc.stdout}{proc.stderr}"
        if proc.returncode != 0:
            run.code, run.failed_step = proc.returncode, title
            return run
        absorb_github_env(env)
        if "id" in step:
            step_outputs[step["id"]] = _pairs(output_file.read_text())
        output_file.write_text("")  # each step gets its own outputs file on GitHub
    for key, value in step_outputs.items():
        for out, text in value.items():
            context[f"steps.{key}.outputs.{out}"] = text
    run.outputs = {k: resolve(v, env, context) for k, v in (job.get("outputs") or {}).items()}
    return run


def _depth(steps: list[dict[str, Any]]) -> int:
    for step in steps:
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            return int((step.get("with") or {}).get("fetch-depth", 1))
    return 1


def _pairs(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        assert sep, f"the test runner reads `name=value` outputs only: {line!r}"
        found[key] = value
    return found


def _action(
    step: dict[str, Any], env: dict[str, str], context: dict[str, str], runner: Runner, run: JobRun
) -> None:
    """The artifact actions, as the runner's own storage; any other action is skipped."""
    uses = str(step["uses"])
    given = {k: resolve(v, env, context) for k, v in (step.get("with") or {}).items()}
    store = runner.root.parent / "artifacts"
    workspace = runner.workspace
    if uses.startswith("actions/upload-artifact@"):
        source = workspace / given["path"]
        assert source.is_file(), f"upload-artifact: no file {given['path']}"
        target = store / given["name"]
        assert not target.exists(), f"upload-artifact: {given['name']} uploaded twice"
        target.mkdir(parents=True)
        shutil.copy2(source, target / source.name)
    elif uses.startswith("actions/download-artifact@"):
        into = workspace / given.get("path", ".")
        for artifact in sorted(store.iterdir()):
            if not fnmatch.fnmatchcase(artifact.name, given.get("pattern", "*")):
                continue
            folder = (
                into if str(given.get("merge-multiple")).lower() == "true" else into / artifact.name
            )
            folder.mkdir(parents=True, exist_ok=True)
            for item in artifact.iterdir():
                shutil.copy2(item, folder / item.name)
    run.skipped.append(uses)
