"""The daemon's scans for `driftcheck watch` after writes: incremental, and equal to a
fresh scan.

After a write in one worktree the daemon analyses again only the pairs that
worktree is in (the others come from the pair cache), and within those pairs the
unchanged side's facts and DC303 lookups are kept from the scan before
(detectors/context.py KeptFacts). Whatever it reuses, its answer must be the one a
fresh `driftcheck scan --format json` gives, apart from how it was worked out.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import eventually, git, run_cli

from driftcheck.daemon import client, feed
from driftcheck.daemon.session import Session
from driftcheck.deadline import DeadlineExceeded, deadline
from driftcheck.demo.scenario import build
from driftcheck.demo.shop import DEMO
from driftcheck.detectors import duplicates, semantics
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import Answered, scan_in
from driftcheck.symbols import index as index_module
from driftcheck.symbols.languages.python import frontend as python_frontend
from driftcheck.workspace import git as dgit
from driftcheck.workspace import merge
from driftcheck.workspace.live_states import LiveStates
from driftcheck.workspace.watcher import Watcher

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux inotify")
ON = {"DRIFTCHECK_DAEMON": "1"}
# Statistics of how a result was worked out (what came from a cache, how long it
# took), not of what was found: a warm daemon and a fresh process differ there.
HOW = ("elapsed_ms", "pairs_from_cache")

# Not trivial (DC303 looks at functions of a few statements): the base's paginate
# under another name, in a new file.
PAGES = '''\
def page_of(rows: list, number: int, size: int = 20) -> list:
    """The rows on page `number`."""
    if size <= 0:
        raise ValueError("size must be positive")
    first = number * size
    return rows[first : first + size]
'''
STALE = """\
from decimal import Decimal

from orders.processor import OrderProcessor


def quick_total(items: list) -> Decimal:
    return OrderProcessor().calculate_total(items, Decimal("1"))
"""


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Path]:
    repo = build(DEMO, tmp_path / "demo")
    yield repo
    run_cli("daemon", "stop", "--repo", str(repo), cwd=repo, env=ON)


def _worktrees(repo: Path) -> dict[str, Path]:
    listing = git("worktree", "list", "--porcelain", cwd=repo)
    paths = [Path(line[9:]) for line in listing.splitlines() if line.startswith("worktree ")]
    return {p.name: p for p in paths}


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "stats": {k: v for k, v in result["stats"].items() if k not in HOW}}


def _daemon_scan(repo: Path, trunk: str = "") -> dict[str, Any]:
    """The daemon's answer to a live view asking for the scan now (feed.py)."""
    request = {
        "op": b"watch",
        "since": b"-1",
        "wait_ms": b"0",
        "root": str(repo).encode(),
        "trunk": trunk.encode(),
        "refs": b"",
    }
    answer = client.ask(str(repo / ".git"), request, 120.0)
    assert "scan" in answer, answer
    result: dict[str, Any] = json.loads(answer["scan"])["result"]
    return result


def _status(repo: Path) -> dict[str, Any]:
    answer = client.ask(str(repo / ".git"), {"op": b"status"}, 30.0)
    status: dict[str, Any] = json.loads(answer["status"])
    return status


def _writes(trees: dict[str, Path]) -> list[tuple[str, Callable[[], None]]]:
    """Real writes across worktrees, each followed by a comparison."""
    tests, registry, fix_a = trees["agent-tests"], trees["agent-registry"], trees["agent-fix-a"]
    pricing = trees["agent-pricing"]
    return [
        ("a stale call appears", lambda: (tests / "quick.py").write_text(STALE)),
        ("a function the base has", lambda: (registry / "pages.py").write_text(PAGES)),
        (
            "a README line both edit",
            lambda: (fix_a / "README.md").write_text("# shop, fixed\n"),
        ),
        (
            "two worktrees at once",
            lambda: (
                (tests / "quick.py").write_text(STALE + "\n\ndef more() -> int:\n    return 2\n"),
                (pricing / "orders" / "__init__.py").write_text('"""Orders."""\n'),
            ),
        ),
        ("a file deleted", lambda: (registry / "pages.py").unlink()),
        ("the stale call goes", lambda: (tests / "quick.py").unlink()),
    ]


def test_the_daemons_scan_after_writes_equals_a_fresh_scan(demo: Path) -> None:
    fresh = run_cli("scan", "--format", "json", cwd=demo).json()  # a warm pair cache
    started = run_cli("daemon", "start", "--repo", str(demo), cwd=demo, env=ON)
    assert started.code == 0, started.stderr
    first = _daemon_scan(demo)
    assert _comparable(first) == _comparable(fresh)
    assert first["stats"]["pairs_from_cache"] == first["stats"]["pairs_analysed"]
    # Idle, the daemon works out what those pairs need before the first write.
    eventually(lambda: _status(demo)["warming_pairs"] == 0, 60, "the warming never ended")
    codes = {f["code"] for f in first["findings"]}
    for step, write in _writes(_worktrees(demo)):
        write()
        kept = _daemon_scan(demo)
        fresh = run_cli("scan", "--format", "json", cwd=demo).json()
        assert _comparable(kept) == _comparable(fresh), step
        assert kept["stats"]["pairs_from_cache"] > 0, f"{step}: every pair analysed again"
        codes |= {f["code"] for f in kept["findings"]}
    # The writes made and removed findings of these kinds, so the comparisons mattered.
    assert {"DC204", "DC303", "DC101"} <= codes
    # With a trunk, a scan enumerates only the pairs that can meet: so does the daemon.
    kept = _daemon_scan(demo, trunk="main")
    fresh = run_cli("scan", "--trunk", "main", "--format", "json", cwd=demo).json()
    assert _comparable(kept) == _comparable(fresh)


def test_after_a_write_only_the_written_side_is_worked_out_again(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unchanged sides of the pairs a write touches keep their symbol changes
    and their DC303 lookups from the scan before."""
    trees = _worktrees(demo)
    repo = dgit.open_repo(demo)
    live = LiveStates(repo, Watcher())
    session = Session(repo, live)
    options = ScanOptions(repo=str(demo))
    facts_of: list[str] = []  # trees whose own symbol changes were worked out
    looked_up: list[str] = []  # paths of symbols DC303 looked up at the base
    own_facts, base_functions = semantics.own_facts, duplicates._base_functions

    def counted_facts(index: Any, tree: str, *args: Any) -> Any:
        facts_of.append(tree)
        return own_facts(index, tree, *args)

    def counted_lookups(semantics: Any, symbol: Any, minimum: int) -> Any:
        looked_up.append(symbol.path)
        return base_functions(semantics, symbol, minimum)

    sorted_out: list[str] = []  # paths of whole trees sorted into code and tests
    is_test_path = index_module.is_test_path

    def counted_sorting(path: str) -> bool:
        sorted_out.append(path)
        return is_test_path(path)

    monkeypatch.setattr(semantics, "own_facts", counted_facts)
    monkeypatch.setattr(duplicates, "_base_functions", counted_lookups)
    monkeypatch.setattr(index_module, "is_test_path", counted_sorting)
    try:
        scan_in(session, options)
        (trees["agent-registry"] / "pages.py").write_text(PAGES)
        live.refresh()
        facts_of.clear()
        looked_up.clear()
        sorted_out.clear()
        result = scan_in(session, options)
        registry = next(p for p in result.participants if p.name == "agent/registry")
        assert facts_of == [registry.tree], "the unchanged sides were worked out again"
        assert looked_up == ["pages.py"], "DC303 looked up functions it had looked up before"
        assert sorted_out == [], "the base tree's files were sorted out again"
        assert any(f.code == "DC303" and f.path == "pages.py" for f in result.findings)
        assert result.stats["pairs_from_cache"] > 0
    finally:
        session.close()
        live.close()


def test_the_merges_of_the_pairs_written_to_run_side_by_side(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's merges of the re-analysed pairs are made ahead, on threads of their
    own, and each pair's textual findings come from its own merge."""
    trees = _worktrees(demo)
    repo = dgit.open_repo(demo)
    live = LiveStates(repo, Watcher())
    session = Session(repo, live)
    options = ScanOptions(repo=str(demo))
    made_on: list[str] = []
    simulate = merge.simulate

    def recorded(*args: Any, **kwargs: Any) -> Any:
        made_on.append(threading.current_thread().name)
        return simulate(*args, **kwargs)

    monkeypatch.setattr(merge, "simulate", recorded)
    try:
        scan_in(session, options)
        # agent/fix-a now edits the README line that agent/pricing and
        # agent/cache-removal edit: three pairs of it meet.
        (trees["agent-fix-a"] / "README.md").write_text("# shop, fixed\n")
        live.refresh()
        made_on.clear()
        result = scan_in(session, options)
        assert len(made_on) >= 2
        assert all(name.startswith("driftcheck-merge") for name in made_on), made_on
        fresh = run_cli("scan", "--format", "json", cwd=demo).json()
        assert _comparable(result.to_json()) == _comparable(fresh)
        readme = {tuple(f.participants) for f in result.findings if f.path == "README.md"}
        assert any("agent/fix-a" in pair for pair in readme)
    finally:
        session.close()
        live.close()


def test_a_view_started_on_a_warm_cache_is_warmed_before_the_first_write(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pair of the first scan comes from the pair cache (nothing loaded);
    the idle steps work out what those pairs need, so the first write costs what
    the later ones do: only the written side is worked out."""
    assert run_cli("scan", "--format", "json", cwd=demo).code in (0, 1)  # a warm cache
    trees = _worktrees(demo)
    repo = dgit.open_repo(demo)
    live = LiveStates(repo, Watcher())
    session = Session(repo, live)
    options = ScanOptions(repo=str(demo))
    facts_of: list[str] = []
    own_facts = semantics.own_facts

    def counted_facts(index: Any, tree: str, *args: Any) -> Any:
        facts_of.append(tree)
        return own_facts(index, tree, *args)

    monkeypatch.setattr(semantics, "own_facts", counted_facts)
    warming = feed.Warming()
    try:
        answered: list[Answered] = []
        first = scan_in(session, options, answered)
        assert first.stats["pairs_from_cache"] == first.stats["pairs_analysed"] > 0
        assert facts_of == [], "a scan all from the pair cache parsed nothing"
        warming.plan(session, answered)
        steps = 0
        while warming.pending():
            warming.step(session)
            steps += 1
        assert steps == first.stats["pairs_from_cache"]
        assert facts_of, "warming worked nothing out"
        (trees["agent-registry"] / "pages.py").write_text(PAGES)
        live.refresh()
        facts_of.clear()
        answered.clear()
        result = scan_in(session, options, answered)
        registry = next(p for p in result.participants if p.name == "agent/registry")
        assert facts_of == [registry.tree], "the first write worked out the other sides"
        # What this scan analysed is warm already; the pairs it took from the cache
        # were warmed before: nothing left to do.
        warming.plan(session, answered)
        assert not warming.pending()
        fresh = run_cli("scan", "--format", "json", cwd=demo).json()
        assert _comparable(result.to_json()) == _comparable(fresh)
    finally:
        session.close()
        live.close()


def test_a_conflict_met_again_is_not_parsed_again(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The versions of a conflicted file (read to tell two added members from a
    disagreement) are parsed once per content, not at every scan of the pair."""
    trees = _worktrees(demo)
    repo = dgit.open_repo(demo)
    live = LiveStates(repo, Watcher())
    session = Session(repo, live)
    options = ScanOptions(repo=str(demo))
    utils = trees["agent-fix-b"] / "utils.py"
    # agent/fix-a committed `start = (page - 1) * per_page`: the same line, otherwise.
    utils.write_text(utils.read_text().replace("start = page * per_page", "start = page * 2"))
    parsed: list[str] = []
    parse = python_frontend.parse

    def counted(path: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(path)
        return parse(path, *args, **kwargs)

    monkeypatch.setattr(python_frontend, "parse", counted)
    try:
        live.refresh()
        first = scan_in(session, options)
        conflicts = [f for f in first.findings if f.kind == "textual-conflict"]
        assert any(f.path == "utils.py" for f in conflicts)
        assert "utils.py" in parsed
        (trees["agent-fix-a"] / "notes.py").write_text("NOTES = 1\n")
        live.refresh()
        parsed.clear()
        again = scan_in(session, options)
        assert [f for f in again.findings if f.kind == "textual-conflict"] == conflicts
        assert "utils.py" not in parsed, "the conflict's versions were parsed again"
    finally:
        session.close()
        live.close()


def test_a_deadline_does_not_wait_for_the_merges_under_way(
    demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tool call's deadline in the daemon stops an analysis while its merges run
    side by side: it does not wait for merges under way (here, ones that hang)."""
    trees = _worktrees(demo)
    (trees["agent-fix-a"] / "README.md").write_text("# shop, fixed\n")  # three pairs meet
    repo = dgit.open_repo(demo)
    live = LiveStates(repo, Watcher())
    session = Session(repo, live)
    release = threading.Event()

    def hanging(*args: Any, **kwargs: Any) -> Any:
        release.wait(30)
        raise RuntimeError("released")

    monkeypatch.setattr(merge, "simulate", hanging)
    started = time.monotonic()
    try:
        with pytest.raises(DeadlineExceeded), deadline(0.5):
            scan_in(session, ScanOptions(repo=str(demo)))
        assert time.monotonic() - started < 10, "the deadline waited for the merges"
    finally:
        release.set()
        session.close()
        live.close()
