"""A repository with three worktrees for the coordination tests (claims, DC601,
who_is_changing, the digest, the MCP server)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from helpers import add_worktree, init_repo

ORDERS = '''\
"""Orders."""


def total(items):
    count = len(items)
    subtotal = 0
    for item in items:
        subtotal += item
    discount = 0
    if count > 10:
        discount = 5
    return subtotal - discount


def tax(amount):
    return amount * 0.2
'''

# feat/a changes the start of `total` (uncommitted): a body change.
ORDERS_A = ORDERS.replace("    count = len(items)\n", "    count = len(list(items))\n")
# A proposal from feat/b: the end of `total`, apart from feat/a's lines.
ORDERS_B = ORDERS.replace("return subtotal - discount", "return max(0, subtotal - discount)")
# A proposal from feat/b touching `tax` only.
ORDERS_B_TAX = ORDERS.replace("amount * 0.2", "amount * 0.21")

REPORT = """\
from shop.orders import total


def report(items):
    return f"total: {total(items)}"
"""


@dataclass
class Three:
    repo: Path  # main
    a: Path  # feat/a
    b: Path  # feat/b


def build_three(root: Path) -> Three:
    repo = init_repo(
        root / "main",
        {"shop/__init__.py": "", "shop/orders.py": ORDERS, "shop/report.py": REPORT},
    )
    a = add_worktree(repo, "wt-a", "feat/a")
    b = add_worktree(repo, "wt-b", "feat/b")
    return Three(repo, a, b)
