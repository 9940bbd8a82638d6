"""duplicate: clones added on both sides, inlined helpers, names claimed twice, base copies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_semantic_stale import scan_findings

DISCOVER = """
from pathlib import Path


def {name}({root}, suffix=".pkl"):
    if not {root}.is_dir():
        return []
    found = [p for p in {root}.rglob("*" + suffix) if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)
"""


def dups(tmp_path: Path, base: dict, left: dict, right: dict, **kw: Any) -> list[dict[str, Any]]:
    return scan_findings(tmp_path, base, left, right, kind="duplicate", **kw)


def brief(findings: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    return sorted((f["code"], f["path"], f["symbol"]) for f in findings)


def test_two_classes_are_one_finding_not_one_per_method(tmp_path: Path) -> None:
    cls = """
class {name}:
    def __init__(self, root):
        self.root = root
        self.seen = set()
        self.count = 0

    def scan(self, suffix):
        found = [p for p in self.root.rglob("*" + suffix) if p.is_file()]
        self.seen.update(found)
        self.count += len(found)
        return found
"""
    found = dups(
        tmp_path,
        {"app.py": "X = 1\n"},
        {"a.py": cls.format(name="Finder")},
        {"b.py": cls.format(name="Locator")},
    )
    assert [f["code"] for f in found] == ["DC301"]
    symbols = {loc["symbol"] for loc in found[0]["details"]["locations"]}
    assert symbols == {"a.Finder", "b.Locator"}
    assert found[0]["details"]["similarity"] == 1.0


SAME_NAMES_LEFT = """
def export_rows(rows):
    total = 0
    for row in rows:
        total += row
    return total


def main():
    for row in range(3):
        print(row)
    return 0


def _helper(rows):
    return sorted(set(rows), reverse=True)[:3] or [None] * 2 + list(rows)


def test_rows():
    assert export_rows([1, 2]) == 3
    assert main() == 0
    assert _helper([]) == [None, None]


class Thing:
    def combine(self, rows):
        merged = {}
        for row in rows:
            merged.setdefault(row.key, []).append(row)
        return merged
"""
SAME_NAMES_RIGHT = """
import csv
import io


def export_rows(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def main():
    import sys

    sys.stdout.write(export_rows([[1, 2]]))
    raise SystemExit(0)


def _helper(rows):
    text = "".join(map(str, rows))
    if not text:
        raise ValueError("empty")
    return text.upper()


def test_rows():
    out = export_rows([["a", "b"]])
    assert out.strip() == "a,b"
    assert out.endswith("\\r\\n")


class Other:
    def combine(self, rows):
        if not rows:
            return None
        first, *rest = rows
        return first.merge(*rest)
"""


def test_same_name_rules(tmp_path: Path) -> None:
    """Only a public module-level name is claimed twice; methods of different classes,
    `main`, private helpers and tests may share names."""
    left, right = {"left.py": SAME_NAMES_LEFT}, {"right.py": SAME_NAMES_RIGHT}
    found = dups(tmp_path, {"app.py": "X = 1\n"}, left, right)
    names = {loc["symbol"] for f in found for loc in f["details"]["locations"]}
    assert [f["code"] for f in found] == ["DC302"], found
    assert names == {"left.export_rows", "right.export_rows"}
    assert "rename one" in found[0]["message"]


def test_inlined_only_when_the_editor_wrote_it(tmp_path: Path) -> None:
    """A helper equal to code the host already had at the base is not the editor's."""
    loop = (
        "    if not root.is_dir():\n        return []\n"
        '    found = [p for p in root.rglob("*.pkl") if p.is_file()]\n'
        "    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)\n"
    )
    base = {"svc.py": "from pathlib import Path\n\nroot = Path('m')\n\n\ndef serve():\n" + loop}
    helper = {"disc.py": DISCOVER.format(name="discover", root="root")}
    touched = {"svc.py": base["svc.py"].replace("def serve():\n", "def serve():\n    print(1)\n")}
    found = dups(tmp_path, base, helper, touched)
    # Not "inlined" (serve had that loop before); the helper copies existing code.
    assert brief(found) == [("DC303", "disc.py", "disc.discover")]
    assert found[0]["details"]["existing"]["symbol"] == "svc.serve"


def test_min_statements_from_the_dedicated_config_file(tmp_path: Path) -> None:
    base = {
        "app.py": "X = 1\n",
        ".driftcheck.toml": "[duplicate]\nmin-statements = 5\n",
    }
    left = {"a.py": DISCOVER.format(name="discover", root="root")}
    right = {"b.py": DISCOVER.format(name="list_models", root="folder")}
    # Four statements, fewer than the configured five: not reported.
    assert dups(tmp_path, base, left, right) == []


def test_definition_level_ignore(tmp_path: Path) -> None:
    left = {"a.py": DISCOVER.format(name="discover", root="root")}
    right = {
        "b.py": DISCOVER.format(name="list_models", root="folder").replace(
            'suffix=".pkl"):', 'suffix=".pkl"):  # driftcheck: ignore[duplicate]'
        )
    }
    assert dups(tmp_path, {"app.py": "X = 1\n"}, left, right) == []


def test_a_rename_with_edits_is_not_a_copy_of_itself(tmp_path: Path) -> None:
    """The side removed the base function it resembles: nothing 'already exists'."""
    fn = DISCOVER.format(name="{name}", root="root")
    base = {"disc.py": fn.format(name="discover"), "app.py": "X = 1\n"}
    renamed = {"disc.py": fn.format(name="find_models").replace("reverse=True", "reverse=False")}
    assert dups(tmp_path, base, renamed, {"app.py": "X = 2\n"}) == []


def test_code_outside_tests_is_not_sent_to_a_test_helper(tmp_path: Path) -> None:
    """DC303 for code outside tests looks at code outside tests only: a helper in
    tests/ is nothing for it to import. A test helper may repeat one in tests/."""
    base = {
        "app.py": "X = 1\n",
        "tests/helpers.py": DISCOVER.format(name="find_models", root="root"),
    }
    copied = DISCOVER.format(name="discover", root="folder")
    assert dups(tmp_path / "code", base, {"disc.py": copied}, {"b.py": "Y = 2\n"}) == []
    found = dups(tmp_path / "tests", base, {"tests/disc.py": copied}, {"b.py": "Y = 2\n"})
    assert brief(found) == [("DC303", "tests/disc.py", "tests.disc.discover")]
    assert found[0]["details"]["existing"]["symbol"] == "tests.helpers.find_models"
