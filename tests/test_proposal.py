"""What an agent is about to write, computed in memory from its tool call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftcheck.integrations.proposal import (
    ProposalError,
    ProposedFile,
    apply_edit,
    from_claude,
    from_codex,
    parse_apply_patch,
)

TEXT = "alpha\nbeta\ngamma\nbeta\n"


def claude(tool: str, **tool_input: Any) -> dict[str, Any]:
    return {"tool_name": tool, "tool_input": tool_input}


def contents(files: list[ProposedFile]) -> dict[str, bytes | None]:
    return {str(f.path): f.content for f in files}


# --- Claude Code --------------------------------------------------------------------


def test_apply_edit_rules() -> None:
    assert apply_edit(TEXT, "alpha", "ALPHA") == TEXT.replace("alpha", "ALPHA")
    assert apply_edit(TEXT, "beta", "B", replace_all=True) == "alpha\nB\ngamma\nB\n"
    assert apply_edit("", "", "new\n") == "new\n"
    for old, replace_all in [("beta", False), ("delta", False), ("delta", True), ("", False)]:
        with pytest.raises(ProposalError):
            apply_edit(TEXT, old, "x", replace_all=replace_all)


@given(
    st.text(alphabet="ab\n", max_size=30),
    st.text(alphabet="ab\n", min_size=1, max_size=4),
    st.text(max_size=5),
)
def test_replace_all_is_plain_replacement(text: str, old: str, new: str) -> None:
    if old in text:
        assert apply_edit(text, old, new, replace_all=True) == text.replace(old, new)
    else:
        with pytest.raises(ProposalError):
            apply_edit(text, old, new, replace_all=True)


def test_write_edit_and_multiedit(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(TEXT.encode())
    write = from_claude(claude("Write", file_path=str(path), content="new\n"), tmp_path)
    assert contents(write) == {str(path): b"new\n"}
    edit = claude("Edit", file_path=str(path), old_string="gamma", new_string="G")
    assert contents(from_claude(edit, tmp_path)) == {str(path): b"alpha\nbeta\nG\nbeta\n"}
    multi = claude(
        "MultiEdit",
        file_path=str(path),
        edits=[
            {"old_string": "beta", "new_string": "B", "replace_all": True},
            {"old_string": "alpha\nB", "new_string": "A"},  # sees the first edit's result
        ],
    )
    assert contents(from_claude(multi, tmp_path)) == {str(path): b"A\ngamma\nB\n"}
    assert path.read_bytes() == TEXT.encode()  # nothing is written


def test_edit_creating_a_file_with_empty_old_string(tmp_path: Path) -> None:
    path = tmp_path / "new" / "f.py"
    edit = claude("Edit", file_path=str(path), old_string="", new_string="x = 1\n")
    assert contents(from_claude(edit, tmp_path)) == {str(path): b"x = 1\n"}
    assert not path.exists()


def test_replace_all_must_be_true_not_truthy(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text(TEXT)
    edit = claude("Edit", file_path=str(path), old_string="beta", new_string="B", replace_all="no")
    with pytest.raises(ProposalError):
        from_claude(edit, tmp_path)


def test_bytes_that_are_not_utf8_survive_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00\xff\xfe zzz \x80\n")
    edit = claude("Edit", file_path=str(path), old_string="zzz", new_string="yy")
    assert contents(from_claude(edit, tmp_path)) == {str(path): b"\x00\xff\xfe yy \x80\n"}


@pytest.mark.parametrize(
    "tool_input",
    [
        {"file_path": "relative.txt", "content": "x"},
        {"file_path": "", "content": "x"},
        {"file_path": "/a\0b", "content": "x"},
        {"file_path": None, "content": "x"},
        {"content": "x"},
    ],
)
def test_unusable_paths_are_refused(tmp_path: Path, tool_input: dict[str, Any]) -> None:
    with pytest.raises(ProposalError):
        from_claude({"tool_name": "Write", "tool_input": tool_input}, tmp_path)


@pytest.mark.parametrize(
    "payload",
    [
        {"tool_name": "Write"},
        {"tool_name": "Write", "tool_input": []},
        claude("Edit", file_path="/nonexistent/driftcheck/f.txt", old_string="a", new_string="b"),
        claude("Edit", file_path="/x", old_string=1, new_string="b"),
        claude("MultiEdit", file_path="/x", edits=[]),
        claude("MultiEdit", file_path="/x", edits=["nope"]),
        claude("Read", file_path="/x"),
    ],
)
def test_unusable_tool_calls_are_refused(tmp_path: Path, payload: dict[str, Any]) -> None:
    with pytest.raises(ProposalError):
        from_claude(payload, tmp_path)


# --- Codex apply_patch --------------------------------------------------------------


def test_add_delete_update_and_move(tmp_path: Path) -> None:
    (tmp_path / "old.py").write_text("a = 1\nb = 2\n")
    (tmp_path / "gone.py").write_text("x\n")
    body = (
        "*** Begin Patch\n"
        "*** Add File: pkg/new.py\n+line one\n+line two\n"
        "*** Delete File: gone.py\n"
        "*** Update File: old.py\n*** Move to: pkg/moved.py\n@@\n a = 1\n-b = 2\n+b = 3\n"
        "*** End Patch\n"
    )
    assert contents(parse_apply_patch(body, tmp_path)) == {
        str(tmp_path / "pkg/new.py"): b"line one\nline two\n",
        str(tmp_path / "gone.py"): None,
        str(tmp_path / "old.py"): None,
        str(tmp_path / "pkg/moved.py"): b"a = 1\nb = 3\n",
    }
    assert (tmp_path / "gone.py").exists() and not (tmp_path / "pkg").exists()


def test_anchors_narrow_down_in_order(tmp_path: Path) -> None:
    source = "class A:\n    def f(self):\n        return 1\n\n\nclass B:\n    def f(self):\n"
    source += "        return 1\n"
    (tmp_path / "m.py").write_text(source)
    body = (
        "*** Update File: m.py\n@@ class B:\n@@     def f(self):\n"
        "-        return 1\n+        return 2\n"
    )
    (result,) = parse_apply_patch(body, tmp_path)
    assert result.content == source[: source.rindex("1")].encode() + b"2\n"


def test_pure_addition_goes_to_the_end(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("a = 1\nb = 2\n")
    (result,) = parse_apply_patch("*** Update File: m.py\n@@\n+c = 3\n", tmp_path)
    assert result.content == b"a = 1\nb = 2\nc = 3\n"


def test_line_endings_and_form_feeds_are_kept(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_bytes(b"a = 1\r\n\x0cb = 2\r\nc = 3\r\n")
    body = "*** Update File: m.py\r\n@@\r\n-c = 3\r\n+c = 4\r\n"
    (result,) = parse_apply_patch(body, tmp_path)
    # Untouched lines keep their CR and form feed; the patched line is as written.
    assert result.content == b"a = 1\r\n\x0cb = 2\r\nc = 4\n"


def test_multiple_hunks_apply_in_order(tmp_path: Path) -> None:
    (tmp_path / "m.txt").write_text("".join(f"{n}\n" for n in range(10)))
    body = "*** Update File: m.txt\n@@\n 1\n-2\n+two\n@@\n 7\n-8\n+eight\n"
    (result,) = parse_apply_patch(body, tmp_path)
    assert result.content == b"0\n1\ntwo\n3\n4\n5\n6\n7\neight\n9\n"


@pytest.mark.parametrize(
    "body",
    [
        "no headers at all",
        "*** Update File: m.py\n@@\n-not there\n+x\n",
        "*** Update File: m.py\n@@ def nowhere():\n-a = 1\n+a = 2\n",
        "*** Update File: missing.py\n@@\n-a\n+b\n",
        "*** Add File: \n+x\n",
    ],
)
def test_patches_that_cannot_apply_are_refused(tmp_path: Path, body: str) -> None:
    (tmp_path / "m.py").write_text("a = 1\n")
    with pytest.raises(ProposalError):
        parse_apply_patch(body, tmp_path)


def test_codex_payload_shapes(tmp_path: Path) -> None:
    body = "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch\n"
    for command in (body, ["apply_patch", body]):
        payload = {"tool_name": "apply_patch", "tool_input": {"command": command}}
        assert contents(from_codex(payload, tmp_path)) == {str(tmp_path / "a.txt"): b"x\n"}
    for tool_input in ({}, {"command": 3}, {"command": ["apply_patch"]}, "x"):
        with pytest.raises(ProposalError):
            from_codex({"tool_name": "apply_patch", "tool_input": tool_input}, tmp_path)
