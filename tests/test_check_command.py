"""`driftcheck check PATH`: the hooks' judgement for any editor, with scan's exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import CliResult, run_cli, snapshot_repo
from test_hook_claude import CLEAN_REPORT, STALE_REPORT, Shop, build_shop


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return build_shop(tmp_path / "shop")


def kinds(result: CliResult) -> set[str]:
    return {f["kind"] for f in result.json()["findings"]}


def one_line_error(result: CliResult) -> None:
    assert result.code == 2, (result.code, result.stderr)
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_proposed_content_from_a_file(shop: Shop, tmp_path: Path) -> None:
    proposal = tmp_path / "proposal.py"
    proposal.write_text(STALE_REPORT)
    before = snapshot_repo(shop.repo)
    result = run_cli(
        "check",
        "orders/report.py",
        "--content-file",
        str(proposal),
        "--format",
        "json",
        cwd=shop.agent,
    )
    assert result.code == 1, result.stderr
    assert kinds(result) == {"stale-caller"}
    assert {f["path"] for f in result.json()["findings"]} == {"orders/report.py"}
    assert snapshot_repo(shop.repo) == before


def test_proposed_content_from_stdin(shop: Shop) -> None:
    args = ("check", str(shop.agent / "orders/report.py"), "--content-file", "-")
    stale = run_cli(*args, "--format", "json", cwd=shop.repo, input=STALE_REPORT)
    assert stale.code == 1, stale.stderr
    assert kinds(stale) == {"stale-caller"}
    clean = run_cli(*args, cwd=shop.repo, input=CLEAN_REPORT)
    assert clean.code == 0, clean.stderr


def test_default_is_the_file_on_disk(shop: Shop) -> None:
    assert run_cli("check", "orders/report.py", cwd=shop.agent).code == 0
    (shop.agent / "orders/report.py").write_text(STALE_REPORT)
    result = run_cli("check", "orders/report.py", cwd=shop.agent)
    assert result.code == 1
    assert "DC204" in result.stdout


def test_text_output_names_the_other_side(shop: Shop) -> None:
    result = run_cli(
        "check", "orders/report.py", "--content-file", "-", cwd=shop.agent, input=STALE_REPORT
    )
    assert result.code == 1
    assert "feat/pricing" in result.stdout and "orders/report.py" in result.stdout


def test_deleting_a_file_others_use(shop: Shop) -> None:
    result = run_cli("check", "utils.py", "--deleted", "--format", "json", cwd=shop.agent)
    assert result.code == 1, result.stderr
    assert kinds(result) == {"stale-caller"}


def test_new_file(shop: Shop) -> None:
    content = "from orders.processor import OrderProcessor\n\n\ndef f(items):\n"
    content += "    return OrderProcessor().calculate_total(items)\n"
    result = run_cli("check", "orders/new.py", "--content-file", "-", cwd=shop.agent, input=content)
    assert result.code == 1
    assert not (shop.agent / "orders/new.py").exists()


def test_textual_conflict(shop: Shop) -> None:
    notes = (shop.agent / "docs/notes.md").read_text().replace("note 5\n", "agent note\n")
    result = run_cli(
        "check",
        "docs/notes.md",
        "--content-file",
        "-",
        "--format",
        "json",
        cwd=shop.agent,
        input=notes,
    )
    assert result.code == 1
    assert kinds(result) == {"textual-conflict"}


@pytest.mark.parametrize(("fail_on", "code"), [("never", 0), ("error", 1), ("info", 1)])
def test_fail_on(shop: Shop, fail_on: str, code: int) -> None:
    result = run_cli(
        "check",
        "orders/report.py",
        "--content-file",
        "-",
        "--fail-on",
        fail_on,
        cwd=shop.agent,
        input=STALE_REPORT,
    )
    assert result.code == code, result.stderr


def test_warning_only_passes_by_default(shop: Shop) -> None:
    from driftcheck.demo.shop import DISCOVERY

    args = ("check", "recommend/discovery.py", "--content-file", "-", "--format", "json")
    result = run_cli(*args, cwd=shop.agent, input=DISCOVERY)
    assert result.code == 0, result.stderr
    assert kinds(result) == {"duplicate"}
    warned = run_cli(*args, "--fail-on", "warning", cwd=shop.agent, input=DISCOVERY)
    assert warned.code == 1


def test_input_errors(shop: Shop, tmp_path: Path) -> None:
    one_line_error(run_cli("check", "orders/missing.py", cwd=shop.agent))
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    one_line_error(run_cli("check", str(outside), cwd=shop.agent))
    one_line_error(run_cli("check", "x.py", "--content-file", "-", cwd=tmp_path, input="x\n"))
    one_line_error(run_cli("check", "orders/report.py", "--format", "yaml", cwd=shop.agent))
    one_line_error(
        run_cli("check", "orders/report.py", "--content-file", str(tmp_path), cwd=shop.agent)
    )


def test_state_that_cannot_be_captured_is_an_internal_error(shop: Shop) -> None:
    # A file below a file: git cannot record it, so nothing was compared.
    result = run_cli(
        "check", "orders/report.py/x", "--content-file", "-", cwd=shop.agent, input="x\n"
    )
    assert result.code == 3, result.stderr
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
