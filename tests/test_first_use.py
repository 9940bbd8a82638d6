"""First and everyday use (issue #20): driftcheck's own files, configuration that is
checked and read by one rule, stable finding ids and a baseline. The CLI runs as a
subprocess on real repositories, as a user runs it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import add_worktree, git, init_repo, run_cli, write

BASE = {"app.py": "def greet(name):\n    return 'hi ' + name\n\n\ndef main():\n    return 1\n"}


def findings(repo: Path, *extra: str) -> list[dict]:
    result = run_cli("scan", "--format", "json", *extra, cwd=repo)
    assert result.code in (0, 1), result.stderr
    return result.json()["findings"]


def test_our_own_settings_in_each_worktree_are_not_drift(workspace: Path) -> None:
    """`install claude` writes .claude/settings.json and .mcp.json into each worktree;
    two worktrees whose copies differ used to get a DC102 add/add conflict."""
    repo = init_repo(workspace / "repo", BASE)
    for name, timeout in (("a", 10), ("b", 20)):
        settings = {"hooks": {"PreToolUse": [{"matcher": "Edit", "timeout": timeout}]}}
        write(add_worktree(repo, name), {
            ".claude/settings.json": json.dumps(settings),
            ".mcp.json": json.dumps({"mcpServers": {"x": {"command": name}}}),
        })  # fmt: skip
    assert [(f["code"], f["path"]) for f in findings(repo)] == []


def test_an_unknown_key_is_one_clear_line(workspace: Path) -> None:
    repo = init_repo(
        workspace / "repo", {**BASE, "pyproject.toml": "[tool.driftcheck]\nfail_on = 'warning'\n"}
    )
    result = run_cli("scan", cwd=repo)
    assert result.code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "[tool.driftcheck] fail_on: unknown key" in result.stderr


def test_a_tool_table_inside_driftcheck_toml_is_an_error(workspace: Path) -> None:
    """It used to be read as nothing at all, silently."""
    repo = init_repo(
        workspace / "repo", {**BASE, ".driftcheck.toml": "[tool.driftcheck]\ntrunk = 'dev'\n"}
    )
    result = run_cli("scan", cwd=repo)
    assert result.code == 2
    assert "put the keys of [tool.driftcheck] at the top level" in result.stderr


def test_the_main_worktrees_configuration_applies_from_every_worktree(workspace: Path) -> None:
    """Results used to depend on the folder driftcheck ran from: each worktree read
    its own file. Now the main worktree's configuration is the repository's."""
    repo = init_repo(workspace / "repo", BASE)
    write(repo, {".driftcheck.toml": 'disable = ["stale-caller"]\n'})
    a = add_worktree(repo, "a")
    b = add_worktree(repo, "b")
    write(a, {"app.py": BASE["app.py"].replace("greet(name)", "greet(name, loud)")})
    write(b, {"use.py": "from app import greet\n\n\ndef hello():\n    return greet('x')\n"})
    write(b, {".driftcheck.toml": "disable = []\n"})  # b's own file does not win
    for where in (repo, a, b):
        assert [f["kind"] for f in findings(where) if f["kind"] == "stale-caller"] == []
    write(repo, {".driftcheck.toml": "disable = []\n"})
    for where in (repo, a, b):
        assert [f["code"] for f in findings(where) if f["kind"] == "stale-caller"] == ["DC201"]


def drifting(workspace: Path) -> tuple[Path, Path]:
    repo = init_repo(workspace / "repo", BASE)
    a = add_worktree(repo, "a")
    write(a, {"app.py": BASE["app.py"].replace("greet(name)", "greet(name, loud)")})
    write(
        add_worktree(repo, "b"),
        {"use.py": "from app import greet\n\n\ndef hello():\n    return greet('x')\n"},
    )
    return repo, a


def test_a_findings_id_survives_edits_that_shift_its_lines(workspace: Path) -> None:
    repo, _a = drifting(workspace)
    (first,) = [f for f in findings(repo) if f["code"] == "DC201"]
    assert first["id"].startswith("dc-") and len(first["id"]) == 19
    # lines above the use move it down; the drift is the same
    use = repo.parent / "b" / "use.py"
    write(use.parent, {"use.py": "import os\nimport sys\n\n\n" + use.read_text()})
    (again,) = [f for f in findings(repo) if f["code"] == "DC201"]
    assert (first["path"], again["line"]) == ("use.py", first["line"] + 4)
    assert again["id"] == first["id"]


def test_a_baseline_reports_only_new_findings(workspace: Path) -> None:
    repo, a = drifting(workspace)
    before = run_cli("scan", "--format", "json", cwd=repo)
    (workspace / "baseline.json").write_text(before.stdout)
    quiet = run_cli("scan", "--format", "json", "--baseline", str(workspace / "baseline.json"),
                    cwd=repo)  # fmt: skip
    assert quiet.code == 0, quiet.stderr
    assert quiet.json()["findings"] == []
    assert quiet.json()["stats"]["baseline"]["known"] == len(before.json()["findings"])
    # a new drift shows through the baseline
    write(a, {"app.py": (a / "app.py").read_text().replace("def main():", "def main(argv):")})
    write(
        repo.parent / "b", {"cli.py": "from app import main\n\n\ndef run():\n    return main()\n"}
    )
    new = run_cli("scan", "--format", "json", "--baseline", str(workspace / "baseline.json"),
                  cwd=repo)  # fmt: skip
    assert [f["symbol"] for f in new.json()["findings"]] == ["app.main"]
    bad = run_cli("scan", "--baseline", str(workspace / "nope.json"), cwd=repo)
    assert bad.code == 2 and "not a driftcheck JSON report" in bad.stderr


def test_a_finding_is_silenced_by_its_id_in_the_configuration(workspace: Path) -> None:
    repo, _a = drifting(workspace)
    (finding,) = [f for f in findings(repo) if f["code"] == "DC201"]
    write(repo, {".driftcheck.toml": f'ignore-ids = ["{finding["id"]}"]\n'})
    assert [f for f in findings(repo) if f["code"] == "DC201"] == []


def test_nothing_to_compare_says_what_to_do(workspace: Path) -> None:
    """A repository with no commits, or with one worktree, used to print "no drift"
    and nothing else; a deleted worktree's folder now names the git command."""
    empty = workspace / "empty"
    empty.mkdir()
    git("init", "-q", cwd=empty)
    result = run_cli("scan", cwd=empty)
    assert result.code == 0
    assert "the repository has no commits yet" in result.stderr
    repo = init_repo(workspace / "repo", BASE)
    result = run_cli("scan", cwd=repo)
    assert "only one participant" in result.stderr
    assert "git worktree add ../agent-1 -b agent-1" in result.stderr
    shutil.rmtree(add_worktree(repo, "gone"))
    result = run_cli("scan", cwd=repo)
    assert "`git worktree prune` makes git forget it" in result.stderr


def test_every_option_says_what_it_does() -> None:
    """`--help` of every command describes every option (it used to leave 17 bare),
    and every `--repo` takes a directory."""
    import click

    from driftcheck.cli.main import cli

    def commands(group: click.Group, path: str) -> list[tuple[str, click.Command]]:
        found: list[tuple[str, click.Command]] = []
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found += commands(command, f"{path} {name}")
            else:
                found.append((f"{path} {name}".strip(), command))
        return found

    bare, files = [], []
    for name, command in commands(cli, ""):
        for option in command.params:
            if isinstance(option, click.Option) and option.name != "help" and not option.help:
                bare.append(f"{name} {option.opts[0]}")
            if option.name == "repo" and getattr(option.type, "file_okay", False):
                files.append(name)
    assert bare == [] and files == []
    scan_help = run_cli("scan", "--help", cwd=Path.cwd()).stdout
    assert "repeatable" in scan_help


def test_a_folder_that_went_away_is_not_called_a_missing_git(tmp_path: Path) -> None:
    """A worktree removed while driftcheck looked at it used to surface as "git is not
    installed or not on PATH" (seen in the live view when a worktree was deleted)."""
    import pytest

    from driftcheck.errors import UsageError
    from driftcheck.workspace import git as dgit

    with pytest.raises(UsageError, match="its folder is gone"):
        dgit.run_git(["status"], cwd=tmp_path / "gone")


def test_check_takes_repo_trunk_and_refs_like_scan(workspace: Path) -> None:
    """`check` judged only against worktrees; a branch nobody has checked out (a pull
    request's) could not take part. Now it joins with --refs, as in `scan`, and
    --repo names the worktree a relative PATH is in."""
    repo = init_repo(workspace / "repo", BASE)
    git("checkout", "-q", "-b", "feature/loud", cwd=repo)
    write(repo, {"app.py": BASE["app.py"].replace("greet(name)", "greet(name, loud)")})
    git("commit", "-qam", "loud", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    proposed = workspace / "proposed.py"
    proposed.write_text("from app import greet\n\n\ndef hello():\n    return greet('x')\n")
    args = ["check", "use.py", "--content-file", str(proposed), "--repo", str(repo)]
    alone = run_cli(*args, "--format", "json", cwd=workspace)
    assert alone.code == 0, alone.stderr
    assert alone.json()["findings"] == []
    joined = run_cli(*args, "--refs", "refs/heads/feature", "--format", "json", cwd=workspace)
    assert joined.code == 1, joined.stderr
    assert [f["code"] for f in joined.json()["findings"]] == ["DC201"]


def _commands() -> list[tuple[str, object]]:
    import click

    from driftcheck.cli.main import cli

    def walk(group: click.Group, path: str) -> list[tuple[str, object]]:
        found: list[tuple[str, object]] = []
        for name, command in group.commands.items():
            found.append((f"{path} {name}".strip(), command))
            if isinstance(command, click.Group):
                found += walk(command, f"{path} {name}".strip())
        return found

    return [("", cli), *walk(cli, "")]


def _option_blocks(help_text: str) -> dict[str, str]:
    """Each option's entry in `--help` (its first flag -> its whole text, one line)."""
    blocks: dict[str, str] = {}
    lines = help_text.split("Options:", 1)[1].split("\nCommands:", 1)[0].splitlines()
    current = None
    for line in lines:
        if line.startswith("  -"):
            current = line.split()[0].rstrip(",")
            blocks[current] = line
        elif current and line.startswith("    "):
            blocks[current] += " " + line.strip()
    return {k: " ".join(v.split()) for k, v in blocks.items()}


def test_every_help_shows_whole_summaries_and_every_options_default() -> None:
    """`driftcheck --help` cut command summaries with '...'; options whose value
    comes from somewhere when left out said nothing of it (#20 item 9)."""
    from concurrent.futures import ThreadPoolExecutor

    import click

    commands = _commands()
    with ThreadPoolExecutor(2) as pool:
        helps = list(pool.map(lambda c: run_cli(*c[0].split(), "--help", cwd=Path.cwd()), commands))
    problems = []
    for (path, command), shown in zip(commands, helps, strict=True):
        assert shown.code == 0, (path, shown.stderr)
        text = " ".join(shown.stdout.split())
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                summary = " ".join(sub.get_short_help_str(limit=10**6).split())
                if f"{name} {summary}" not in text.replace("- ", "-"):
                    problems.append(f"{path} --help: the summary of {name} is cut")
        blocks = _option_blocks(shown.stdout)
        for option in command.params:
            if not isinstance(option, click.Option) or option.name in ("help", "version"):
                continue
            block = blocks.get(option.opts[0]) or blocks.get(option.opts[-1], "")
            described = " ".join((option.help or "").split())[:30]
            if len(described) < 12 or described not in block:
                problems.append(f"{path} {option.opts[0]}: no description")
            off_flag = option.is_flag and not option.secondary_opts
            if not off_flag and not option.required and "default" not in block:
                problems.append(f"{path} {option.opts[0]}: no default shown")
    assert problems == []
    assert "..." not in helps[0].stdout.split("Commands:")[1]


def test_a_file_with_a_syntax_error_is_named_in_one_line(workspace: Path) -> None:
    """A file that does not parse was analysed only in part, silently (#20 item 8)."""
    repo = init_repo(workspace / "repo", {**BASE, "web/cart.js": "export const rate = 1;\n"})
    a, b = add_worktree(repo, "wt-a"), add_worktree(repo, "wt-b")
    write(a, {"src/x.py": "import os\n\n\ndef broken(:\n    pass\n"})
    write(b, {"web/cart.js": "export const rate = 1;\nfunction total( {\n"})
    clean = run_cli("scan", cwd=repo)
    lines = clean.stdout.splitlines()
    (python,) = [line for line in lines if "src/x.py" in line]
    assert python.strip() == (
        "- wt-a: src/x.py has a syntax error at line 4; "
        "its symbols were analysed only where they parse"
    )
    (javascript,) = [line for line in lines if "web/cart.js" in line]
    assert javascript.strip().startswith("- wt-b: web/cart.js has a syntax error at line ")
    report = run_cli("scan", "--format", "json", cwd=repo).json()
    assert [w.split(":")[0] for w in report["warnings"]] == ["wt-a", "wt-b"]
    # once fixed, nothing is said
    write(a, {"src/x.py": "import os\n\n\ndef broken():\n    pass\n"})
    write(b, {"web/cart.js": "export const rate = 1;\nfunction total() {}\n"})
    assert "syntax error" not in run_cli("scan", cwd=repo).stdout
