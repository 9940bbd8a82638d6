"""`driftcheck demo --format json`: every kind, each semantic story found exactly once."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli
from test_fixtures import compare

from driftcheck.model import KINDS


def test_demo_json_has_every_kind_and_each_story(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = run_cli("demo", "--format", "json", cwd=tmp_path, env={"TMPDIR": str(tmp)})
    assert result.code == 1, result.stderr
    findings = result.json()["findings"]
    assert {f["kind"] for f in findings} == set(KINDS)
    expected = [
        {
            "kind": "stale-caller",
            "code": "DC204",
            "participants": ["agent/pricing", "agent/tests"],
            "path": "tests/test_checkout.py",
            "symbol": "orders.processor.OrderProcessor.calculate_total",
            "details": {"new_qualname": "orders.pricing.PricingEngine.calculate_total"},
        },
        {
            "kind": "stale-caller",
            "code": "DC202",
            "participants": ["agent/cache-removal", "agent/tests"],
            "path": "tests/test_checkout.py",
            "details": {"removed_module": "cache", "lines": [3, 14, 15, 16]},
        },
        {
            "kind": "duplicate",
            "code": "DC301",
            "participants": ["agent/discovery", "agent/registry"],
        },
        {
            "kind": "contradicting-edit",
            "code": "DC401",
            "participants": ["agent/fix-a", "agent/fix-b"],
            "symbol": "utils.paginate",
            "details": {"textual_conflict": False},
        },
    ]
    semantic = [k for k in KINDS if k != "textual-conflict"]
    problems = compare({"findings": expected, "exact": True, "kinds": semantic}, findings)
    assert not problems, problems
    for finding in findings:
        # Actionable without the other worktree: both names, the place, and advice.
        assert all(name in finding["message"] for name in finding["participants"])
        assert finding["details"], finding
    moved = next(f for f in findings if f["code"] == "DC204")
    assert "call PricingEngine(...).calculate_total(items" in moved["message"]
