"""The sharded GitHub workflow (hooks/github/driftcheck-sharded.yml), run without GitHub.

The same GitHub-like origin as tests/test_ci_workflow.py (four open pull requests, a
closed one, a trunk that moved on) and the same stand-in for `gh`. Every job runs its
`run:` steps with bash, each job and each matrix entry in its own runner: the `plan`
job counts the open pull requests and picks N, N `shard` jobs scan their share with
`--shard K/N` and upload their reports, and the `merge` job downloads them, merges
them, writes the job summary and decides the run. The merged reports must be what
one unsharded scan of the same mirror reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from github_runner import assert_shellcheck_clean, build_wheel, load_workflow
from github_workflow import WorkflowRun, run_workflow
from helpers import run_cli
from test_ci_workflow import GH_STUB, OPEN, PR_GLOB, REPOSITORY, build_origin, check_summary

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "hooks" / "github" / "driftcheck-sharded.yml"


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    return build_origin(tmp_path / "github")


@pytest.fixture(scope="session")
def driftcheck_wheel() -> Path:
    return build_wheel(ROOT)


def run(
    tmp_path: Path,
    origin: Path,
    event: str,
    pr: int | None = None,
    *,
    wheel: Path | None,
    token: str = "test-token",
    inputs: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    only: list[str] | None = None,
) -> WorkflowRun:
    log = tmp_path / "gh.log"
    stub = {"GH_STUB_LOG": str(log), "GH_STUB_OPEN": " ".join(map(str, OPEN))}
    # `inputs.shards` is empty on events other than a manual run.
    given = {"shards": "", **(inputs or {})}
    return run_workflow(
        tmp_path / "actions",
        WORKFLOW,
        origin,
        event,
        pr,
        repository=REPOSITORY,
        wheel=wheel,
        tools={"gh": GH_STUB},
        context={"github.token": token},
        inputs=given,
        extra_env={**stub, **(extra_env or {})},
        only=only,
    )


def unsharded(done: WorkflowRun, fmt: str, focus: str | None = None) -> dict[str, Any]:
    """One unsharded scan of the mirror the first shard scanned."""
    first = done.jobs["shard"][0]
    mirror = Path(first.env["RUNNER_TEMP"]) / "driftcheck-repo.git"
    args = ["scan", "--repo", str(mirror), "--refs", PR_GLOB, "--trunk", "origin/main"]
    args += ["--focus", focus] if focus else []
    result = run_cli(*args, "--format", fmt, "--fail-on", "never", cwd=first.env["RUNNER_TEMP"])
    assert result.code == 0, result.stderr
    data: dict[str, Any] = result.json()
    return data


def sarif_results(path: Path) -> list[dict[str, Any]]:
    log = json.loads(path.read_text(encoding="utf-8"))
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


# --- the file itself --------------------------------------------------------------


def test_jobs_matrix_and_steps() -> None:
    workflow = load_workflow(WORKFLOW)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert {"pull_request", "schedule", "workflow_dispatch"} <= set(triggers)
    assert "shards" in triggers["workflow_dispatch"]["inputs"]
    assert workflow["permissions"]["security-events"] == "write"
    jobs = workflow["jobs"]
    assert list(jobs) == ["plan", "shard", "merge"]
    assert jobs["shard"]["needs"] == "plan"
    assert set(jobs["merge"]["needs"]) == {"plan", "shard"}
    matrix = jobs["shard"]["strategy"]["matrix"]
    assert matrix == {"shard": "${{ fromJSON(needs.plan.outputs.shards) }}"}
    assert jobs["shard"]["strategy"]["fail-fast"] is False
    uses = {
        job: [s["uses"].split("@")[0] for s in jobs[job]["steps"] if "uses" in s] for job in jobs
    }
    assert "actions/upload-artifact" in uses["shard"]
    assert "actions/download-artifact" in uses["merge"]
    assert uses["merge"][-1] == "github/codeql-action/upload-sarif"
    scans = [s["run"] for s in jobs["shard"]["steps"] if "driftcheck scan" in s.get("run", "")]
    assert len(scans) == 1 and '--shard "$DRIFTCHECK_SHARD"' in scans[0]
    merges = [s["run"] for s in jobs["merge"]["steps"] if "merge-reports" in s.get("run", "")]
    assert len(merges) == 1
    for name, job in jobs.items():
        for step in job["steps"]:
            if "run" in step:
                assert "${{" not in step["run"], f"{name}/{step['name']}: keep run steps bash"
                assert "if" not in step, f"{name}/{step['name']}: decide in bash, not `if:`"
                check = subprocess.run(["bash", "-n"], input=step["run"], text=True, check=False)
                assert check.returncode == 0, f"{name}/{step['name']}: bash syntax error"


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_run_steps_pass_shellcheck() -> None:
    for job in load_workflow(WORKFLOW)["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                assert_shellcheck_clean(step)


# --- the plan job alone -----------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "extra", "inputs", "shards", "prs"),
    [
        # 4 open pull requests and the trunk: 10 pairs, under one shard's 300.
        pytest.param("test-token", {}, {}, 1, "1 2 3 4", id="few-pairs-one-shard"),
        pytest.param(
            "test-token", {"DRIFTCHECK_PAIRS_PER_SHARD": "4"}, {}, 3, "1 2 3 4", id="by-pairs"
        ),
        pytest.param(
            "test-token",
            {"DRIFTCHECK_PAIRS_PER_SHARD": "1", "DRIFTCHECK_MAX_SHARDS": "6"},
            {},
            6,
            "1 2 3 4",
            id="at-most",
        ),
        pytest.param("test-token", {}, {"shards": "5"}, 5, "1 2 3 4", id="input"),
        pytest.param("test-token", {"DRIFTCHECK_PRS": "2 1"}, {}, 1, "2 1", id="listed"),
        # Without a token the open pull requests are unknown: the most shards.
        pytest.param("", {"DRIFTCHECK_MAX_SHARDS": "4"}, {}, 4, "", id="no-token"),
    ],
)
def test_plan_chooses_the_shards(
    tmp_path: Path,
    origin: Path,
    token: str,
    extra: dict[str, str],
    inputs: dict[str, str],
    shards: int,
    prs: str,
) -> None:
    done = run(
        tmp_path,
        origin,
        "schedule",
        wheel=None,
        token=token,
        extra_env=extra,
        inputs=inputs,
        only=["plan"],
    )
    plan = done.one("plan")
    assert plan.code == 0, plan.log
    assert json.loads(plan.outputs["shards"]) == list(range(1, shards + 1))
    assert plan.outputs["count"] == str(shards)
    assert plan.outputs["prs"] == prs
    assert plan.outputs["listed"] == ("true" if token or "DRIFTCHECK_PRS" in extra else "false")
    assert plan.outputs["pr"] == "" and plan.outputs["trunk"] == "main"
    gh_calls = (tmp_path / "gh.log").read_text() if (tmp_path / "gh.log").exists() else ""
    assert ("pr list" in gh_calls) == (bool(token) and "DRIFTCHECK_PRS" not in extra)


@pytest.mark.parametrize(
    ("inputs", "extra", "words"),
    [
        ({"shards": "0"}, {}, "positive number"),
        ({"shards": "two"}, {}, "positive number"),
        ({"shards": "300"}, {}, "at most 256"),
        ({}, {"DRIFTCHECK_PAIRS_PER_SHARD": "-3"}, "positive numbers"),
        ({}, {"DRIFTCHECK_PRS": "1 x"}, "not a pull request number: x"),
    ],
)
def test_plan_refuses_bad_settings(
    tmp_path: Path, origin: Path, inputs: dict[str, str], extra: dict[str, str], words: str
) -> None:
    done = run(
        tmp_path,
        origin,
        "workflow_dispatch",
        wheel=None,
        inputs=inputs,
        extra_env=extra,
        only=["plan"],
    )
    plan = done.one("plan")
    assert plan.code == 2, plan.log
    assert "::error::" in plan.log and words in plan.log


# --- whole runs -------------------------------------------------------------------


def test_manual_run_in_three_shards_equals_one_scan(
    tmp_path: Path, origin: Path, driftcheck_wheel: Path
) -> None:
    done = run(
        tmp_path, origin, "workflow_dispatch", wheel=driftcheck_wheel, inputs={"shards": "3"}
    )
    assert [len(done.jobs[j]) for j in ("plan", "shard", "merge")] == [1, 3, 1], done.log
    for job in (*done.jobs["shard"], done.one("merge")):
        assert job.code == 0, job.log
    reports = [
        json.loads(s.file("DRIFTCHECK_SHARD_REPORT").read_text()) for s in done.jobs["shard"]
    ]
    assert [r["stats"]["shard"]["index"] for r in reports] == [1, 2, 3]
    assert {r["stats"]["shard"]["count"] for r in reports} == {3}
    # The shards shared the work: none of them analysed every pair alone.
    whole = unsharded(done, "json")
    assert sum(r["stats"]["shard"]["pairs"] for r in reports) == whole["stats"]["pairs_enumerated"]
    assert all(r["stats"]["shard"]["pairs"] < whole["stats"]["pairs_enumerated"] for r in reports)

    merge = done.one("merge")
    assert sorted(p.name for p in (merge.file("DRIFTCHECK_SHARDS_DIR")).iterdir()) == [
        f"driftcheck-shard-{k}.json" for k in (1, 2, 3)
    ]
    assert "github/codeql-action/upload-sarif@v3" in merge.skipped
    merged = sarif_results(merge.file("DRIFTCHECK_SARIF"))
    expected = unsharded(done, "sarif")["runs"][0]["results"]
    assert merged == expected and merged  # the same alerts, in the same order
    found = {(r["ruleId"], tuple(r["properties"]["participants"])) for r in merged}
    assert ("DC201", ("origin/pr/1", "origin/pr/2")) in found
    assert ("DC101", ("origin/main", "origin/pr/3")) in found
    check_summary(merge, whole)
    assert merge.ran[-1].startswith("Fail when") and "nothing here fails" in merge.log


def test_pull_request_with_error_findings_fails_the_merge_job(
    tmp_path: Path, origin: Path, driftcheck_wheel: Path
) -> None:
    # N chosen by the open pull requests: 10 pairs at 4 per shard is 3 shards.
    done = run(
        tmp_path,
        origin,
        "pull_request",
        2,
        wheel=driftcheck_wheel,
        extra_env={"DRIFTCHECK_PAIRS_PER_SHARD": "4"},
    )
    assert done.one("plan").outputs["count"] == "3"
    assert len(done.jobs["shard"]) == 3 and all(s.code == 0 for s in done.jobs["shard"]), done.log
    merge = done.one("merge")
    assert merge.code == 1 and merge.failed_step is not None, merge.log
    assert merge.failed_step.startswith("Fail when")
    assert "::error title=driftcheck::pull request #2" in merge.log
    (result,) = sarif_results(merge.file("DRIFTCHECK_SARIF"))
    assert result["ruleId"] == "DC201"
    assert result == unsharded(done, "sarif", "origin/pr/2")["runs"][0]["results"][0]
    check_summary(merge, unsharded(done, "json", "origin/pr/2"))


def test_a_missing_shard_fails_the_merge(
    tmp_path: Path, origin: Path, driftcheck_wheel: Path
) -> None:
    done = run(
        tmp_path, origin, "workflow_dispatch", wheel=driftcheck_wheel, inputs={"shards": "2"}
    )
    merge = done.one("merge")
    assert merge.code == 0, merge.log
    # The same merge step over what a lost artifact would leave: it must not look clean.
    (merge.file("DRIFTCHECK_SHARDS_DIR") / "driftcheck-shard-2.json").unlink()
    step = next(
        s
        for s in load_workflow(WORKFLOW)["jobs"]["merge"]["steps"]
        if s.get("name", "").startswith("Merge")
    )
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=merge.env["GITHUB_WORKSPACE"],
        env=merge.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot read" in proc.stderr and "merging the shards stopped" in proc.stdout
