"""Regressions found on real concurrent pull requests (issue #13), one test per cause.

Each test is named after what it shows, and each failed on the code before its fix.
The cases are small, but each is the shape of findings seen on real projects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import commit_all, git, init_repo, run_cli
from test_semantic_stale import scan_findings

BASE = {"pkg/__init__.py": "", "pkg/core.py": "def add(a, b):\n    return a + b\n"}
CHECKS = """
def check_sum(values, expected):
    total = 0
    for v in values:
        total += v
    assert total == expected
    return total


def check_product(values, expected):
    total = 1
    for v in values:
        total *= v
    assert total == expected
    return total
"""


def codes(found: list[dict]) -> list[tuple[str, str | None]]:
    return [(f["code"], f["symbol"]) for f in found]


# -- 1. mirror images --------------------------------------------------------------


def test_code_both_sides_add_identically_is_no_duplicate(tmp_path: Path) -> None:
    """Both branches add the same module (the same commits, or a squash-merged copy):
    git merges it into one copy, and `check_sum` must not be matched with the other
    side's sibling `check_product`."""
    side = {"pkg/checks.py": CHECKS}
    assert scan_findings(tmp_path, BASE, side, side, kind="duplicate") == []


def test_a_mirrored_file_does_not_hide_a_real_duplicate_beside_it(tmp_path: Path) -> None:
    helper = (
        "def {}(rows):\n    seen = set()\n    for row in rows:\n"
        "        seen.add(row.key)\n    return sorted(seen)\n"
    )
    left = {"pkg/checks.py": CHECKS, "pkg/a.py": helper.format("unique_keys")}
    right = {"pkg/checks.py": CHECKS, "pkg/b.py": helper.format("distinct_keys")}
    found = scan_findings(tmp_path, BASE, left, right, kind="duplicate")
    assert [f["code"] for f in found] == ["DC301"]
    located = {loc["symbol"] for loc in found[0]["details"]["locations"]}
    assert located == {"pkg.a.unique_keys", "pkg.b.distinct_keys"}


# -- 2. contradicting edits where nothing contradicts --------------------------------

FUNC = """\
def settle(order, items):
    total = 0
    for item in items:
        total += item.price

    if order.coupon:
        total -= order.coupon

    log(order)
    return total
"""


def test_one_edit_containing_the_other_is_no_contradiction(tmp_path: Path) -> None:
    """The right side made the left's edit and one more (a PR already in trunk, or a
    branch that merged it): git's merge is the right side's version."""
    first = FUNC.replace("total = 0", "total = 0.0")
    both = first.replace("log(order)", "log(order, total)")
    found = scan_findings(
        tmp_path,
        {"shop.py": FUNC},
        {"shop.py": first},
        {"shop.py": both},
        kind="contradicting-edit",
    )
    assert found == []


def test_a_textual_conflict_is_not_restated_as_a_contradicting_edit(tmp_path: Path) -> None:
    left = {"shop.py": FUNC.replace("total += item.price", "total += item.price * item.qty")}
    right = {"shop.py": FUNC.replace("total += item.price", "total += item.net_price")}
    found = scan_findings(tmp_path, {"shop.py": FUNC}, left, right)
    assert codes(found) == [("DC101", None)]


# -- 3. claims about the merge that the merge contradicts ---------------------------


def test_an_edit_git_carries_into_the_renamed_function_is_not_lost(tmp_path: Path) -> None:
    left = {"shop.py": FUNC.replace("def settle(", "def settle_order(")}
    right = {"shop.py": FUNC.replace("log(order)", "log(order, total)")}
    found = scan_findings(tmp_path, {"shop.py": FUNC}, left, right)
    assert [f for f in found if f["code"] == "DC402"] == []


def test_definitions_that_differ_only_in_annotations_are_no_error(tmp_path: Path) -> None:
    plain = "def ratio(a, b):\n    if not b:\n        return 0\n    return a / b\n"
    typed = plain.replace("(a, b):", "(a: float, b: float) -> float:")
    found = scan_findings(
        tmp_path,
        {"calc.py": "X = 1\n"},
        {"calc.py": "X = 1\n\n\n" + plain},
        {"calc.py": "X = 1\n\n\n" + typed},
        kind="contradicting-edit",
    )
    assert found == []


# -- 4. generated and annotation-only uses ------------------------------------------

TESTDIR = """\
class Testdir:
    def __init__(self, path):
        self.path = path

    def makefile(self, name):
        return self.path + "/" + name
"""
ATTRS_TESTDIR = """\
import attr


@attr.s
class Testdir:
    path = attr.ib()

    def makefile(self, name):
        return self.path + "/" + name
"""


def test_an_init_that_attrs_now_generates_is_not_removed(tmp_path: Path) -> None:
    use = "from testing.dirs import Testdir\n\n\ndef make(p):\n    return Testdir(p)\n"
    found = scan_findings(
        tmp_path,
        {"testing/__init__.py": "", "testing/dirs.py": TESTDIR},
        {"testing/dirs.py": ATTRS_TESTDIR},
        {"testing/use.py": use},
        kind="stale-caller",
    )
    assert found == []


def test_an_annotation_is_not_a_call(tmp_path: Path) -> None:
    """Changing how a class is built does not touch code that only names it."""
    use = (
        "from testing.dirs import Testdir\n\n\n"
        "def check(testdir: Testdir) -> str:\n    return testdir.makefile('x')\n"
    )
    changed = TESTDIR.replace("def __init__(self, path):", "def __init__(self, path, mode):")
    found = scan_findings(
        tmp_path,
        {"testing/__init__.py": "", "testing/dirs.py": TESTDIR},
        {"testing/dirs.py": changed},
        {"testing/use.py": use},
        kind="stale-caller",
    )
    assert found == []


def test_a_method_moved_up_to_the_base_class_still_answers(tmp_path: Path) -> None:
    base = (
        "class Base:\n    pass\n\n\nclass Shop(Base):\n"
        "    def total(self, items):\n        return sum(i.price for i in items)\n"
    )
    moved_up = (
        "class Base:\n    def total(self, items):\n        return sum(i.price for i in items)\n"
        "\n\nclass Shop(Base):\n    pass\n"
    )
    use = "from shop import Shop\n\n\ndef bill(items):\n    return Shop().total(items)\n"
    found = scan_findings(
        tmp_path, {"shop.py": base}, {"shop.py": moved_up}, {"bill.py": use}, kind="stale-caller"
    )
    assert found == []


# -- 7. recall gaps on unseen code ---------------------------------------------------

MARKDOWN = """\
class Markdown:
    elements = ["Paragraph", "Heading", "CodeBlock"]

    def render(self, text):
        return [kind for kind in self.elements if kind in text]
"""


def test_a_renamed_class_attribute_read_on_the_other_side_is_stale(tmp_path: Path) -> None:
    renamed = MARKDOWN.replace("elements", "element_types")
    use = (
        "from md import Markdown\n\n\n"
        "def kinds(md: Markdown) -> int:\n    return len(md.elements)\n"
    )
    found = scan_findings(
        tmp_path, {"md.py": MARKDOWN}, {"md.py": renamed}, {"report.py": use}, kind="stale-caller"
    )
    assert [(f["code"], f["symbol"], f["path"]) for f in found] == [
        ("DC203", "md.Markdown.elements", "report.py")
    ]
    assert found[0]["details"]["new_qualname"] == "md.Markdown.element_types"


# -- 5. renames read as removals ------------------------------------------------------

PATHS = """\
import os


def format_path(path, root):
    relative = os.path.relpath(path, root)
    if relative.startswith(".."):
        return path
    return relative.replace(os.sep, "/")
"""


def test_a_rename_that_also_edits_the_body_is_a_rename(tmp_path: Path) -> None:
    renamed = PATHS.replace("def format_path(", "def display_path(").replace(
        "        return path\n", "        return os.path.abspath(path)\n"
    )
    use = "from paths import format_path\n\n\ndef show(p):\n    return format_path(p, '.')\n"
    found = scan_findings(
        tmp_path, {"paths.py": PATHS}, {"paths.py": renamed}, {"show.py": use}, kind="stale-caller"
    )
    assert [(f["code"], f["symbol"]) for f in found] == [("DC203", "paths.format_path")]
    assert "renames to display_path" in found[0]["message"]


def test_a_compatibility_alias_keeps_the_old_name_working(tmp_path: Path) -> None:
    renamed = PATHS.replace("def format_path(", "def display_path(")
    for alias in (
        "format_path = display_path\n",
        "from paths import display_path as format_path\n",
    ):
        found = scan_findings(
            tmp_path / str(len(alias)),
            {"paths.py": PATHS},
            {"paths.py": renamed + "\n\n" + alias},
            {"show.py": "from paths import format_path\n\n\nprint(format_path('a', 'b'))\n"},
            kind="stale-caller",
        )
        assert found == [], alias


# -- 6. duplicates by shape alone -----------------------------------------------------

SLUG = """\
import re


def slugify(text):
    text = text.strip().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text)
    text = re.sub(r"-{2,}", "-", text)
    return text.strip("-")
"""


def test_a_function_turned_into_a_delegate_is_not_the_new_ones_twin(tmp_path: Path) -> None:
    """A side moves slugify's body into text.make_slug and leaves slugify delegating:
    the old body at the base is its own refactoring, not code to reuse."""
    moved = SLUG.replace("def slugify(", "def make_slug(")
    delegate = "from text import make_slug\n\n\ndef slugify(text):\n    return make_slug(text)\n"
    found = scan_findings(
        tmp_path,
        {"utils.py": SLUG, "text.py": "X = 1\n"},
        {"utils.py": delegate, "text.py": "X = 1\n\n\n" + moved},
        {"other.py": "Y = 2\n"},
        kind="duplicate",
    )
    assert found == []


EMBEDDED_TEST = '''
def {name}(pytester):
    pytester.makepyfile(
        """
        {program}
        """
    )
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(["*passed*"])
    assert result.ret == 0
'''


def test_tests_embedding_different_programs_are_not_duplicates(tmp_path: Path) -> None:
    left = EMBEDDED_TEST.format(
        name="test_fixture_scope", program="import pytest; def test_a(tmp_path): assert tmp_path"
    )
    right = EMBEDDED_TEST.format(
        name="test_marker_skip", program="import pytest; pytest.skip('later'); def test_b(): pass"
    )
    found = scan_findings(
        tmp_path,
        {"testing/__init__.py": "", "testing/test_x.py": "X = 1\n"},
        {"testing/test_scope.py": left},
        {"testing/test_skip.py": right},
        kind="duplicate",
    )
    assert found == []


# -- 8. criss-cross histories -----------------------------------------------------------


@pytest.mark.parametrize("checked_out", ["x", "y"])
def test_a_criss_cross_history_is_merged_against_every_base(
    tmp_path: Path, checked_out: str
) -> None:
    """x and y each merged the other's first commit and resolved the conflict on f.txt
    differently (x took y's version, y deleted the file). Against the one base
    `git merge-base` picks (it depends on the order it is asked in) they may look
    apart; git merges against a virtual base of both and reports a modify/delete
    conflict, so must driftcheck, in either order."""
    repo = init_repo(tmp_path / "repo", {"f.txt": "v1\n", "h.txt": "h\n"})
    git("checkout", "-q", "-b", "x", cwd=repo)
    (repo / "f.txt").write_text("v2\n")
    commit_all(repo, "X1")
    git("checkout", "-q", "-b", "y", "main", cwd=repo)
    (repo / "f.txt").write_text("v3\n")
    commit_all(repo, "Y1")
    git("checkout", "-q", "x", cwd=repo)
    git("merge", "-q", "y", "-m", "X2", cwd=repo, check=False)
    (repo / "f.txt").write_text("v3\n")
    commit_all(repo, "X2")
    git("checkout", "-q", "y", cwd=repo)
    git("merge", "-q", "x~1", "-m", "Y2", cwd=repo, check=False)
    git("rm", "-q", "f.txt", cwd=repo)
    commit_all(repo, "Y2")
    assert len(git("merge-base", "--all", "x", "y", cwd=repo).split()) == 2
    git("checkout", "-q", checked_out, cwd=repo)
    other = "y" if checked_out == "x" else "x"
    result = run_cli("scan", "--refs", f"refs/heads/{other}", "--format", "json", cwd=repo)
    findings = result.json()["findings"]
    assert [(f["code"], f["path"]) for f in findings] == [("DC103", "f.txt")]


# -- 9. changes a side did not make ------------------------------------------------------

LIB = """\
def fetch_rows(table):
    query = "select * from " + table
    return run(query)


def count_rows(table):
    return len(fetch_rows(table))
"""


def test_a_pull_request_is_not_charged_with_the_trunks_commits(tmp_path: Path) -> None:
    """The trunk renames fetch_rows after pr/b forked; pr/a forked after the rename.
    Against the merge base of a and b, a seems to rename it too, but that is the
    trunk's work: b's new call is drift against the trunk, not against a."""
    repo = init_repo(tmp_path / "repo", {"lib.py": LIB, "app.py": "X = 1\n"})
    git("branch", "pr/b", cwd=repo)
    (repo / "lib.py").write_text(LIB.replace("fetch_rows", "load_rows"))
    commit_all(repo, "trunk renames fetch_rows")
    git("checkout", "-q", "-b", "pr/a", cwd=repo)
    (repo / "app.py").write_text("X = 2\n")
    commit_all(repo, "a's own work")
    git("checkout", "-q", "pr/b", cwd=repo)
    (repo / "report.py").write_text("from lib import fetch_rows\n\nrows = fetch_rows('t')\n")
    commit_all(repo, "b's own work")
    git("checkout", "-q", "main", cwd=repo)
    args = ("scan", "--refs", "refs/heads/pr", "--trunk", "main", "--format", "json")
    findings = run_cli(*args, cwd=repo).json()["findings"]
    stale = [
        (f["code"], sorted(f["participants"])) for f in findings if f["kind"] == "stale-caller"
    ]
    assert stale == [("DC203", ["main", "pr/b"])]


# -- 2 (cont.). unrelated lines of one function ---------------------------------------

PAIRS = """\
def pair_up(names, values, strict_mode):
    if not names:
        return {}

    result = {}
    for name, value in zip(names, values):
        result[name] = value

    log(len(result))
    return result
"""


def test_unrelated_edits_in_one_function_do_not_contradict(tmp_path: Path) -> None:
    """`strict=True` on one side, an early return on the other: both land, and
    neither changes what the other's lines compute."""
    left = {"pairs.py": PAIRS.replace("zip(names, values)", "zip(names, values, strict=True)")}
    right = {
        "pairs.py": PAIRS.replace(
            "    log(len(result))\n",
            "    if strict_mode:\n        return result\n    log(len(result))\n",
        )
    }
    found = scan_findings(tmp_path, {"pairs.py": PAIRS}, left, right, kind="contradicting-edit")
    assert found == []


def test_two_guards_far_apart_are_a_judgement_call(tmp_path: Path) -> None:
    """Both sides guard an empty `values`, seven lines apart. Edits linked only by a
    guard, or far apart, were independent on real code (bench/realworld: of 28
    clean-merging pairs of edits to one function, 26 judged noise), so this is left
    to the reviewer, not reported."""
    left = {"pairs.py": PAIRS.replace("    if not names:\n", "    if not names or not values:\n")}
    right = {
        "pairs.py": PAIRS.replace(
            "    log(len(result))\n",
            "    if not values:\n        raise ValueError('no values')\n    log(len(result))\n",
        )
    }
    found = scan_findings(tmp_path, {"pairs.py": PAIRS}, left, right, kind="contradicting-edit")
    assert found == []


# -- 7 (cont.). implementers ---------------------------------------------------------

SERVICE_TS = """\
export interface UserService {
  find(id: string): string;
}
"""


def test_two_agents_extending_one_interface_two_ways(tmp_path: Path) -> None:
    """Each side adds a method to UserService and a class implementing only its own:
    git merges cleanly, the merged code does not compile."""

    def side(method: str, cls: str) -> dict[str, str]:
        interface = SERVICE_TS.replace("}", f"  {method}(id: string): void;\n}}")
        impl = (
            'import { UserService } from "./service";\n\n'
            f"export class {cls} implements UserService {{\n"
            "  find(id: string): string { return id; }\n"
            f"  {method}(id: string): void {{}}\n"
            "}\n"
        )
        return {"src/service.ts": interface, f"src/{cls.lower()}.ts": impl}

    found = scan_findings(
        tmp_path,
        {"src/service.ts": SERVICE_TS},
        side("archive", "Archiver"),
        side("remove", "Remover"),
        kind="stale-caller",
    )
    assert sorted((f["code"], f["symbol"], f["details"]["member"]) for f in found) == [
        ("DC205", "src/archiver.Archiver", "src/service.UserService.remove"),
        ("DC205", "src/remover.Remover", "src/service.UserService.archive"),
    ]


ABSTRACT_PY = """\
from abc import ABC, abstractmethod


class Exporter(ABC):
    @abstractmethod
    def export(self, rows):
        ...
"""


def test_a_new_abstract_method_and_a_new_subclass_without_it(tmp_path: Path) -> None:
    changed = ABSTRACT_PY + "\n    @abstractmethod\n    def close(self):\n        ...\n"
    subclass = (
        "from exporters import Exporter\n\n\n"
        "class CsvExporter(Exporter):\n    def export(self, rows):\n        return rows\n"
    )
    kept = subclass + "\n    def close(self):\n        pass\n"
    found = scan_findings(
        tmp_path / "missing",
        {"exporters.py": ABSTRACT_PY},
        {"exporters.py": changed},
        {"csv_export.py": subclass},
        kind="stale-caller",
    )
    assert [(f["code"], f["symbol"]) for f in found] == [("DC205", "csv_export.CsvExporter")]
    assert "add close to CsvExporter" in found[0]["message"]
    clean = scan_findings(
        tmp_path / "defined",
        {"exporters.py": ABSTRACT_PY},
        {"exporters.py": changed},
        {"csv_export.py": kept},
        kind="stale-caller",
    )
    assert clean == []


def test_a_rename_behind_an_export_star_barrel(tmp_path: Path) -> None:
    common = "export function formatDate(d: Date): string {\n  return d.toISOString();\n}\n"
    renamed = common.replace("formatDate", "formatDay")
    use = 'import { formatDate } from "./index";\n\nexport const today = formatDate(new Date());\n'
    found = scan_findings(
        tmp_path,
        {"src/common.ts": common, "src/index.ts": 'export * from "./common";\n'},
        {"src/common.ts": renamed},
        {"src/app.ts": use},
        kind="stale-caller",
    )
    assert [(f["code"], f["path"]) for f in found] == [("DC203", "src/app.ts")]
    assert found[0]["details"]["new_qualname"] == "src/common.formatDay"


ORDERS_GO = """\
package orders

type Item struct {
	Price float64
}

func Total(items []Item) float64 {
	sum := 0.0
	for _, it := range items {
		sum += it.Price
	}
	return sum
}
"""


def test_a_go_package_right_under_the_module_root(tmp_path: Path) -> None:
    """`example.com/app/orders` lives in `orders/`, not under `internal/`."""
    changed = ORDERS_GO.replace("Total(items []Item)", "Total(items []Item, discount float64)")
    report = (
        'package report\n\nimport "example.com/app/orders"\n\n'
        "func Daily(items []orders.Item) float64 {\n\treturn orders.Total(items)\n}\n"
    )
    found = scan_findings(
        tmp_path,
        {"go.mod": "module example.com/app\n\ngo 1.22\n", "orders/orders.go": ORDERS_GO},
        {"orders/orders.go": changed},
        {"report/report.go": report},
        kind="stale-caller",
    )
    assert [(f["code"], f["path"]) for f in found] == [("DC201", "report/report.go")]


def test_two_fixes_linked_only_by_a_call_are_not_reported(tmp_path: Path) -> None:
    """One side makes the first decode lenient, the other changes the fallback: they
    share an operation (`value.decode`) but no data flows between them. A shared call
    alone linked independent edits on real code, so it is not a finding."""
    base = (
        "def text_of(value):\n    try:\n        return value.decode('utf-8')\n"
        "    except UnicodeError:\n        pass\n\n    return value.decode('ascii', 'replace')\n"
    )
    left = {"conv.py": base.replace("decode('utf-8')", "decode('utf-8', 'replace')")}
    right = {"conv.py": base.replace("decode('ascii', 'replace')", "decode('latin-1')")}
    found = scan_findings(tmp_path, {"conv.py": base}, left, right, kind="contradicting-edit")
    assert found == []


def test_a_copy_with_a_few_small_edits_at_once_is_still_a_duplicate(tmp_path: Path) -> None:
    """Another accumulator type, item access by key instead of attribute, no
    docstring: each alone keeps the copy above the threshold, together they did not."""
    left = (
        "def total_price(items, rate):\n"
        '    """Sum prices."""\n'
        "    total = 0\n    for item in items:\n        if item.qty > 0:\n"
        "            total += item.price * item.qty\n    return total * rate\n"
    )
    right = (
        "def order_sum(lines, rate):\n    acc = 0.0\n    for line in lines:\n"
        '        if line["qty"] > 0:\n            acc += line["price"] * line["qty"]\n'
        "    return acc * rate\n"
    )
    found = scan_findings(
        tmp_path,
        {"shop.py": "X = 1\n"},
        {"billing.py": left},
        {"orders.py": right},
        kind="duplicate",
    )
    assert [f["code"] for f in found] == ["DC301"]


# -- found on pytest's concurrent pull requests ------------------------------------------


def test_a_type_spelt_two_ways_is_no_contradiction(tmp_path: Path) -> None:
    """The trunk modernises `Dict` to `dict`, a pull request gives a generic its
    second parameter: the same type either way, nothing to agree on."""
    base = "KEY = StashKey[\n    Dict[str, FixtureDef[Any]]\n]()\nX = 1\n"
    modern = {"keys.py": base.replace("Dict[", "dict[")}
    params = {"keys.py": base.replace("[Any]]", "[Any, Any]]")}
    found = scan_findings(tmp_path, {"keys.py": base}, modern, params, kind="contradicting-edit")
    assert found == []


def test_the_trunks_own_additions_are_not_reported_as_existing(tmp_path: Path) -> None:
    """Against the trunk, DC303 would tell an agent to reuse what the trunk already
    merged: the trunk's code is not the agent's to change."""
    helper = (
        "def {}(rows):\n    out = []\n    for row in rows:\n"
        "        out.append(row.strip())\n    return out\n"
    )
    repo = init_repo(tmp_path / "repo", {"a.py": helper.format("clean_rows")})
    git("branch", "pr/x", cwd=repo)
    (repo / "b.py").write_text(helper.format("strip_rows"))
    commit_all(repo, "trunk adds a near copy")
    git("checkout", "-q", "pr/x", cwd=repo)
    (repo / "c.py").write_text("X = 1\n")
    commit_all(repo, "x's work")
    git("checkout", "-q", "main", cwd=repo)
    result = run_cli(
        "scan", "--refs", "refs/heads/pr", "--trunk", "main", "--format", "json", cwd=repo
    )
    assert [f["code"] for f in result.json()["findings"]] == []


def test_a_public_name_whose_definition_moves_behind_it_still_works(tmp_path: Path) -> None:
    """`pkg.raises` is re-exported from `pkg._api`; one side moves the definition to
    `pkg._raises` (editing it) and re-exports it from there: the other side's new
    `pkg.raises(...)` keeps working."""
    raises = (
        "def raises(exc, func):\n    try:\n        func()\n    except exc:\n"
        "        return True\n    return False\n"
    )
    base = {"pkg/__init__.py": "from pkg._api import raises\n", "pkg/_api.py": raises}
    moved = {
        "pkg/__init__.py": "from pkg._raises import raises\n",
        "pkg/_api.py": "X = 1\n",
        "pkg/_raises.py": raises.replace("return False", "return None"),
    }
    use = {"test_it.py": "import pkg\n\n\ndef test_it():\n    assert pkg.raises(ValueError, int)\n"}
    assert scan_findings(tmp_path, base, moved, use, kind="stale-caller") == []


def test_straight_assignments_are_not_duplicated_code(tmp_path: Path) -> None:
    """Every constructor looks like every other: `self.a = a`, `self.b = b`."""
    assign = "".join(f"        self.{n} = {n}\n" for n in "abcd")
    left = {"one.py": "class One:\n    def __init__(self, a, b, c, d):\n" + assign}
    right = {
        "two.py": "class Two:\n    def setup(self, a, b, c, d):\n" + assign + "        self.e = 1\n"
    }
    assert scan_findings(tmp_path, {"base.py": "X = 1\n"}, left, right, kind="duplicate") == []


def test_a_ts_import_is_not_a_re_export(tmp_path: Path) -> None:
    """One side moves isBinary to conninfo.ts and imports it back into handler.ts;
    the other side's new file imports isBinary from handler.ts, which TypeScript
    refuses: an import does not export."""
    handler = (
        "export const isBinary = (s: string) => {\n  return s.length > 3\n}\n\nexport const X = 1\n"
    )
    moved = {
        "src/handler.ts": (
            'import { isBinary } from "./conninfo"\n\nexport const X = isBinary("a") ? 1 : 2\n'
        ),
        "src/conninfo.ts": handler.replace("\n\nexport const X = 1\n", "\n"),
    }
    use = {
        "src/extra.ts": (
            'import { isBinary } from "./handler"\n\nexport const y = isBinary("abcd")\n'
        )
    }
    found = scan_findings(tmp_path, {"src/handler.ts": handler}, moved, use, kind="stale-caller")
    assert [(f["code"], f["path"]) for f in found] == [("DC204", "src/extra.ts")]


def test_a_new_return_type_and_a_new_use_of_the_old_one(tmp_path: Path) -> None:
    """One side makes `location` return a Location object instead of a tuple; the
    other adds code that unpacks the old tuple. A call that ignores the result, or
    a change to a type that still offers the old one, is no break."""
    base = "def location(node) -> tuple[str, int]:\n    return node.path, node.line\n"
    changed = base.replace("-> tuple[str, int]", "-> Location").replace(
        "return node.path, node.line", "return Location(node.path, node.line)"
    )
    use = (
        "from where import location\n\n\n"
        "def show(node):\n    path, line = location(node)\n    return path\n"
    )
    found = scan_findings(
        tmp_path / "a",
        {"where.py": base},
        {"where.py": changed},
        {"show.py": use},
        kind="stale-caller",
    )
    assert [(f["code"], f["details"]["reason"]) for f in found] == [
        ("DC201", "it returns Location now, not tuple[str, int]")
    ]
    ignored = "from where import location\n\n\ndef touch(node):\n    location(node)\n"
    quiet = scan_findings(
        tmp_path / "b",
        {"where.py": base},
        {"where.py": changed},
        {"show.py": ignored},
        kind="stale-caller",
    )
    assert quiet == []
    widened = {"where.py": base.replace("-> tuple[str, int]", "-> tuple[str, int] | None")}
    assert (
        scan_findings(
            tmp_path / "c", {"where.py": base}, widened, {"show.py": use}, kind="stale-caller"
        )
        == []
    )


def test_a_ts_function_that_returns_an_object_now(tmp_path: Path) -> None:
    base = "export function matchType(a: string): boolean {\n  return a.length > 0\n}\n"
    changed = base.replace("): boolean {", "): { value: boolean } {").replace(
        "return a.length > 0", "return { value: a.length > 0 }"
    )
    use = (
        'import { matchType } from "./accepts"\n\n'
        "export function orDefault(a: string): boolean {\n  return matchType(a) ?? false\n}\n"
    )
    found = scan_findings(
        tmp_path,
        {"src/accepts.ts": base},
        {"src/accepts.ts": changed},
        {"src/extra.ts": use},
        kind="stale-caller",
    )
    assert [f["code"] for f in found] == ["DC201"]


def test_the_same_declaration_added_twice_in_different_places(tmp_path: Path) -> None:
    """Found on pytest: two pull requests each add the same `Final` attribute to
    FixtureRequest.__init__, at different lines. git keeps both; mypy then reports
    a redefinition. Each side alone is fine."""
    base = (
        "class Request:\n    def __init__(self, item):\n        self.item = item\n"
        "        self.scope = 'function'\n        self.cache = {}\n        self.seen = set()\n"
    )
    line = "        self._own: Final[dict[str, object]] = {}\n"
    left = base.replace("        self.scope", line + "        self.scope")
    right = base.replace("        self.seen", line + "        self.seen")
    found = scan_findings(
        tmp_path, {"req.py": base}, {"req.py": left}, {"req.py": right}, kind="contradicting-edit"
    )
    assert [(f["code"], f["severity"]) for f in found] == [("DC401", "error")]
    assert "git's merge has it twice" in found[0]["message"]


def test_a_namedtuple_in_place_of_a_tuple_still_unpacks(tmp_path: Path) -> None:
    base = "def location(node) -> tuple[str, int]:\n    return node.path, node.line\n"
    named = "class Location(NamedTuple):\n    path: str\n    line: int\n\n\n"
    changed = (
        "from typing import NamedTuple\n\n\n"
        + named
        + base.replace("-> tuple[str, int]", "-> Location").replace(
            "return node.path, node.line", "return Location(node.path, node.line)"
        )
    )
    use = (
        "from where import location\n\n\n"
        "def show(node):\n    path, line = location(node)\n    return path\n"
    )
    found = scan_findings(
        tmp_path, {"where.py": base}, {"where.py": changed}, {"show.py": use}, kind="stale-caller"
    )
    assert found == []


def test_a_ts_function_moved_and_imported_back_still_serves_its_old_file(tmp_path: Path) -> None:
    handler = (
        "export const isBinary = (s: string) => {\n  return s.length > 3\n}\n\nexport const X = 1\n"
    )
    moved = {
        "src/handler.ts": 'import { isBinary } from "./conninfo"\n\nexport const X = 1\n',
        "src/conninfo.ts": handler.replace("\n\nexport const X = 1\n", "\n"),
    }
    use = {"src/handler.ts": handler + '\nexport const y = isBinary("abcd")\n'}
    found = scan_findings(tmp_path, {"src/handler.ts": handler}, moved, use, kind="stale-caller")
    assert found == []


def test_an_import_dropped_where_the_other_side_adds_a_use(tmp_path: Path) -> None:
    """Found on chi: the trunk drops `io/ioutil` from a test file (its last use went),
    a pull request adds a test there that calls ioutil.ReadAll; git merges both."""
    base = (
        'package mw\n\nimport (\n\t"io"\n\t"io/ioutil"\n)\n\n'
        "func ReadOld(r io.Reader) []byte {\n\tb, _ := ioutil.ReadAll(r)\n\treturn b\n}\n"
        "\nfunc Keep() int {\n\treturn 1\n}\n"
    )
    dropped = base.replace('\t"io/ioutil"\n', "").replace("ioutil.ReadAll(r)", "io.ReadAll(r)")
    added = (
        base + "\nfunc ReadNew(r io.Reader) []byte {\n\tb, _ := ioutil.ReadAll(r)\n\treturn b\n}\n"
    )
    found = scan_findings(
        tmp_path / "go",
        {"go.mod": "module example.com/mw\n\ngo 1.22\n", "mw/mw.go": base},
        {"mw/mw.go": dropped},
        {"mw/mw.go": added},
        kind="stale-caller",
    )
    assert [(f["code"], f["details"]["removed_import"]) for f in found] == [("DC202", "ioutil")]
    py = (
        "import os\nimport re\n\n\ndef a(p):\n    return os.path.basename(p)\n\n\n"
        "def b():\n    return 1\n"
    )
    found = scan_findings(
        tmp_path / "py",
        {"m.py": py},
        {"m.py": py.replace("import os\n", "").replace("os.path.basename(p)", "p")},
        {"m.py": py + "\n\ndef c(p):\n    return os.getcwd() + p\n"},
        kind="stale-caller",
    )
    assert [(f["code"], f["details"]["removed_import"]) for f in found] == [("DC202", "os")]


def test_a_return_type_spelt_anew_is_the_same_type(tmp_path: Path) -> None:
    """Found on pytest: a pull request modernising annotations (`Optional['X']` to
    `X | None`, `Union[A, B]` to `A | B`) while the other side calls the functions."""
    base = (
        "from typing import Optional, Union\n\n\n"
        "def report(n) -> Optional['Report']:\n    return None\n\n\n"
        "def code(n) -> Union[int, 'ExitCode']:\n    return 0\n"
    )
    modern = base.replace("Optional['Report']", "Report | None").replace(
        "Union[int, 'ExitCode']", "int | ExitCode"
    )
    use = "from rep import code, report\n\n\ndef go():\n    return report(1), code(2)\n"
    found = scan_findings(
        tmp_path, {"rep.py": base}, {"rep.py": modern}, {"go.py": use}, kind="stale-caller"
    )
    assert found == []


def test_a_class_attribute_still_set_on_instances_is_not_removed(tmp_path: Path) -> None:
    """Found on black: the class-level default `parent = None` goes, `__init__`
    still sets `self.parent`: reads of `node.parent` keep working."""
    base = "class Base:\n    parent = None\n\n    def __init__(self, p):\n        self.kids = []\n"
    moved = base.replace("    parent = None\n\n", "").replace(
        "self.kids = []", "self.kids = []\n        self.parent = p"
    )
    use = "from tree import Base\n\n\ndef up(node: Base):\n    return node.parent\n"
    found = scan_findings(
        tmp_path, {"tree.py": base}, {"tree.py": moved}, {"up.py": use}, kind="stale-caller"
    )
    assert found == []


# -- 2 (cont.). unrelated lines of one function, in the tree-sitter languages ---------

PAIRS_TS = """\
export function pairUp(names: string[], values: number[], strictMode: boolean) {
  if (names.length === 0) {
    return {}
  }
  const result: Record<string, number> = {}
  names.forEach((name, i) => {
    result[name] = values[i]
  })
  log(Object.keys(result).length)
  return result
}
"""


def test_unrelated_ts_edits_in_one_function_do_not_contradict(tmp_path: Path) -> None:
    """A reworded check on one side, an early return on the other: TypeScript gets
    the data-flow rule Python has (found on hono: a cookie name's check on the trunk,
    the value's decoding in a pull request, one function, nothing shared)."""
    left = {"pairs.ts": PAIRS_TS.replace("if (names.length === 0) {", "if (!names.length) {")}
    right = {
        "pairs.ts": PAIRS_TS.replace(
            "  log(Object", "  if (strictMode) {\n    return result\n  }\n  log(Object"
        )
    }
    found = scan_findings(tmp_path, {"pairs.ts": PAIRS_TS}, left, right, kind="contradicting-edit")
    assert found == []


PAGINATE_TS = """\
export function paginate(items: string[], page: number, perPage = 20): string[] {
  if (perPage <= 0) {
    throw new Error('perPage must be positive')
  }
  const start = page * perPage
  return items.slice(start, start + perPage)
}
"""


def test_the_same_ts_off_by_one_fixed_twice_contradicts(tmp_path: Path) -> None:
    """One side computes the start from page - 1, the other decrements page first:
    a few lines apart, data flows from one edit into the other, and the merge
    subtracts one twice."""
    left = {"pages.ts": PAGINATE_TS.replace("page * perPage", "(page - 1) * perPage")}
    right = {
        "pages.ts": PAGINATE_TS.replace(
            "string[] {\n", "string[] {\n  page -= 1 // the slice counts from 0\n"
        )
    }
    found = scan_findings(
        tmp_path, {"pages.ts": PAGINATE_TS}, left, right, kind="contradicting-edit"
    )
    assert [(f["code"], f["symbol"]) for f in found] == [("DC401", "pages.paginate")]


PAGES_GO = """\
package pages

func Page(items []string, page int, size int) []string {
\tstart := page * size
\tend := start + size
\tif end > len(items) {
\t\tend = len(items)
\t}
\treturn items[start:end]
}
"""


def test_go_edits_on_the_same_variable_contradict_and_unrelated_ones_do_not(
    tmp_path: Path,
) -> None:
    """Go: one side changes how `start` is computed, the other a line that reads it:
    the edits meet. A new line on one side and a changed return on the other that
    share no variable do not."""
    files = {"go.mod": "module example.com/pages\n\ngo 1.21\n", "pages.go": PAGES_GO}
    left = {"pages.go": PAGES_GO.replace("start := page * size", "start := (page - 1) * size")}
    right = {"pages.go": PAGES_GO.replace("if end > len(items)", "if start+size > len(items)")}
    found = scan_findings(tmp_path / "a", files, left, right, kind="contradicting-edit")
    assert [(f["code"], f["symbol"]) for f in found] == [("DC401", "Page")]
    right = {"pages.go": PAGES_GO.replace("return items[start:end]", "return nil")}
    left = {
        "pages.go": PAGES_GO.replace(
            "\tend := start + size\n", "\tend := start + size\n\t_ = page\n"
        )
    }
    found = scan_findings(tmp_path / "b", files, left, right, kind="contradicting-edit")
    assert found == []


# -- 6 (cont.). inlined helpers in the tree-sitter languages -------------------------

FILL_TS = """\
export const fillPattern = (length: number) => {
  const body = new Uint8Array(length)
  for (let i = 0; i < body.byteLength; i++) {
    body[i] = i % 256
  }
  return body
}
"""

DISPATCH_TS = """\
export function dispatch(routes: Route[], path: string) {
  console.log(path)
  const index = new Map(routes)
  for (let i = 0; i < index.size; i++) {
    index[i] = i * 2
  }
  return index
}
"""


def test_a_ts_helper_is_not_inlined_in_any_loop_of_its_shape(tmp_path: Path) -> None:
    """TypeScript node kinds (`statement_block`, `for`) are syntax, not names: folded
    like names they left only punctuation to compare, so any counting loop held any
    small helper (found on hono: a test's byte-pattern helper "inlined" in the
    router's dispatcher)."""
    base = {"app.ts": "export const x = 1\n"}
    left = {"fill.ts": FILL_TS}
    right = {"dispatch.ts": DISPATCH_TS}
    found = scan_findings(tmp_path, base, left, right, kind="duplicate")
    assert found == []


def test_a_ts_helper_written_inline_is_still_found(tmp_path: Path) -> None:
    host = (
        "export function respond(size: number) {\n"
        "  console.log('respond')\n"
        "  const body = new Uint8Array(size)\n"
        "  for (let i = 0; i < body.byteLength; i++) {\n"
        "    body[i] = i % 256\n"
        "  }\n"
        "  return new Response(body)\n"
        "}\n"
    )
    base = {"app.ts": "export const x = 1\n"}
    found = scan_findings(tmp_path, base, {"fill.ts": FILL_TS}, {"respond.ts": host})
    assert [(f["code"], f["symbol"]) for f in found if f["kind"] == "duplicate"] == [
        ("DC301", "respond.respond")
    ]


# -- 9 (cont.). stacked pull requests -------------------------------------------------


def test_a_pull_request_stacked_on_another_is_not_its_rival(tmp_path: Path) -> None:
    """pr/b is built on pr/a: merging them is a fast-forward to b. Counted from their
    fork points, both "add" parse_row, b's version edited further; that is one line of
    work, not two definitions where the later silently wins (found on pytest: a
    stacked pull request reported as DC401/DC403 against the one under it)."""
    repo = init_repo(tmp_path / "repo", {"app.py": "X = 1\n"})
    git("checkout", "-q", "-b", "pr/a", cwd=repo)
    (repo / "rows.py").write_text("def parse_row(line):\n    return line.split(',')\n")
    commit_all(repo, "a adds parse_row")
    git("checkout", "-q", "-b", "pr/b", cwd=repo)
    (repo / "rows.py").write_text(
        "def parse_row(line):\n    return [x.strip() for x in line.split(',')]\n"
    )
    commit_all(repo, "b strips the cells")
    git("checkout", "-q", "main", cwd=repo)
    args = ("scan", "--refs", "refs/heads/pr", "--trunk", "main", "--format", "json")
    findings = run_cli(*args, cwd=repo).json()["findings"]
    between = [f for f in findings if sorted(f["participants"]) == ["pr/a", "pr/b"]]
    assert between == []


# -- 3 (cont.). a file renamed whole ---------------------------------------------------

WALK = """\
import os


def visit(root):
    return sorted(os.listdir(root))


def absolute(path):
    return os.path.abspath(path)
"""


def test_an_edit_git_carries_into_a_renamed_file_is_not_lost(tmp_path: Path) -> None:
    """One side renames paths.py to my_paths.py unchanged, the other edits visit in
    paths.py: git's rename detection puts the edit in my_paths.py (found on pytest: a
    pull request renaming pathlib.py; ten "would be lost or orphaned" that were not)."""
    left = {"paths.py": None, "my_paths.py": WALK}
    right = {"paths.py": WALK.replace("sorted(os.listdir(root))", "sorted(os.scandir(root))")}
    found = scan_findings(tmp_path, {"paths.py": WALK}, left, right)
    assert [f for f in found if f["code"] == "DC402"] == []


# -- 2 (cont.). the same hunk on both sides --------------------------------------------

SUMMARY = """\
from typing import List


def summary(reports, verbose):
    lines: List[str] = []

    for report in reports:
        lines.append(report.strip())

    if verbose:
        lines.append("done")
    return lines
"""


def test_an_edit_the_other_side_also_makes_is_no_contradiction(tmp_path: Path) -> None:
    """Both sides modernise the same annotation line identically; beyond it, one sorts
    the reports and the other guards the verbose line. git merges the shared hunk into
    one copy, and the rest share no variable (found on pytest: a pull request's typing
    clean-up that the trunk had made too, line for line, reported as "both change ...
    keep one")."""
    modern = SUMMARY.replace("lines: List[str] = []", "lines: list[str] = []")
    left = modern.replace("in reports:", "in sorted(reports):")
    right = modern.replace("if verbose:", "if verbose and lines:")
    found = scan_findings(
        tmp_path,
        {"summary.py": SUMMARY},
        {"summary.py": left},
        {"summary.py": right},
        kind="contradicting-edit",
    )
    assert found == []


# -- 5 (cont.). members follow their renamed class --------------------------------------

PARSER = """\
import argparse


class MyOptionParser(argparse.ArgumentParser):
    def __init__(self, parser, prog=None):
        self._parser = parser
        super().__init__(prog=prog, add_help=False)

    def error(self, message):
        msg = f"{self.prog}: error: {message}"
        raise UsageError(self.format_usage() + msg)

    def parse_args(self, args=None):
        return super().parse_args(args)
"""


def test_a_method_of_a_renamed_class_is_renamed_with_it(tmp_path: Path) -> None:
    """One side renames MyOptionParser to PytestArgumentParser, reworks error() and
    drops parse_args; the other edits error(). error() was not deleted: it moved with
    its class (found on pytest: "main deletes MyOptionParser.error ... drop the
    modification", advice that throws real work away)."""
    renamed = (
        PARSER.replace("MyOptionParser", "PytestArgumentParser")
        .replace(
            '        msg = f"{self.prog}: error: {message}"\n'
            "        raise UsageError(self.format_usage() + msg)\n",
            "        self.print_usage(sys.stderr)\n        self.exit(4, message)\n",
        )
        .split("    def parse_args")[0]
        .rstrip()
        + "\n"
    )
    edited = PARSER.replace("error: {message}", "ERROR: {message}")
    found = scan_findings(
        tmp_path, {"argparsing.py": PARSER}, {"argparsing.py": renamed}, {"argparsing.py": edited}
    )
    errors = [f for f in found if f["code"] == "DC402"]
    assert [f["symbol"] for f in errors] == ["argparsing.MyOptionParser.error"]
    assert "argparsing.PytestArgumentParser.error" in errors[0]["message"]
    assert "deletes" not in errors[0]["message"]


def test_an_edit_in_a_renamed_file_that_conflicts_elsewhere_is_not_dropped(
    tmp_path: Path,
) -> None:
    """As above, but both sides also change `absolute` differently, so git's merged
    my_paths.py holds conflict markers: what happened to visit cannot be read from
    it, and "git's merge would drop the modification" would be a guess (found on
    black: a package renamed whole, 14 such claims in a sample of 15)."""
    renamed = WALK.replace("os.path.abspath(path)", "os.path.realpath(path)")
    left = {"paths.py": None, "my_paths.py": renamed}
    right = {
        "paths.py": WALK.replace("sorted(os.listdir(root))", "sorted(os.scandir(root))").replace(
            "os.path.abspath(path)", "os.path.normpath(path)"
        )
    }
    found = scan_findings(tmp_path, {"paths.py": WALK}, left, right)
    assert [f["message"] for f in found if f["code"] == "DC402" and "drop" in f["message"]] == []


# -- 3 (cont.). a use the remover drops too ---------------------------------------------

MODE = "import enum\n\n\nclass Preview(enum.Enum):\n    old_flag = 1\n    new_flag = 2\n"
CHECK = """\
from mode import Preview


def check(mode, line):
    if (
        line.is_def
        and line.depth == 0
        and Preview.old_flag in mode
    ):
        return True
    return False
"""


def test_a_use_the_removing_side_drops_as_well_is_not_stale(tmp_path: Path) -> None:
    """One side retires Preview.old_flag and the condition that read it; the other
    renames the function that held the condition, so its uses count as its own.
    git's merge keeps no use of old_flag: "uses Preview.old_flag, which ... removes"
    is false (found on black: a preview feature promoted to stable on one side, the
    method reading it made private on the other)."""
    base = {"mode.py": MODE, "lines.py": CHECK}
    left = {
        "mode.py": MODE.replace("    old_flag = 1\n", ""),
        "lines.py": CHECK.replace("        and Preview.old_flag in mode\n", ""),
    }
    right = {"lines.py": CHECK.replace("def check(", "def _check(")}
    found = scan_findings(tmp_path, base, left, right, kind="stale-caller")
    assert found == []


# -- 4 (cont.). a method only a test mock defines -------------------------------------

MOCK_TS = """\
export class MockCache {
  private store = new Map<string, Response>()
  async put(key: string, value: Response): Promise<void> {
    this.store.set(key, value)
  }
}
"""


def test_a_library_call_is_not_bound_to_a_test_mock_of_the_same_name(tmp_path: Path) -> None:
    """`cache.put(...)` on the platform's Cache object is not the test set-up's
    MockCache.put, the only `put` the repository defines (found on hono: "uses
    MockCache.put, which main moves ..." for the Cache API adapter)."""
    base = {".vitest.config/setup-vitest.ts": MOCK_TS, "src/app.ts": "export const x = 1\n"}
    left = {
        ".vitest.config/setup-vitest.ts": MOCK_TS.replace("async put(", "async putEntry("),
    }
    right = {
        "src/cache-api.ts": (
            "export async function store(key: string, res: Response) {\n"
            "  const cache = await caches.open('app')\n"
            "  await cache.put(key, res)\n"
            "}\n"
        )
    }
    found = scan_findings(tmp_path, base, left, right, kind="stale-caller")
    assert found == []


JWT_TS = """\
export function jwt(options: {
  secret: string
  cookie?: string
  algorithm?: string
  header?: string
}) {
  const token = options.cookie ?? options.header ?? ''
  return token
}
"""


def test_the_same_ts_member_added_twice_in_different_places(tmp_path: Path) -> None:
    """Two pull requests add the same `realm?: string` option to one options type, on
    different lines: git's merge holds the member twice, which tsc rejects (found on
    hono: two pull requests adding a `realm` option to jwt())."""
    left = {"jwt.ts": JWT_TS.replace("  secret: string\n", "  secret: string\n  realm?: string\n")}
    right = {
        "jwt.ts": JWT_TS.replace("  header?: string\n", "  header?: string\n  realm?: string\n")
    }
    found = scan_findings(tmp_path, {"jwt.ts": JWT_TS}, left, right, kind="contradicting-edit")
    assert [(f["code"], f["severity"]) for f in found] == [("DC401", "error")]
    assert "realm?: string" in found[0]["message"]


# -- 5 (cont.). a package renamed whole ---------------------------------------------

NODES = (
    "def is_leaf(node):\n    return not node.children\n\n\n"
    "def depth(node):\n    return node.depth\n"
)
LINEGEN = """\
from pkg.nodes import is_leaf


def visit(node):
    if is_leaf(node):
        return [node]
    return []
"""


def test_uses_inside_a_renamed_package_follow_it(tmp_path: Path) -> None:
    """One side renames the package pkg to newpkg, rewriting its imports; the other
    adds a use of is_leaf in pkg/linegen.py. git carries that edit into
    newpkg/linegen.py, which imports newpkg.nodes: nothing is stale there, nor in
    walker.py, whose import the renaming side rewrote, nor in nodes.py itself, which
    moved as one file. A new file that imports
    pkg.nodes is stale (found on black: a pull request renaming the whole package;
    hundreds of "moves to ..." for uses that moved with it)."""
    init = '"""Trees of nodes: what they hold and how to walk them."""\n'
    walker = (
        "from pkg.nodes import depth\n\n\ndef deepest(nodes):\n    return max(nodes, key=depth)\n"
    )
    base = {
        "pkg/__init__.py": init,
        "pkg/nodes.py": NODES,
        "pkg/linegen.py": LINEGEN,
        "walker.py": walker,
    }
    left = {
        "pkg/__init__.py": None,
        "pkg/nodes.py": None,
        "pkg/linegen.py": None,
        "newpkg/__init__.py": init,
        "newpkg/nodes.py": NODES,
        "newpkg/linegen.py": LINEGEN.replace("from pkg.nodes", "from newpkg.nodes"),
        "newpkg/sub/__init__.py": "",
        "walker.py": walker.replace("from pkg.nodes", "from newpkg.nodes"),
    }
    right = {
        "pkg/__init__.py": init + 'from .nodes import depth\n\n__all__ = ["depth"]\n',
        "walker.py": walker + "\n\ndef shallowest(nodes):\n    return min(nodes, key=depth)\n",
        "pkg/nodes.py": NODES
        + "\n\ndef leaves(nodes):\n    return [n for n in nodes if is_leaf(n)]\n",
        "pkg/linegen.py": LINEGEN.replace(
            "    return []\n", "    return [n for n in node.children if is_leaf(n)]\n"
        ),
        "tool.py": (
            "from pkg.nodes import is_leaf\n\n\n"
            "def leaves(nodes):\n    return [n for n in nodes if is_leaf(n)]\n"
        ),
    }
    found = scan_findings(tmp_path, base, left, right, kind="stale-caller")
    assert [(f["code"], f["path"]) for f in found] == [("DC204", "tool.py")]


def test_an_attribute_read_on_an_instance_of_a_renamed_class_is_not_stale(
    tmp_path: Path,
) -> None:
    """One side renames CallSpec2 to CallSpec; the other adds `callspec._idlist`
    reads on instances. The attribute kept its name, so nothing is stale (found on
    pytest: "uses CallSpec2._idlist, which ... moves to CallSpec._idlist")."""
    spec = (
        "class CallSpec2:\n    def __init__(self):\n        self._idlist = []\n\n"
        "    def id(self):\n        return '-'.join(self._idlist)\n"
    )
    use = (
        "from spec import CallSpec2\n\n\n"
        "def ids(specs: list[CallSpec2]):\n    return [s._idlist for s in specs]\n"
    )
    base = {"spec.py": spec, "app.py": "X = 1\n"}
    found = scan_findings(
        tmp_path,
        base,
        {"spec.py": spec.replace("CallSpec2", "CallSpec")},
        {
            "app.py": (
                "from spec import CallSpec2\n\n\ndef first(s: CallSpec2):\n    return s.id()\n"
            ),
            "use.py": use,
        },
        kind="stale-caller",
    )
    assert [(f["code"], f["path"], f["details"]["lines"]) for f in found] == [
        ("DC203", "app.py", [1, 4]),
        ("DC203", "use.py", [1, 4]),
    ]


def test_a_file_deleted_whole_is_left_to_gits_modify_delete_conflict(tmp_path: Path) -> None:
    """One side deletes a script, the other edits its main(): git reports the
    modify/delete conflict on the file; a DC402 per function would only repeat it
    (found on black: "deletes ...check_version_in_basics_example.main")."""
    script = "import sys\n\n\ndef main():\n    print(sys.argv)\n    return 0\n"
    found = scan_findings(
        tmp_path,
        {"check.py": script, "app.py": "X = 1\n"},
        {"check.py": None},
        {"check.py": script.replace("return 0", "return 1")},
    )
    assert [f["code"] for f in found] == ["DC103"]  # textual: modify/delete


def test_a_field_named_in_a_call_to_a_renamed_class_is_reported_once(tmp_path: Path) -> None:
    """One side renames the dataclass CallSpec2 to CallSpec; the other edits its
    setmulti, which builds `CallSpec2(_idlist=...)`. The field kept its name: what
    is stale is at most the class name, never `CallSpec2._idlist` (found on
    pytest: "uses CallSpec2._idlist, which ... moves to CallSpec._idlist")."""
    spec = (
        "import dataclasses\n\n\n@dataclasses.dataclass(frozen=True)\nclass CallSpec2:\n"
        "    params: dict = dataclasses.field(default_factory=dict)\n"
        "    _idlist: list = dataclasses.field(default_factory=list)\n\n"
        "    def setmulti(self, id):\n"
        "        return CallSpec2(\n"
        "            params=self.params,\n"
        "            _idlist=[*self._idlist, id],\n"
        "        )\n"
    )
    edited = spec.replace(
        "[*self._idlist, id],", "self._idlist if id is None else [*self._idlist, id],"
    )
    found = scan_findings(
        tmp_path,
        {"spec.py": spec, "app.py": "X = 1\n"},
        {"spec.py": spec.replace("CallSpec2", "CallSpec")},
        {"spec.py": edited},
        kind="stale-caller",
    )
    assert [f["symbol"] for f in found if f["symbol"].endswith("_idlist")] == []
