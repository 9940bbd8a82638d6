"""A package renamed whole on one side while the other goes on working in it (issue #13).

Found on black: two pull requests renamed the package `black` to `prism`, rewriting
every import; the trunk meanwhile edited the old files. git's rename detection carries
the trunk's edits into the new files and conflicts on the import blocks both changed.
Before these fixes such pairs drew over 200 findings, most restating git's conflicts
or calling a mechanical rename an edit; the real breakage (a clean line still naming
the old package) must stay.
"""

from __future__ import annotations

from pathlib import Path

from test_semantic_stale import scan_findings

MODE = """\
import enum


class Mode:
    def __init__(self, line_length=88):
        self.line_length = line_length


class Preview(enum.Enum):
    hug = 1
    wrap = 2
"""
LINES = """\
from pkg.mode import Mode


def fits(line, mode: Mode):
    return len(line) <= mode.line_length


def width(lines, mode: Mode):
    return max(len(line) for line in lines)


def count(lines):
    return len(lines)
"""
TESTS = """\
import pkg


class PkgRunner:
    def run(self, text):
        return pkg.Mode(line_length=len(text))


def test_mode():
    assert pkg.Mode(line_length=3).line_length == 3


def test_power():
    mode = pkg.Mode(line_length=0)
    assert mode.line_length == 0


def test_runner():
    assert PkgRunner().run("ab").line_length == 2


def test_split():
    parts = "a b c".split()
    assert parts == ["a", "b", "c"]
    assert len(parts) == 3


def test_join():
    text = "-".join(["a", "b"])
    assert text == "a-b"
    assert text.count("-") == 1


def test_strip():
    assert "  x ".strip() == "x"
    assert " y".lstrip() == "y"
"""
INIT = """\
\"\"\"Format lines to a width: the modes, and how lines fit them.\"\"\"

from pkg.mode import Mode, Preview

__all__ = ["Mode", "Preview", "VERSION", "DEFAULT_WIDTH"]

VERSION = "1.0"
DEFAULT_WIDTH = 88
"""


def renamed(text: str) -> str:
    return text.replace("pkg", "newpkg").replace("Pkg", "Newpkg")


def scenario(tmp_path: Path, trunk: dict[str, str | None]) -> list[dict]:
    base = {
        "pkg/__init__.py": INIT,
        "pkg/mode.py": MODE,
        "pkg/lines.py": LINES,
        "tests/test_pkg.py": TESTS,
    }
    renamer: dict[str, str | None] = {path: None for path in base}
    renamer.update({renamed(path): renamed(text) for path, text in base.items()})
    return scan_findings(tmp_path, base, renamer, trunk)


def test_a_use_whose_import_only_git_conflicts_on_is_not_stale(tmp_path: Path) -> None:
    """The trunk widens `from pkg.mode import Mode` to import Preview too and adds a
    function annotated with Mode; the renamer rewrote that import line. git conflicts
    on the import and both of its sides import Mode, so the new function's bare Mode
    resolves whichever way the conflict is settled."""
    lines = LINES.replace("import Mode\n", "import Mode, Preview\n") + (
        "\n\ndef hugs(mode: Mode):\n    return Preview.hug in mode.line_length\n"
    )
    found = scenario(tmp_path, {"pkg/lines.py": lines})
    assert [f for f in found if f["kind"] == "stale-caller"] == []
    assert "DC101" in {f["code"] for f in found}  # git's own conflict stays reported


def test_a_bare_use_is_judged_by_its_import_not_by_other_lines(tmp_path: Path) -> None:
    """As above, and the trunk also adds a clean line that spells `pkg.Mode`
    out: that line is stale, and reported; the bare Mode uses stay unreported
    although the file still names the old package elsewhere (found on black: bare uses
    reported because some other clean line named the old package)."""
    lines = LINES.replace("import Mode\n", "import Mode, Preview\n") + (
        "\n\ndef hugs(mode: Mode):\n    return Preview.hug in mode.line_length\n"
        "\n\ndef default_mode():\n    import pkg\n\n    return pkg.Mode(line_length=1)\n"
    )
    found = scenario(tmp_path, {"pkg/lines.py": lines})
    numbered = lines.splitlines()
    hugs = numbered.index("def hugs(mode: Mode):") + 1
    default = numbered.index("def default_mode():") + 1
    stale = [n for f in found if f["kind"] == "stale-caller" for n in f["details"]["lines"]]
    assert stale and all(n > default for n in stale), (stale, hugs, default)


def test_a_clean_line_still_naming_the_old_package_is_stale(tmp_path: Path) -> None:
    """The trunk adds a test far from any conflict that calls `pkg.Mode(...)` and one
    that uses PkgRunner, which the renamer renamed with its file. git merges both
    into tests/test_newpkg.py, where neither name exists any more."""
    tests = TESTS + (
        "\n\ndef test_wide():\n    assert pkg.Mode(line_length=120).line_length == 120\n"
        "\n\ndef test_runner_twice():\n    assert PkgRunner().run('abc').line_length == 3\n"
    )
    found = scenario(tmp_path, {"tests/test_pkg.py": tests})
    stale = {f["code"]: f for f in found if f["kind"] == "stale-caller"}
    assert sorted(stale) == ["DC202", "DC204"]
    assert stale["DC204"]["symbol"] == "tests.test_pkg.PkgRunner"
    assert "NewpkgRunner" in stale["DC204"]["message"]
    # the package was renamed, not deleted: the message says so and where it went
    assert "renames pkg/__init__.py to newpkg/__init__.py" in stale["DC202"]["message"]
    assert "use newpkg instead" in stale["DC202"]["message"]


FORMAT = """\
import pkg


def test_short():
    mode = pkg.Mode(line_length=10)
    assert mode.line_length == 10


def test_power():
    mode = pkg.Mode(line_length=0)
    assert mode.line_length == 0
"""
WITHOUT_POWER = FORMAT.split("\n\n\ndef test_power")[0] + "\n"


def format_scenario(tmp_path: Path, renamed_format: str) -> list[dict]:
    """The renamer rewrites tests/test_format.py (which keeps its name) as
    `renamed_format`; the trunk deletes test_power from it."""
    base = {"pkg/__init__.py": INIT, "pkg/mode.py": MODE, "tests/test_format.py": FORMAT}
    renamer: dict[str, str | None] = {"pkg/__init__.py": None, "pkg/mode.py": None}
    renamer.update({"newpkg/__init__.py": renamed(INIT), "newpkg/mode.py": MODE})
    renamer["tests/test_format.py"] = renamed_format
    return scan_findings(tmp_path, base, renamer, {"tests/test_format.py": WITHOUT_POWER})


def test_a_function_only_renamed_along_is_not_modified(tmp_path: Path) -> None:
    """test_power's only change on the renaming side is `pkg.Mode` becoming
    `newpkg.Mode`: the trunk's deletion of it loses nothing, so no DC402."""
    found = format_scenario(tmp_path, renamed(FORMAT))
    assert [f for f in found if f["code"] == "DC402"] == []


def test_a_real_edit_beside_the_rename_is_still_reported(tmp_path: Path) -> None:
    """Control: when the renaming side also changes what test_power checks, the
    trunk's deletion of it is worth a look."""
    edited = renamed(FORMAT).replace(
        "    assert mode.line_length == 0\n", "    assert mode.line_length == 0\n    assert mode\n"
    )
    found = format_scenario(tmp_path, edited)
    assert [f["symbol"] for f in found if f["code"] == "DC402"] == ["tests.test_format.test_power"]
