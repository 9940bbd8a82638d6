"""The bad-input corpus (tests/corpus/cases.toml) through every entry point.

Every case must end in a clear answer with the documented exit code: scan and check
exit 0, 1 or 2 (one stderr line), the agent hooks always exit 0 with at most one stderr
line; nothing ever ends in a traceback or an internal error.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from corpus import harness
from corpus.harness import CORPUS, assert_cli, assert_hook, cases, hook, run_main
from helpers import add_worktree, commit_all, git, init_repo

from driftcheck.integrations.agent_hook import MAX_STDIN_BYTES
from driftcheck.symbols.languages import frontend_for

AGENTS = ("claude", "codex")


def _by_id(section: str) -> list[Any]:
    params = []
    for case in cases(section):
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if "xfail" in case else []
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


# --- hook payloads --------------------------------------------------------------------


@pytest.fixture
def shop(workspace: Path) -> harness.Layout:
    """A repository where worktree `a` drifts and `agent` proposes."""
    return harness.setup("detached-head", workspace)


def _escaped(value: Path | str) -> str:
    return json.dumps(str(value))[1:-1]


def _generated_payload(name: str, layout: harness.Layout) -> bytes:
    notes = str(layout.agent / "docs" / "notes.md")
    if name == "long-path":
        deep = f"{layout.agent}/" + ("d" * 200 + "/") * 30 + "x" * 300 + ".py"
        return harness.claude_write(deep, "x = 1\n", layout.agent).encode()
    if name == "utf8-bom":
        return b"\xef\xbb\xbf" + json.dumps({"tool_name": "Bash", "tool_input": {}}).encode()
    if name == "utf16":
        return harness.claude_write(notes, "x\n", layout.agent).encode("utf-16")
    if name == "over-limit":
        head = f'{{"tool_name": "Write", "tool_input": {{"file_path": "{_escaped(notes)}", '
        head += '"content": "'
        filler = b"x" * (MAX_STDIN_BYTES + 1 - len(head) - 3)
        return head.encode() + filler + b'"}}'
    if name == "deep-tool-input":
        return (
            b'{"tool_name": "Write", "tool_input": {"file_path": "'
            + _escaped(notes).encode()
            + b'", "content": '
            + b"[" * 200_000
            + b"]" * 200_000
            + b"}}"
        )
    if name == "many-keys":
        payload: dict[str, Any] = {f"key{n}": n for n in range(200_000)}
        payload["tool_name"] = "Read"
        return json.dumps(payload).encode()
    if name == "empty":
        return b""
    raise AssertionError(f"unknown payload generator {name}")


def _payload(case: dict[str, Any], layout: harness.Layout, outside: Path) -> bytes:
    if "generate" in case:
        return _generated_payload(case["generate"], layout)
    text = (CORPUS / case["file"]).read_text(encoding="utf-8")
    replacements = {
        "@FILE@": _escaped(layout.agent / "docs" / "notes.md"),
        "@WT@": _escaped(layout.agent),
        "@OUTSIDE@": _escaped(outside),
    }
    for marker, value in replacements.items():
        text = text.replace(marker, value)
    return text.encode("utf-8")


def _hook_on_a_terminal(agent: str, cwd: Path) -> harness.CliResult:
    """The hook with a terminal as stdin (someone ran it by hand)."""
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "driftcheck", "hook", agent],
            cwd=cwd,
            stdin=terminal,
            capture_output=True,
            env={**os.environ, "PYTHONSAFEPATH": "1"},
            timeout=60,
            check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    return harness.CliResult(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.mark.parametrize("case", _by_id("payload"))
def test_hook_payload(case: dict[str, Any], shop: harness.Layout, tmp_path: Path) -> None:
    before = git("status", "--porcelain", cwd=shop.agent)
    for agent in AGENTS:
        if case.get("generate") == "tty":
            result = _hook_on_a_terminal(agent, shop.agent)
        else:
            result = hook(agent, _payload(case, shop, tmp_path), shop.agent)
        assert_hook(result, case[agent], agent, f"{case['id']} via hook {agent}")
    assert git("status", "--porcelain", cwd=shop.agent) == before


# --- file contents and paths ------------------------------------------------------------


def _generated_content(name: str) -> bytes:
    if name == "cr-only":
        return b"".join(f"mac line {n}\r".encode() for n in range(30))
    if name == "empty":
        return b""
    if name == "binary":
        return bytes(range(256)) * 64
    if name == "nul-in-source":
        return b"def ok() -> int:\n    return 1\n\x00\x00\x01garbage\x00\n"
    if name == "huge-python":  # 250 kB: a generated data table and a few functions
        rows = "".join(
            f"    ({n}, 'sku-{n:06d}', {n * 7 % 1000}.{n % 100:02d}),\n" for n in range(6_000)
        )
        funcs = "".join(f"def f{n}(x: int) -> int:\n    return x + {n}\n" for n in range(200))
        return f"TABLE = [\n{rows}]\n{funcs}".encode()
    if name == "huge-text":
        return b"".join(
            b"%09d some log line that goes on for a while\n" % n for n in range(200_000)
        )
    if name == "minified-js":
        parts = [f"var a{n}=function(b,c){{return b+c*{n}}};" for n in range(500)]
        return ("".join(parts) + "export{a1 as x};").encode()
    if name == "long-line-py":
        return b'BLOB = "' + b"ab" * 200_000 + b'"\n'
    if name == "deep-py":
        return b"x = " + b"(" * 150 + b"1" + b")" * 150 + b"\ny = " + b"[" * 5_000 + b"\n"
    if name == "deep-js":
        return b"const x = " + b"[" * 3_000 + b"1" + b"]" * 3_000 + b";\nf(" * 500 + b"\n"
    if name == "deep-unclosed-ts":
        return b"let x: number = " + b"(" * 2_000 + b"\n"
    if name == "deep-rs":
        return b"fn f() " + b"{ " * 3_000 + b"}" * 3_000 + b"\n"
    raise AssertionError(f"unknown content generator {name}")


def _content(case: dict[str, Any]) -> bytes:
    if "generate" in case:
        data = _generated_content(case["generate"])
    else:
        data = (CORPUS / "files" / case["data"]).read_bytes()
    if "encoding" in case:
        data = data.decode("utf-8").encode(case["encoding"])
    if case.get("crlf"):
        data = data.replace(b"\n", b"\r\n")
    if case.get("final_newline") is False:
        data = data.rstrip(b"\r\n")
    if case.get("bom"):
        data = b"\xef\xbb\xbf" + data
    return data


def _case_path(case: dict[str, Any]) -> str:
    if "path_hex" in case:
        return os.fsdecode(bytes.fromhex(case["path_hex"]))
    return str(case["path"])


def _with_line(data: bytes, line: str) -> bytes:
    """`data` with one more line at the end, in the file's own line-ending style."""
    eol = b"\r\n" if b"\r\n" in data else b"\r" if b"\r" in data and b"\n" not in data else b"\n"
    if not data or data.endswith(eol):
        return data + line.encode() + eol
    return data + eol + line.encode()


def _place(root: Path, rel: str, case: dict[str, Any], side: str | None) -> None:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if "symlink" in case:
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(case["symlink"] + (f"-{side}" if side else ""))
        return
    data = _content(case)
    target.write_bytes(_with_line(data, f"side {side}") if side else data)


@pytest.mark.parametrize("case", _by_id("file"))
def test_file_case(case: dict[str, Any], workspace: Path, tmp_path: Path) -> None:
    rel = _case_path(case)
    repo = init_repo(workspace / "repo", {"src/target.py": "TARGET = 1\n"})
    _place(repo, rel, case, None)
    commit_all(repo, "base")
    a = add_worktree(repo, "a")
    _place(a, rel, case, "a")
    commit_all(a, "a appends")
    agent = add_worktree(repo, "agent")
    target = agent / rel

    # The frontends, on every version of the file.
    if "symlink" not in case and (frontend := frontend_for(rel)) is not None:
        for version in (_content(case), (a / rel).read_bytes()):
            assert frontend.parse(rel, version).path == rel

    proposal = (tmp_path / "proposal").resolve()
    if "symlink" in case:
        proposal.write_bytes(b"REPLACED = 1\n")
    else:
        proposal.write_bytes(_with_line(_content(case), "side agent"))
    text = proposal.read_bytes().decode("utf-8", "surrogateescape")
    what = f"{case['id']}: check"
    result = run_main("check", str(target), "--content-file", str(proposal), cwd=agent)
    assert_cli(result, case.get("check", 1), what)

    expected = case.get("hook", "decision")
    claude = hook("claude", harness.claude_write(target, text, agent), agent)
    assert_hook(claude, expected, "claude", f"{case['id']}: hook claude")
    added = "".join("+" + line + "\n" for line in text.splitlines())
    body = f"*** Update File: {rel}\n@@\n{added}" if "symlink" not in case else ""
    body = body or f"*** Add File: {rel}.new\n{added}"
    codex = hook("codex", harness.codex_patch(body, agent), agent)
    assert_hook(codex, case.get("codex", "any"), "codex", f"{case['id']}: hook codex")

    # The same proposal written to disk: scan sees the conflict with worktree `a`.
    if "symlink" in case:
        _place(agent, rel, case, "agent")
    else:
        target.write_bytes(proposal.read_bytes())
    scan = run_main("scan", "--format", "json", cwd=repo)
    assert_cli(scan, 1, f"{case['id']}: scan")
    report = scan.json()
    conflicts = {f["path"] for f in report["findings"] if f["kind"] == "textual-conflict"}
    assert rel in conflicts, (case["id"], conflicts)
    if not rel.isascii() or not rel.replace("/", "").replace(".", "").replace("_", "").isalnum():
        # Odd paths in the text report too (it prints them as they are).
        assert_cli(run_main("scan", cwd=repo), 1, f"{case['id']}: scan text")


# --- repository states ------------------------------------------------------------------


@pytest.mark.parametrize("case", _by_id("repo"))
def test_repo_state(case: dict[str, Any], workspace: Path, tmp_path: Path) -> None:
    layout = harness.setup(case["setup"], workspace)
    what = case["id"]
    scan = run_main("scan", "--format", "json", cwd=layout.cwd)
    assert_cli(scan, case["scan"], f"{what}: scan")
    if "stderr" in case:
        assert case["stderr"] in scan.stderr, (what, scan.stderr)
    if scan.code in (0, 1):
        assert scan.json()["schema"] == "driftcheck/v1"

    target = layout.agent / layout.path
    proposal = tmp_path / "proposed.md"
    proposal.write_text(layout.proposed)
    check = run_main("check", str(target), "--content-file", str(proposal), cwd=layout.agent)
    assert_cli(check, case["check"], f"{what}: check")

    claude = hook(
        "claude", harness.claude_write(target, layout.proposed, layout.agent), layout.agent
    )
    assert_hook(claude, case["claude"], "claude", f"{what}: hook claude")
    patch = f"*** Update File: {layout.path}\n@@\n-note 5\n+agent's note 5\n"
    codex = hook("codex", harness.codex_patch(patch, layout.agent), layout.agent)
    assert_hook(codex, case["codex"], "codex", f"{what}: hook codex")

    # The proposal written and staged: the commit hook and a second scan judge it.
    if case.get("writable", True):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(layout.proposed)
        if case["setup"] != "not-a-repo":
            git("add", layout.path, cwd=layout.agent)
    pre_commit = run_main("hook", "pre-commit", cwd=layout.agent)
    assert pre_commit.code == case["pre_commit"], (what, pre_commit.stderr)
    assert "Traceback" not in pre_commit.stderr and len(pre_commit.stderr.splitlines()) <= 30
    again = run_main("scan", cwd=layout.cwd)
    assert_cli(again, case.get("scan_after", case["scan"]), f"{what}: scan after the write")
