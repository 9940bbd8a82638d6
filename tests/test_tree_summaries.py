"""Whole-tree summaries: begun in the background on a real tree, they give the index
a direct parse gives and fill the cache; code outside tests is told from tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import git, init_repo

from driftcheck.store.cache import open_cache
from driftcheck.symbols.index import SymbolIndex
from driftcheck.symbols.tree_index import PARALLEL_MIN_FILES, is_test_path


def _files(count: int) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {}
    for n in range(count):
        files[f"pkg/mod{n}.py"] = (
            f"class Thing{n}:\n    def total_{n % 7}(self, rows):\n"
            "        out = []\n        for row in rows:\n            out.append(row * 2)\n"
            "        return out\n\n\n"
            f"def helper_{n}(value):\n    return value + {n}\n"
        )
        files[f"tests/test_mod{n}.py"] = f"def test_{n}():\n    assert {n} == {n}\n"
    files["pkg/broken.py"] = "def half(:\n"
    files["pkg/data.bin"] = b"\x00\x01binary"
    return files


def _summaries(index: SymbolIndex, tree: str) -> list:
    return sorted(index.code_index(tree).summaries, key=repr)


def test_background_summaries_equal_direct_ones_and_fill_the_cache(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", _files(PARALLEL_MIN_FILES + 12))
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo)
    direct = SymbolIndex(cwd=str(repo), env=dict(os.environ))
    expected = _summaries(direct, tree)
    direct.close()
    assert len(expected) == PARALLEL_MIN_FILES + 13  # the test files are left out

    cache = open_cache(tmp_path / "cache", enabled=True)
    early = SymbolIndex(cwd=str(repo), env=dict(os.environ), cache=cache)
    early.start_summaries([tree])
    assert early._pending is not None  # enough files to be worth workers
    assert _summaries(early, tree) == expected
    early.close()
    cache.flush()

    # A later run finds every summary in the cache and starts no workers.
    later = SymbolIndex(cwd=str(repo), env=dict(os.environ), cache=cache)
    later.start_summaries([tree])
    assert later._pending is None
    assert _summaries(later, tree) == expected
    later.close()
    cache.close()


def test_closing_before_collecting_stops_the_workers(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", _files(PARALLEL_MIN_FILES + 12))
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo)
    index = SymbolIndex(cwd=str(repo), env=dict(os.environ))
    index.start_summaries([tree])
    index.close()
    assert index._pending is None


@pytest.mark.parametrize(
    ("path", "is_test"),
    [
        ("tests/helpers.py", True),
        ("pkg/test/utils.py", True),
        ("src/test/java/com/shop/PricingTest.java", True),
        ("web/__tests__/cart.ts", True),
        ("test_orders.py", True),
        ("orders_test.go", True),
        ("conftest.py", True),
        ("web/cart.test.ts", True),
        ("web/cart.spec.js", True),
        ("src/main/java/com/shop/PricingTests.java", True),
        ("orders.py", False),
        ("pkg/latest.py", False),
        ("src/main/java/com/shop/Latest.java", False),
        ("contest/entry.py", False),
        ("testing_tools.go", False),
    ],
)
def test_test_paths(path: str, is_test: bool) -> None:
    assert is_test_path(path) is is_test


def test_a_cold_scan_of_a_larger_tree_finds_what_an_uncached_one_does(tmp_path: Path) -> None:
    """Enough files for background summaries: the scan's DC303 comes from them."""
    from test_semantic_duplicates import DISCOVER
    from test_semantic_stale import scan_findings

    base = {p: c for p, c in _files(PARALLEL_MIN_FILES + 4).items() if isinstance(c, str)}
    base["pkg/finder.py"] = DISCOVER.format(name="find_models", root="root")
    left = {"pkg/disc.py": DISCOVER.format(name="discover", root="folder")}
    right = {"pkg/other.py": "Y = 2\n"}
    cold = scan_findings(tmp_path / "cold", base, left, right, kind="duplicate")
    plain = scan_findings(tmp_path / "plain", base, left, right, kind="duplicate", use_cache=False)
    assert [(f["code"], f["symbol"]) for f in cold] == [("DC303", "pkg.disc.discover")]
    assert cold[0]["details"]["existing"]["symbol"] == "pkg.finder.find_models"
    assert cold == plain
