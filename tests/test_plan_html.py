"""The HTML page in a real browser: headless Chromium from the OS packages renders
`plan --format html` for the account of issue 17, shows a node per participant
that nothing overlaps, expands a finding on a real click, fetches nothing, and
leaves a screenshot of the whole page in the test's tmp dir (plan.png). The same
page serves `scan --format html`."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from cdp import Browser, Page, find_chromium
from helpers import run_cli
from plan_repo import build_account

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
)
PRS = ("--refs", "refs/remotes/origin/pr/*")

NODE_BOXES = """
[...document.querySelectorAll('svg g.node')].map(g => {
  const box = g.querySelector('rect').getBoundingClientRect();
  const label = g.querySelector('text:last-of-type').getBoundingClientRect();
  return {name: g.dataset.name, x: box.x, y: box.y, w: box.width, h: box.height,
          label: label.width};
})
"""


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    assert CHROMIUM is not None
    started = Browser(CHROMIUM, tmp_path / "profile")
    yield started
    started.close()


def png_size(image: bytes) -> tuple[int, int]:
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", image[16:24])
    return width, height


def test_plan_page_in_chromium(workspace: Path, tmp_path: Path, browser: Browser) -> None:
    repo = build_account(workspace)
    page_file = tmp_path / "plan.html"
    made = run_cli("plan", *PRS, "--format", "html", "-o", str(page_file), cwd=repo)
    assert made.code == 1, made.stderr
    names = [
        p["name"]
        for p in run_cli("plan", *PRS, "--format", "json", cwd=repo).json()["participants"]
    ]

    page = Page(browser)
    page.open(page_file.as_uri())
    assert page.evaluate("document.title").startswith("driftcheck plan: 13 participants")

    # The graph: one node per participant, each fully drawn, none overlapping another.
    nodes = page.evaluate(NODE_BOXES)
    assert [n["name"] for n in nodes] == names
    for node in nodes:
        assert node["w"] > 100 and node["h"] > 20 and node["label"] < node["w"]
    for n, a in enumerate(nodes):
        for b in nodes[n + 1 :]:
            apart = (
                a["x"] + a["w"] <= b["x"]
                or b["x"] + b["w"] <= a["x"]
                or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"]
            )
            assert apart, (a["name"], b["name"])
    assert page.evaluate("document.querySelectorAll('svg g.cluster').length") == 3
    assert page.evaluate("document.querySelectorAll('path.edge.depends-on').length") == 1
    assert page.evaluate("document.querySelectorAll('path.edge.duplicates').length") == 3
    assert page.evaluate("document.querySelectorAll('path.edge.conflicts').length") == 2
    roles = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('svg g.node')]"
        ".map(g => [g.dataset.name, g.getAttribute('class')]))"
    )
    assert roles["main"] == "node trunk" and roles["feat/pricing"] == "node held"
    assert roles["agent/idle"] == "node deletable"
    steps = page.evaluate("[...document.querySelectorAll('li.step')].map(s => s.dataset.step)")
    assert steps == ["1", "2"]
    heat = page.evaluate("document.querySelectorAll('table.heat tr').length")
    assert heat == len(names) + 1

    # A finding expands on a real click on its summary.
    summary_at = page.evaluate(
        "(() => { const s = document.querySelector('details.finding > summary');"
        " s.scrollIntoView({block: 'center'}); const r = s.getBoundingClientRect();"
        " return [r.x + 40, r.y + r.height / 2]; })()"
    )
    assert page.evaluate("document.querySelector('details.finding').open") is False
    visible = "document.querySelector('details.finding .body').checkVisibility()"
    assert page.evaluate(visible) is False
    page.click(*summary_at)
    assert page.evaluate("document.querySelector('details.finding').open") is True
    assert page.evaluate(visible) is True
    assert "DC301" in page.evaluate("document.querySelector('details.finding').innerText")

    image = page.screenshot(tmp_path / "plan.png")
    width, height = png_size(image)
    assert width >= 1000 and height >= 2000
    # Self-contained: the page itself is the only thing the browser asked for.
    assert page.requested_urls() == [page_file.as_uri()]


def test_scan_page_is_the_same_page(workspace: Path, tmp_path: Path, browser: Browser) -> None:
    repo = build_account(workspace)
    page_file = tmp_path / "scan.html"
    made = run_cli("scan", *PRS, "--format", "html", "-o", str(page_file), cwd=repo)
    assert made.code == 1, made.stderr
    page = Page(browser)
    page.open(page_file.as_uri())
    assert page.evaluate("document.querySelectorAll('svg g.node').length") == 13
    assert page.evaluate("document.querySelectorAll('svg g.cluster').length") == 3
    assert page.evaluate("document.querySelector('ol.steps')") is None  # a scan has no order
    assert page.evaluate("document.querySelectorAll('details.finding').length") == 5
    page.screenshot(tmp_path / "scan.png")
    assert page.requested_urls() == [page_file.as_uri()]
