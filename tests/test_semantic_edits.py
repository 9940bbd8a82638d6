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


def test_same_lines_also_conflict_even_when_only_this_kind_runs(tmp_path: Path) -> None:
    """--only contradicting-edit skips the textual detector; the answer must not change."""
    left = {"pricing.py": PRICING.replace("base = 0", "base = amount")}
    right = {"pricing.py": PRICING.replace("base = 0", "return 0")}
    found = edits(
        tmp_path, {"pricing.py": PRICING}, left, right, only=frozenset({"contradicting-edit"})
    )
    assert [(f["code"], f["symbol"]) for f in found] == [("DC401", "pricing.net")]
    details = found[0]["details"]
    assert details["textual_conflict"] is True
    assert "git also reports a textual conflict" in found[0]["message"]
    # Each side's edit, against the base, with the file's line numbers.
    edits_shown = {details["left_edit"], details["right_edit"]}
    assert any("+        base = amount" in e and e.startswith("@@ -6,") for e in edits_shown)
    assert any("+        return 0" in e for e in edits_shown)


def test_a_conflict_elsewhere_in_the_file_is_not_this_functions(tmp_path: Path) -> None:
    left = {"pricing.py": PRICING.replace("RATE = 20", "RATE = 21").replace("- discount", "- 1")}
    right = {
        "pricing.py": PRICING.replace("RATE = 20", "RATE = 19").replace("return base", "return 1")
    }
    found = edits(tmp_path, {"pricing.py": PRICING}, left, right)
    by_code = {f["code"]: f for f in found}
    assert sorted(by_code) == ["DC401", "DC404"]
    assert by_code["DC404"]["details"]["textual_conflict"] is True
    assert by_code["DC401"]["details"]["textual_conflict"] is False


def test_move_versus_edit_says_where_the_edit_belongs(tmp_path: Path) -> None:
    moved = PRICING.replace("def gross(amount):", "def gross_price(amount):")
    left = {"pricing.py": moved}
    right = {"pricing.py": PRICING.replace("// 100", "/ 100")}
    found = edits(tmp_path, {"pricing.py": PRICING}, left, right)
    assert [(f["code"], f["symbol"]) for f in found] == [("DC402", "pricing.gross")]
    assert found[0]["details"]["new_qualname"] == "pricing.gross_price"
    assert "apply the change to pricing.gross_price instead" in found[0]["message"]
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
    """Both sides exporting a new name in `__all__` is not a contradiction; both
    changing the same entry is."""
    base = {"pkg/__init__.py": '__all__ = ["a", "b"]\nLIMITS = {"a": 1}\n'}
    left = {"pkg/__init__.py": '__all__ = ["a", "b", "c"]\nLIMITS = {"a": 2}\n'}
    right = {"pkg/__init__.py": '__all__ = ["a", "d", "b"]\nLIMITS = {"a": 1, "z": 0}\n'}
    found = edits(tmp_path, base, left, right)
    assert [(f["code"], f["symbol"]) for f in found] == [("DC404", "pkg.LIMITS")]


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
    both = {"handlers.py": base.replace("name.upper()", "name.casefold()")}
    found = edits(tmp_path / "again", {"handlers.py": base}, left, both)
    assert [f["code"] for f in found] == ["DC401"]
