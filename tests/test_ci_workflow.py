"""The GitHub workflow (hooks/github/driftcheck.yml), run without GitHub.

A bare "origin" holds a trunk and pull requests as GitHub stores them
(`refs/pull/N/head`, `refs/pull/N/merge`). A clone stands in for actions/checkout;
then every `run:` step of the workflow is executed in order with bash, with the
environment GitHub would give it (`uses:` steps are skipped, but checked). A stub
`gh` answers which pull requests are open. driftcheck itself is installed by the
workflow's own install step, from a wheel built from this source tree.

The pull requests: #1 adds a parameter to `total()`; #2 adds a call with the old
arity (stale caller, with #1); #3 sets TIMEOUT where main set it differently
(textual conflict and contradicting edit, with main); #4 only touches docs; #5 is
closed (its ref remains, as on GitHub) and must not take part.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from github_runner import (
    Job,
    Runner,
    assert_shellcheck_clean,
    build_wheel,
    load_workflow,
    resolve,
    run_job,
    step_named,
    the_job,
)
from helpers import commit_all, git, init_repo, run_cli, write
from sarif_schema import assert_valid_sarif

from driftcheck.report.markdown import MARKER

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "hooks" / "github" / "driftcheck.yml"
PRE_COMMIT_HOOKS = ROOT / ".pre-commit-hooks.yaml"
REPOSITORY = "acme/shop"
PR_GLOB = "refs/remotes/origin/pr/*"

BASE = {
    "app/__init__.py": "",
    "app/calc.py": (
        "def total(items):\n    return sum(items)\n\n\n"
        "def average(items):\n    return total(items) / len(items)\n"
    ),
    "app/config.py": 'NAME = "shop"\nTIMEOUT = 30\nRETRIES = 3\n',
    "docs/notes.md": "# Notes\n",
}
PULLS: dict[int, dict[str, str | bytes]] = {
    1: {
        "app/calc.py": (
            "def total(items, tax):\n    return sum(items) * (1 + tax)\n\n\n"
            "def average(items):\n    return total(items, 0) / len(items)\n"
        )
    },
    2: {
        "app/report.py": (
            "from app.calc import total\n\n\n"
            "def summary(items):\n"
            '    return f"total: {total(items)}"\n'
        )
    },
    3: {"app/config.py": 'NAME = "shop"\nTIMEOUT = 60\nRETRIES = 3\n'},
    4: {"docs/notes.md": "# Notes\n\nRelease notes live here.\n"},
    5: {"app/config.py": 'NAME = "shop"\nTIMEOUT = 99\nRETRIES = 0\n'},
}
OPEN = (1, 2, 3, 4)
MAIN_LATER: dict[str, str | bytes] = {"app/config.py": 'NAME = "shop"\nTIMEOUT = 10\nRETRIES = 3\n'}
GH_STUB = """#!/usr/bin/env bash
# Stands in for the GitHub CLI: `gh pr list ... --json number --jq '.[].number'`.
printf '%s|%s\\n' "${GH_TOKEN:-}" "$*" >> "$GH_STUB_LOG"
[ "$1 $2" = "pr list" ] || { echo "gh stub: unexpected: $*" >&2; exit 64; }
printf '%s\\n' $GH_STUB_OPEN
"""


# --- a GitHub-like world ----------------------------------------------------------


def build_origin(root: Path) -> Path:
    """A bare repository laid out like a GitHub repository with pull requests."""
    src = init_repo(root / "src", dict(BASE))
    base = git("rev-parse", "HEAD", cwd=src)
    for number, files in PULLS.items():
        git("checkout", "-q", "-b", f"pr-{number}", base, cwd=src)
        write(src, files)
        commit_all(src, f"pull request {number}")
    git("checkout", "-q", "main", cwd=src)
    write(src, MAIN_LATER)
    commit_all(src, "main moves on")
    origin = root / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=root)
    refspecs = ["main:refs/heads/main"]
    for number in PULLS:
        refspecs.append(f"pr-{number}:refs/pull/{number}/head")
        merge = ["git", "merge-tree", "--write-tree", "main", f"pr-{number}"]
        merged = subprocess.run(merge, cwd=src, capture_output=True, text=True, check=False)
        if merged.returncode == 0 and number in OPEN:  # GitHub has no merge ref otherwise
            parents = ["-p", "main", "-p", f"pr-{number}"]
            commit = git("commit-tree", merged.stdout.split()[0], *parents, "-m", "m", cwd=src)
            refspecs.append(f"{commit}:refs/pull/{number}/merge")
    git("push", "-q", str(origin), *refspecs, cwd=src)
    return origin


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return build_origin(tmp_path / "github")


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner.create(tmp_path / "runner", {"gh": GH_STUB})


@pytest.fixture(scope="session")
def driftcheck_wheel() -> Path:
    return build_wheel(ROOT)


@pytest.fixture
def installing_runner(runner: Runner, driftcheck_wheel: Path) -> Runner:
    """A runner whose install step installs the wheel of this source tree."""
    runner.wheel = driftcheck_wheel
    return runner


def run(runner: Runner, origin: Path, event: str, pr: int | None = None, **kw: Any) -> Job:
    token = kw.pop("token", "test-token")
    stub = {"GH_STUB_LOG": str(runner.root / "gh.log"), "GH_STUB_OPEN": " ".join(map(str, OPEN))}
    kw["extra_env"] = {**stub, **kw.get("extra_env", {})}
    context = {"github.token": token}
    return run_job(
        runner, WORKFLOW, origin, event, pr, repository=REPOSITORY, context=context, **kw
    )


# --- what a run must show ---------------------------------------------------------


def scan_json(job: Job, focus: str | None) -> dict[str, Any]:
    """The same scan as JSON, on the mirror the workflow scanned."""
    mirror = Path(job.env["RUNNER_TEMP"]) / "driftcheck-repo.git"
    assert mirror.is_dir(), "the scan step scans a bare mirror in RUNNER_TEMP"
    args = ["scan", "--repo", str(mirror), "--refs", PR_GLOB, "--trunk", "origin/main"]
    args += ["--focus", focus] if focus else []
    result = run_cli(*args, "--format", "json", "--fail-on", "never", cwd=job.env["RUNNER_TEMP"])
    assert result.code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def check_sarif(job: Job, report: dict[str, Any]) -> list[dict[str, Any]]:
    """One result per finding, in order, and valid against the official schema."""
    _, upload = step_named(the_job(load_workflow(WORKFLOW)), "Upload the SARIF")
    uploaded = Path(job.env["GITHUB_WORKSPACE"]) / resolve(
        upload["with"]["sarif_file"], job.env, {}
    )
    assert uploaded == job.file("DRIFTCHECK_SARIF") and uploaded.is_file()
    log = json.loads(uploaded.read_text(encoding="utf-8"))
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    findings = report["findings"]
    assert len(results) == len(findings)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for result, finding in zip(results, findings, strict=True):
        assert result["ruleId"] == finding["code"]
        assert result["level"] == levels[finding["severity"]]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == finding["path"]
        assert physical.get("region", {}).get("startLine") == finding["line"]
        for name in finding["participants"]:
            assert name in result["message"]["text"]
    assert_valid_sarif(log)
    return results


def cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def check_summary(job: Job, report: dict[str, Any]) -> str:
    """The step summary: a matrix of every participant, then findings per participant."""
    summary = Path(job.env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert summary == job.file("DRIFTCHECK_MARKDOWN").read_text(encoding="utf-8") + "\n"
    lines = summary.splitlines()
    assert lines[0] == MARKER
    assert lines[1].startswith("### ") and "driftcheck:" in lines[1]
    names = [p["name"] for p in report["participants"]]
    start = next(i for i, line in enumerate(lines) if line.startswith("| Participant |"))
    header = cells(lines[start])
    assert header[1 : 1 + len(names)] == [f"`{n}`" for n in names]
    rows = lines[start + 2 : start + 2 + len(names)]
    assert [cells(r)[0].split()[0] for r in rows] == [f"`{n}`" for n in names]
    assert all(len(cells(r)) == len(header) for r in rows)
    involved = [n for n in names if any(n in f["participants"] for f in report["findings"])]
    sections = re.findall(r"^#### `([^`]+)` — ", summary, flags=re.MULTILINE)
    assert sections == involved
    for finding in report["findings"]:
        assert finding["code"] in summary
    return summary


# --- tests ------------------------------------------------------------------------


def test_workflow_triggers_permissions_and_steps() -> None:
    workflow = load_workflow(WORKFLOW)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers
    (cron,) = [entry["cron"] for entry in triggers["schedule"]]
    assert len(cron.split()) == 5
    permissions = workflow["permissions"]
    assert permissions["security-events"] == "write"
    assert permissions["contents"] == "read"
    assert permissions["pull-requests"] == "read"

    job = the_job(workflow)
    assert job["defaults"]["run"]["shell"] == "bash"
    _, checkout_step = step_named(job, "Check out")
    assert checkout_step["uses"].startswith("actions/checkout@")
    assert checkout_step["with"]["fetch-depth"] == 0
    _, fetch = step_named(job, "Fetch")
    assert "'+refs/pull/*/head:refs/remotes/origin/pr/*'" in fetch["run"]

    installs = [s for s in job["steps"] if "pip install" in s.get("run", "")]
    assert len(installs) == 1 and installs[0]["name"] == "Install driftcheck"
    assert '"${DRIFTCHECK_PIP_SPEC:-driftcheck}"' in installs[0]["run"]

    scan_at, scan = step_named(job, "Scan")
    assert '--format sarif --output "$DRIFTCHECK_SARIF"' in scan["run"]
    assert f"--refs '{PR_GLOB}'" in scan["run"]
    summary_at, summary = step_named(job, "Write the job summary")
    assert '>> "${GITHUB_STEP_SUMMARY' in summary["run"]
    upload_at, upload = step_named(job, "Upload the SARIF")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    sarif_file = resolve(upload["with"]["sarif_file"], workflow["env"], {})
    assert sarif_file == workflow["env"]["DRIFTCHECK_SARIF"]
    verdict_at, _ = step_named(job, "Fail when")
    assert scan_at < summary_at < upload_at < verdict_at == len(job["steps"]) - 1

    for step in job["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"{step['name']}: keep run steps plain bash"
            assert "if" not in step, f"{step['name']}: decide in bash, not in `if:`"
            check = subprocess.run(["bash", "-n"], input=step["run"], text=True, check=False)
            assert check.returncode == 0, f"{step['name']}: bash syntax error"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_run_steps_pass_shellcheck() -> None:
    for step in the_job(load_workflow(WORKFLOW))["steps"]:
        if "run" in step:
            assert_shellcheck_clean(step)


@pytest.mark.parametrize(
    ("pr", "other"),
    [
        pytest.param(2, "origin/pr/1", id="stale-caller"),
        pytest.param(1, "origin/pr/2", id="changer"),
    ],
)
def test_pull_request_with_error_findings_fails_its_job(
    installing_runner: Runner, origin: Path, pr: int, other: str
) -> None:
    runner = installing_runner
    job = run(runner, origin, "pull_request", pr)
    assert job.code == 1, job.log
    assert job.failed_step is not None and job.failed_step.startswith("Fail when"), job.log
    assert f"::error title=driftcheck::pull request #{pr}" in job.log
    assert "github/codeql-action/upload-sarif@v3" in job.skipped  # ran before the verdict

    report = scan_json(job, f"origin/pr/{pr}")
    assert [p["name"] for p in report["participants"]] == [
        "origin/main",
        *(f"origin/pr/{n}" for n in OPEN),
    ]
    (result,) = check_sarif(job, report)
    assert result["ruleId"] == "DC201"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/report.py"
    assert location["region"]["startLine"] == 5
    assert other in result["message"]["text"]

    summary = check_summary(job, report)
    assert re.search(rf"\| DC201 stale-caller \| `app/report.py:5` \| `{other}` \|", summary)
    calls = (runner.root / "gh.log").read_text().splitlines()
    assert calls and all(c.startswith("test-token|pr list ") for c in calls)
    assert f"--repo {REPOSITORY}" in calls[0] and "--state open" in calls[0]


def test_clean_pull_request_passes(installing_runner: Runner, origin: Path) -> None:
    job = run(installing_runner, origin, "pull_request", 4)
    assert job.code == 0, job.log
    assert job.failed_step is None and job.ran[-1].startswith("Fail when")
    report = scan_json(job, "origin/pr/4")
    assert check_sarif(job, report) == []
    summary = check_summary(job, report)
    assert "no drift among 5 participants" in summary


def test_schedule_reports_every_pull_request_and_never_fails(
    installing_runner: Runner, origin: Path
) -> None:
    job = run(installing_runner, origin, "schedule")
    assert job.code == 0, job.log
    report = scan_json(job, None)
    assert report["trunk"] == "refs/remotes/origin/main"
    names = [p["name"] for p in report["participants"]]
    assert names == ["origin/main", *(f"origin/pr/{n}" for n in OPEN)]  # not closed #5
    results = check_sarif(job, report)
    found = {(r["ruleId"], tuple(r["properties"]["participants"])) for r in results}
    assert ("DC201", ("origin/pr/1", "origin/pr/2")) in found
    assert ("DC101", ("origin/main", "origin/pr/3")) in found
    assert all("origin/pr/4" not in pair for _, pair in found)
    assert any(r["level"] == "error" for r in results)  # errors, yet the job passes
    check_summary(job, report)
    assert "--state open" in (installing_runner.root / "gh.log").read_text()


@pytest.mark.parametrize(
    ("token", "extra", "shallow", "expected"),
    [
        pytest.param("", {}, True, [1, 2, 3, 4, 5], id="no-token-all-pull-refs-full-history"),
        pytest.param("test-token", {"DRIFTCHECK_PRS": "2 1"}, False, [1, 2, 4], id="listed"),
    ],
)
def test_which_pull_requests_are_fetched(
    runner: Runner,
    origin: Path,
    token: str,
    extra: dict[str, str],
    shallow: bool,
    expected: list[int],
) -> None:
    kw: dict[str, Any] = {"token": token, "extra_env": extra, "shallow": shallow}
    job = run(runner, origin, "pull_request", 4, stop_after="Fetch", **kw)
    assert job.code == 0 and job.ran[-1].startswith("Fetch"), job.log
    refs = git("for-each-ref", "--format=%(refname)", PR_GLOB, cwd=runner.workspace).split()
    assert sorted(refs) == sorted(f"refs/remotes/origin/pr/{n}" for n in expected)
    assert not (runner.root / "gh.log").exists()
    assert git("rev-parse", "--is-shallow-repository", cwd=runner.workspace) == "false"


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load(PRE_COMMIT_HOOKS.read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    (hook,) = [h for h in hooks if h["id"] == "driftcheck"]
    assert hook["entry"] == "driftcheck hook pre-commit"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["require_serial"] is True
    assert hook["always_run"] is True
    assert hook["stages"] == ["pre-commit"]
