"""Fuzz the agent hooks with random payloads: any JSON shape, tool calls that almost make
sense, apply_patch bodies built from random sections, and raw bytes.

Driven in-process through `driftcheck.integrations.agent_hook.run` (what `hook claude|codex` calls),
plus a few examples through the real CLI. The answer must always keep the contract:
no exception, at most one stderr line, no internal error, and stdout either empty or a
PreToolUse answer (Codex never gets "ask"). The repository never changes.

CI runs a bounded number of examples; DRIFTCHECK_FUZZ_EXAMPLES=5000 runs a long session
(see docs/hardening.md).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from corpus.harness import NOTES, assert_hook
from helpers import add_worktree, commit_all, init_repo, run_cli, snapshot_repo, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcheck.integrations.agent_hook import run

EXAMPLES = int(os.environ.get("DRIFTCHECK_FUZZ_EXAMPLES", "0")) or None
LIB = "def total(items, tax):\n    return sum(items) * tax\n\n\nclass Cart:\n    pass\n"
FILES = ("lib.py", "docs/notes.md", "web/app.ts", "new/file.py", "lib.py/below", ".git/config")


def fuzz_settings(default: int) -> settings:
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        derandomize=EXAMPLES is None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )


@pytest.fixture
def agent(workspace: Path) -> Path:
    """Worktree `a` edits line 5 of the notes and total's signature; `agent` is clean."""
    repo = init_repo(
        workspace / "repo",
        {"lib.py": LIB, "docs/notes.md": NOTES, "web/app.ts": "export const x = 1;\n"},
    )
    a = add_worktree(repo, "a")
    write(
        a,
        {
            "docs/notes.md": NOTES.replace("note 5\n", "a 5\n"),
            "lib.py": LIB.replace("items, tax", "items, tax, currency"),
        },
    )
    commit_all(a, "a")
    return add_worktree(repo, "agent")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
texts = st.sampled_from(
    [
        "",
        "note 5\n",
        "note",
        "def total(items):\n",
        "total(1)\n",
        "\r\n",
        "x\x00y",
        "\ud800",
        "é",
        "tax",
    ]
) | st.text(max_size=40)


def file_paths(agent: Path) -> st.SearchStrategy[Any]:
    real = [str(agent / rel) for rel in FILES[:4]] * 3 + [str(agent / r) for r in FILES[4:]]
    odd = [
        str(agent),
        "",
        "relative.py",
        "/",
        str(agent.parent / "outside.py"),
        str(agent / "a" / ".." / "lib.py"),
        str(agent / ("x" * 300)),
    ]
    return st.sampled_from(real) | st.sampled_from(odd) | json_values


def claude_payloads(agent: Path) -> st.SearchStrategy[dict[str, Any]]:
    """Mostly well-formed Write, Edit and MultiEdit calls, with odd values mixed in."""
    path = st.sampled_from([str(agent / rel) for rel in FILES[:4]]) | file_paths(agent)
    edit = st.fixed_dictionaries(
        {"old_string": texts, "new_string": texts},
        optional={"replace_all": st.booleans() | json_values},
    )
    write = st.fixed_dictionaries({"file_path": path, "content": texts})
    edits = st.lists(edit, min_size=1, max_size=3)
    multi = st.fixed_dictionaries({"file_path": path, "edits": edits | json_values})
    calls = st.one_of(
        st.tuples(st.just("Write"), write),
        st.tuples(
            st.just("Edit"), st.tuples(path, edit).map(lambda e: {"file_path": e[0], **e[1]})
        ),
        st.tuples(st.just("MultiEdit"), multi),
        st.tuples(st.sampled_from(["Write", "Edit", "MultiEdit"]), json_values),
    )
    return calls.map(lambda c: {"tool_name": c[0], "tool_input": c[1], "cwd": str(agent)})


def patches(agent: Path) -> st.SearchStrategy[Any]:
    good = st.sampled_from(["lib.py", "docs/notes.md", "web/app.ts", "new/file.py"])
    rel = (
        good
        | good
        | st.sampled_from([*FILES, "../escape.py", str(agent / "lib.py"), "a\nb.py", ""])
    )
    lines = st.lists(
        st.sampled_from(["note 5", "note 6", "def total(items, tax):", "x", ""])
        | st.text(max_size=15),
        max_size=4,
    )
    removed = st.just([]) | st.sampled_from([["note 5"], ["def total(items, tax):"]]) | lines
    hunk = st.tuples(st.sampled_from(["@@", "@@ def total", "@@ nowhere", ""]), removed, lines).map(
        lambda h: h[0] + "\n" + "".join(f"-{x}\n" for x in h[1]) + "".join(f"+{x}\n" for x in h[2])
    )
    section = st.one_of(
        st.tuples(rel, st.lists(hunk, max_size=3)).map(
            lambda s: f"*** Update File: {s[0]}\n" + "".join(s[1])
        ),
        st.tuples(rel, lines).map(
            lambda s: f"*** Add File: {s[0]}\n" + "".join(f"+{x}\n" for x in s[1])
        ),
        rel.map(lambda r: f"*** Delete File: {r}\n"),
        st.tuples(rel, rel).map(lambda s: f"*** Update File: {s[0]}\n*** Move to: {s[1]}\n@@\n"),
    )
    body = st.lists(section, min_size=1, max_size=3).map(
        lambda s: "*** Begin Patch\n" + "".join(s) + "*** End Patch\n"
    )
    return (
        body | body.map(lambda b: ["apply_patch", b]) | body.map(lambda b: b.replace("\n", "\r\n"))
    )


def codex_payloads(agent: Path) -> st.SearchStrategy[dict[str, Any]]:
    tool_input = st.fixed_dictionaries({"command": patches(agent)}, optional={"patch": json_values})
    cwd = st.sampled_from([str(agent), str(agent.parent)]) | json_values
    return st.fixed_dictionaries(
        {"tool_name": st.just("apply_patch"), "tool_input": tool_input}, optional={"cwd": cwd}
    )


def payloads(agent: Path, agent_name: str) -> st.SearchStrategy[dict[str, Any]]:
    anything = st.fixed_dictionaries(
        {
            "tool_name": st.sampled_from(["Write", "apply_patch", "Bash"]) | json_values,
            "tool_input": json_values,
        },
        optional={"cwd": json_values},
    )
    if agent_name == "claude":
        return claude_payloads(agent) | claude_payloads(agent) | anything
    return codex_payloads(agent) | codex_payloads(agent) | codex_payloads(agent) | anything


def assert_answer(agent_name: str, raw: bytes) -> None:
    answer = run(agent_name, raw, strict=None, deadline_ms=60_000)
    assert len(answer.stderr) <= 1, answer.stderr
    for line in answer.stderr:
        assert line.startswith("driftcheck:") and "\n" not in line, line
        assert "internal error" not in line, line
    if answer.stdout is not None:
        output = json.loads(answer.stdout)["hookSpecificOutput"]
        assert output["hookEventName"] == "PreToolUse"
        allowed = {None, "ask", "deny"} if agent_name == "claude" else {None, "deny"}
        assert output.get("permissionDecision") in allowed, output


@pytest.mark.parametrize("agent_name", ["claude", "codex"])
def test_structured_payloads(agent: Path, agent_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import driftcheck.engine.judge

    before = snapshot_repo(agent)
    judged: list[int] = []
    real_judge = driftcheck.engine.judge.judge

    def counting(*args: Any, **kwargs: Any) -> Any:
        judged.append(1)
        return real_judge(*args, **kwargs)

    monkeypatch.setattr(driftcheck.engine.judge, "judge", counting)
    monkeypatch.chdir(agent)  # where the agent runs its hook: relative paths start here
    examples: list[int] = []

    @fuzz_settings(120)
    @given(payload=payloads(agent, agent_name))
    def fuzz(payload: dict[str, Any]) -> None:
        examples.append(1)
        assert_answer(agent_name, json.dumps(payload).encode("utf-8", "surrogatepass"))

    fuzz()
    assert snapshot_repo(agent) == before
    # The generator must keep reaching a real judgement, not only the early refusals.
    assert len(judged) >= 8, f"only {len(judged)} of {len(examples)} examples were judged"


def test_any_json_and_raw_bytes(agent: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(agent)

    @fuzz_settings(150)
    @given(
        raw=json_values.map(lambda v: json.dumps(v).encode())
        | st.binary(max_size=300)
        | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        agent_name=st.sampled_from(["claude", "codex"]),
    )
    def fuzz(raw: bytes, agent_name: str) -> None:
        assert_answer(agent_name, raw)

    fuzz()


def test_a_few_through_the_cli(agent: Path) -> None:
    @fuzz_settings(6)
    @given(data=st.data(), agent_name=st.sampled_from(["claude", "codex"]))
    def fuzz(data: st.DataObject, agent_name: str) -> None:
        payload = data.draw(payloads(agent, agent_name))
        data = json.dumps(payload).encode("utf-8", "surrogatepass")
        result = run_cli("hook", agent_name, "--deadline-ms", "60000", cwd=agent, input=data)
        output = assert_hook(result, "any", agent_name, "fuzzed payload")
        assert "internal error" not in result.stderr
        if output is not None and agent_name == "codex":
            assert output.get("permissionDecision") in (None, "deny")

    fuzz()
