"""Security properties, checked on driftcheck's own source and by behaviour.

- No shell: no `shell=True`, no os.system/os.popen/spawn/exec, and every subprocess call
  gets an argument list, never a string built from user input.
- Nothing read from a worktree or from configuration is executed: no eval/exec/compile/
  __import__, configuration is parsed by tomllib only, and dynamic imports take module
  names from driftcheck's own constant tables.
- The repository's own hooks, fsmonitor, external diff and pager never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from corpus.harness import assert_cli, assert_hook, claude_write, hook, run_main
from helpers import add_worktree, commit_all, git, init_repo, run_cli, write

import driftcheck

SOURCE = Path(driftcheck.__file__).resolve().parent
FILES = sorted(SOURCE.rglob("*.py"))
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}
FORBIDDEN_ATTRS = {
    ("os", "system"),
    ("os", "popen"),
    ("os", "execv"),
    ("os", "execve"),
    ("os", "execvp"),
    ("os", "execl"),
    ("os", "execlp"),
    ("os", "spawnv"),
    ("os", "spawnl"),
    ("os", "posix_spawn"),
    ("subprocess", "getoutput"),
    ("subprocess", "getstatusoutput"),
    ("pty", "spawn"),
    ("asyncio", "create_subprocess_shell"),
    ("pickle", "load"),
    ("marshal", "loads"),
}
FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "breakpoint", "execfile"}
# Reviewed: each takes its module name from a constant table in the same module.
DYNAMIC_IMPORTS = {
    ("detectors/__init__.py", "load"),
    ("symbols/languages/__init__.py", "get_frontend"),
    ("symbols/languages/treesitter/frontend.py", "_load"),
    ("report/__init__.py", "_reporter"),  # render and render_plan: fixed module tables
}
# Reviewed: results a forked worker of this very process sends back through an
# anonymous file the parent opened before the fork (no name another user could open).
# Nothing read from a repository's files is unpickled (the cache holds plain data:
# store/codec.py).
PICKLE_LOADS = {
    ("parallel.py", "results"),  # Forked.results
    ("parallel.py", "unpack"),
}


def calls() -> list[tuple[str, str, ast.Call]]:
    """(file, innermost enclosing function, call) for every call in driftcheck's source."""
    found: list[tuple[str, str, ast.Call]] = []

    def visit(node: ast.AST, rel: str, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else func
            )
            if isinstance(child, ast.Call):
                found.append((rel, func, child))
            visit(child, rel, inner)

    for path in FILES:
        visit(
            ast.parse(path.read_text(encoding="utf-8")),
            path.relative_to(SOURCE).as_posix(),
            "<module>",
        )
    return found


def dotted(node: ast.AST) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.Attribute):
        return (*dotted(node.value), node.attr)
    return ()


def test_source_is_found() -> None:
    assert len(FILES) > 30 and any(c[1] == "run_git" for c in calls())


def test_no_shell_anywhere() -> None:
    for rel, _func, call in calls():
        for keyword in call.keywords:
            if keyword.arg == "shell":
                assert isinstance(keyword.value, ast.Constant) and keyword.value.value is False, (
                    f"{rel}:{call.lineno} passes shell=..."
                )
        name = dotted(call.func)
        assert name[-2:] not in FORBIDDEN_ATTRS, f"{rel}:{call.lineno} calls {'.'.join(name)}"
        if len(name) >= 2 and name[-2] == "os":
            assert not name[-1].startswith(("exec", "spawn")), f"{rel}:{call.lineno}"


def _list_argument(call: ast.Call, func: ast.AST, rel: str) -> None:
    """The command is a list display, or a name bound to one in the same function."""
    first = call.args[0] if call.args else next(k.value for k in call.keywords if k.arg == "args")
    if isinstance(first, ast.List | ast.Tuple):
        return
    assert isinstance(first, ast.Name), f"{rel}:{call.lineno}: command is {ast.dump(first)}"
    bound = [
        node.value
        for node in ast.walk(func)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == first.id for t in node.targets)
    ]
    assert bound and all(isinstance(v, ast.List | ast.Tuple) for v in bound), (
        f"{rel}:{call.lineno}: {first.id} is not a list"
    )


def test_subprocess_commands_are_argument_lists() -> None:
    seen = 0
    for path in FILES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(SOURCE).as_posix()
        for func in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            for node in ast.walk(func):
                if isinstance(node, ast.Call):
                    name = dotted(node.func)
                    if name[:1] == ("subprocess",) and name[-1] in SUBPROCESS_CALLS:
                        _list_argument(node, func, rel)
                        seen += 1
    assert seen >= 2  # git.run_git and the scenario builder


def test_nothing_is_evaluated_or_executed() -> None:
    for rel, _func, call in calls():
        assert dotted(call.func) not in {(n,) for n in FORBIDDEN_NAMES}, (
            f"{rel}:{call.lineno} calls {dotted(call.func)[0]}"
        )


def test_dynamic_imports_and_unpickling_are_the_reviewed_ones() -> None:
    imports = {
        (rel, func) for rel, func, call in calls() if dotted(call.func)[-1:] == ("import_module",)
    }
    assert imports == DYNAMIC_IMPORTS
    loads = {
        (rel, func)
        for rel, func, call in calls()
        if dotted(call.func)[-2:] in {("pickle", "loads"), ("pickle", "load")}
    }
    assert loads == PICKLE_LOADS


def test_dynamic_import_tables_name_only_driftcheck_and_grammars() -> None:
    from driftcheck import detectors, report
    from driftcheck.symbols import languages
    from driftcheck.symbols.languages.treesitter.frontend import TreeSitterFrontend

    modules = [spec.partition(":")[0] for _exts, spec in languages.FRONTENDS.values()]
    modules += list(detectors.DETECTOR_MODULES.values()) + list(report._REPORTERS.values())
    assert all(m.startswith("driftcheck.") for m in modules), modules
    for frontend in languages.all_frontends():
        if isinstance(frontend, TreeSitterFrontend):
            grammars = [frontend.profile.grammar, *frontend.profile.grammars.values()]
            assert all(g.startswith("tree_sitter_") for g in grammars), grammars


def test_configuration_is_data_only() -> None:
    tree = ast.parse((SOURCE / "config.py").read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "tomllib" in imported
    assert not imported & {"importlib", "pickle", "subprocess", "runpy", "os", "yaml"}, imported


# --- behaviour ---------------------------------------------------------------------------

MARKER = "pwned"
HOOK_NAMES = (
    "post-index-change",
    "reference-transaction",
    "pre-commit",
    "post-commit",
    "post-checkout",
    "post-merge",
    "pre-auto-gc",
    "post-rewrite",
    "fsmonitor-watchman",
)


@pytest.fixture
def trap(workspace: Path) -> tuple[Path, Path]:
    """A repository whose config and hooks would all leave a trace if anything ran them."""
    log = workspace / "ran.log"
    repo = init_repo(workspace / "repo", {"notes.md": "n\n", "lib.py": "def f(a):\n    return a\n"})
    a = add_worktree(repo, "a")
    write(a, {"notes.md": "a\n", "lib.py": "def f(a, b):\n    return a\n"})
    commit_all(a, "a")
    add_worktree(repo, "agent")
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for name in HOOK_NAMES:
        (hooks / name).write_text(f'#!/bin/sh\necho "{name}" >> "{log}"\n')
        (hooks / name).chmod(0o755)
    shell = f"sh -c 'echo {{}} >> {log}; cat'"
    for key, what in (
        ("core.fsmonitor", "fsmonitor"),
        ("diff.external", "diff"),
        ("core.pager", "pager"),
        ("core.editor", "editor"),
        ("sequence.editor", "sequence"),
        ("core.sshCommand", "ssh"),
    ):
        git("config", key, shell.format(what), cwd=repo)
    return repo, log


def test_hooks_and_configured_commands_never_run(trap: tuple[Path, Path], workspace: Path) -> None:
    repo, log = trap
    agent = workspace / "agent"
    assert_cli(run_cli("scan", cwd=repo), 0, "scan")
    assert_cli(
        run_main("check", "notes.md", "--content-file", "-", cwd=agent, input="x\n"), 1, "check"
    )
    assert_hook(
        hook("claude", claude_write(agent / "notes.md", "x\n", agent), agent),
        "decision",
        "claude",
        "hook claude",
    )
    git("add", "-A", cwd=agent)
    log.unlink(missing_ok=True)  # git add itself may run the user's hooks
    write(agent, {"notes.md": "agent\n"})
    run_main("hook", "pre-commit", cwd=agent)
    run_main("install", "pre-commit", "--dry-run", cwd=agent)
    assert not log.exists(), log.read_text()


@pytest.mark.parametrize(
    "config",
    [
        f'trunk = "$(touch {MARKER})"',
        f'trunk = "--output={MARKER}"',
        f'ignore-paths = ["`touch {MARKER}`", "$(touch {MARKER})"]',
        f"fail-on = \"__import__('os').system('touch {MARKER}')\"",
        f"hook-deadline-ms = \"__import__('os').system('touch {MARKER}')\"",
        f'[severity]\n"$(touch {MARKER})" = "error"',
    ],
)
def test_configuration_values_never_run(workspace: Path, config: str) -> None:
    repo = init_repo(workspace / "repo", {"notes.md": "n\n"})
    head, _, rest = config.partition("\n")
    table = (
        f"[tool.driftcheck]\n{head}\n" if not rest else f"[tool.driftcheck.{head[1:-1]}]\n{rest}\n"
    )
    write(repo, {"pyproject.toml": table})
    for args in (["scan"], ["scan", "--format", "json"]):
        result = run_cli(*args, cwd=repo)
        assert result.code in (0, 2) and "Traceback" not in result.stderr, result.stderr
    data = claude_write(repo / "notes.md", "x\n", repo)
    assert run_cli("hook", "claude", cwd=repo, input=data).code == 0
    assert not list(workspace.rglob(f"*{MARKER}*")) and not Path(MARKER).exists()


def test_refs_and_trunk_cannot_smuggle_options(workspace: Path, tmp_path: Path) -> None:
    repo = init_repo(workspace / "repo", {"notes.md": "n\n"})
    target = tmp_path / MARKER
    for args in (
        ["--trunk", f"--output={target}"],
        ["--refs", f"--output={target}"],
        ["--trunk", "-h"],
        ["--refs", "--format=%(refname)"],
    ):
        result = run_cli("scan", *args, cwd=repo)
        assert result.code in (0, 2) and "Traceback" not in result.stderr, (args, result.stderr)
    assert not target.exists()


def test_worktree_text_cannot_drive_the_terminal(workspace: Path) -> None:
    """File names and lines from a worktree reach the text report and the commit hook's
    message with their control characters escaped (as git quotes paths)."""
    name = "docs/\x1b]0;pwned\x07title\x1b[2J.md"
    evil = "\x1b]52;c;cHduZWQ=\x07 clipboard \x1b[1A\r overwrite \x9b2J\n"
    repo = init_repo(workspace / "repo", {name: "base\n"})
    a = add_worktree(repo, "a")
    write(a, {name: "base\n" + evil})
    commit_all(a, "a")
    agent = add_worktree(repo, "agent")
    write(agent, {name: "base\nagent " + evil})
    git("add", "-A", cwd=agent)
    outputs = [run_main("scan", "--color", color, cwd=repo).stdout for color in ("never", "always")]
    outputs.append(run_main("hook", "pre-commit", cwd=agent).stderr)
    for text in outputs:
        assert "title" in text or "clipboard" in text
        assert "\x1b]" not in text and "\x07" not in text and "\x9b" not in text, repr(text)
        assert "\x1b[2J" not in text and "\x1b[1A" not in text and "\r" not in text, repr(text)
