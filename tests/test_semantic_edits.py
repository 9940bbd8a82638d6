"""contradicting-edit: what is judged, what git says about it, and what each side did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_semantic_stale import scan_findings

PRICING = """\
RATE = 20


def net(amount, discount=0):
    base = amount - discount
    if base < 0:
        base = 0
    return base


def gross(amount):
    value = net(amount)
    return value * (100 + RATE) // 100
"""


def edits(tmp_path: Path, base: dict, left: dict, right: dict, **kw: Any) -> list[dict[str, Any]]:
    return scan_findings(tmp_path, base, left, right, kind="contradicting-edit", **kw)


def test_same_lines_in_conflict_are_the_textual_findings_only(tmp_path: Path) -> None:
    """Both sides rewrite the same line: git reports the conflict (DC101), and a
    contradicting edit there would only say it again, whichever kinds run."""
    left = {"pricing.py": PRICING.replace("base = 0", "base = amount")}
    right = {"pricing.py": PRICING.replace("base = 0", "return 0")}
    base = {"pricing.py": PRICING}
    only = frozenset({"contradicting-edit"})
    assert edits(tmp_path / "only", base, left, right, only=only) == []
    found = scan_findings(tmp_path / "all", base, left, right)
    assert [f["code"] for f in found] == ["DC101"]


def test_a_conflict_elsewhere_in_the_file_is_not_this_functions(tmp_path: Path) -> None:
    left = {"pricing.py": PRICING.replace("RATE = 20", "RATE = 21").replace("- discount", "- 1")}
    right = {
        "pricing.py": PRICING.replace("RATE = 20", "RATE = 19").replace("return base", "return 1")
    }
    found = scan_findings(tmp_path, {"pricing.py": PRICING}, left, right)
    by_code = {f["code"]: f for f in found}
    # RATE conflicts (the textual finding says it); net's edits merge cleanly and meet.
    assert sorted(by_code) == ["DC101", "DC401"]
    assert by_code["DC101"]["line"] == 1
    assert by_code["DC401"]["details"]["textual_conflict"] is False


def test_a_rename_that_git_carries_the_edit_into_is_not_reported(tmp_path: Path) -> None:
    """One side renames gross in place, the other edits its body: git merges both into
    gross_price, so nothing is lost. (This test used to expect DC402: the claim that
    the edit "would be lost or orphaned" was false of git's merge.)"""
    moved = PRICING.replace("def gross(amount):", "def gross_price(amount):")
    left = {"pricing.py": moved}
    right = {"pricing.py": PRICING.replace("// 100", "/ 100")}
    assert edits(tmp_path, {"pricing.py": PRICING}, left, right) == []


def test_move_to_another_module_versus_edit_says_where_the_edit_belongs(tmp_path: Path) -> None:
    gross = PRICING[PRICING.index("def gross") :]
    left = {
        "pricing.py": PRICING[: PRICING.index("def gross")].rstrip() + "\n",
        "billing.py": "from pricing import RATE, net\n\n\n" + gross,
    }
    right = {"pricing.py": PRICING.replace("// 100", "/ 100")}
    found = edits(tmp_path, {"pricing.py": PRICING}, left, right)
    assert [(f["code"], f["symbol"]) for f in found] == [("DC402", "pricing.gross")]
    assert found[0]["details"]["new_qualname"] == "billing.gross"
    assert "apply the change to billing.gross instead" in found[0]["message"]
    assert "+    return value * (100 + RATE) / 100" in found[0]["details"]["modification"]


def test_same_name_added_far_apart_merges_cleanly_and_later_wins(tmp_path: Path) -> None:
    helper = "def clamp(x):\n    if x < 0:\n        return 0\n    return min(x, {top})\n\n\n"
    left = {"pricing.py": helper.format(top=100) + PRICING}
    right = {"pricing.py": PRICING + "\n\n" + helper.format(top=999)}
    found = edits(tmp_path, {"pricing.py": PRICING}, left, right)
    assert [(f["code"], f["symbol"], f["severity"]) for f in found] == [
        ("DC403", "pricing.clamp", "error")
    ]
    assert found[0]["details"]["textual_conflict"] is False
    assert "the later one silently wins" in found[0]["message"]
    definitions = found[0]["details"]["left_definition"] + found[0]["details"]["right_definition"]
    assert "min(x, 100)" in definitions and "min(x, 999)" in definitions


def test_agreeing_edits_are_not_contradictions(tmp_path: Path) -> None:
    """The same fix written differently (a renamed local, a comment) is not a conflict
    of intent; neither is one side adding only a docstring."""
    fix = PRICING.replace("base = 0", "base = 1")
    left = {"pricing.py": fix}
    right = {
        "pricing.py": fix.replace("base", "net_amount").replace(
            "def gross(amount):\n", 'def gross(amount):\n    """With tax."""\n'
        )
    }
    assert edits(tmp_path, {"pricing.py": PRICING}, left, right) == []


def test_definition_level_ignore(tmp_path: Path) -> None:
    left = {"pricing.py": PRICING.replace("base = 0", "base = amount")}
    right = {
        "pricing.py": PRICING.replace("base = 0", "return 0").replace(
            "def net(amount, discount=0):", "def net(amount, discount=0):  # driftcheck: ignore"
        )
    }
    assert edits(tmp_path, {"pricing.py": PRICING}, left, right) == []


def test_entries_added_to_the_same_collection_compose(tmp_path: Path) -> None:
    """Both sides exporting a new name in `__all__` is not a contradiction, nor is one
    side changing an entry while the other adds one; both changing the same entry is
    a textual conflict on that line."""
    base = {"pkg/__init__.py": '__all__ = [\n    "a",\n    "b",\n]\nLIMITS = {\n    "a": 1,\n}\n'}
    left = {
        "pkg/__init__.py": base["pkg/__init__.py"]
        .replace('"b",\n', '"b",\n    "c",\n')
        .replace('"a": 1', '"a": 2')
    }
    right = {
        "pkg/__init__.py": base["pkg/__init__.py"]
        .replace('"a",\n    "b"', '"d",\n    "a",\n    "b"')
        .replace('"a": 1,\n', '"a": 1,\n    "z": 0,\n')
    }
    assert edits(tmp_path / "compose", base, left, right) == []
    both = {"pkg/__init__.py": base["pkg/__init__.py"].replace('"a": 1', '"a": 3')}
    found = scan_findings(tmp_path / "same", base, left, both)
    assert [f["code"] for f in found] == ["DC101"]


def test_edits_to_different_nested_functions_do_not_contradict(tmp_path: Path) -> None:
    base = """\
def make_handlers(prefix):
    def on_start(event):
        name = prefix + event
        return name.upper()

    def on_stop(event):
        name = prefix + event
        return name.lower()

    return on_start, on_stop
"""
    left = {"handlers.py": base.replace("return name.upper()", "return name.title()")}
    right = {"handlers.py": base.replace("return name.lower()", "return name.strip()")}
    assert edits(tmp_path, {"handlers.py": base}, left, right) == []
    # The same nested function, the same line: git's conflict says it.
    both = {"handlers.py": base.replace("name.upper()", "name.casefold()")}
    found = scan_findings(tmp_path / "again", {"handlers.py": base}, left, both)
    assert [f["code"] for f in found] == ["DC101"]
