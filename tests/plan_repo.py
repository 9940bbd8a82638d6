"""The end of a stretch of parallel agent work, as a real repository (issue 17):

- `origin/pr/1` (branch `drop-cache`, no worktree) removes the cache module, which
  `feat/pricing` newly uses;
- `agent/discover-a`, `-b` and `-c` each add model discovery (c's is untracked);
- `fix/report-title` and `feat/report-style` change the same line;
- `agent/idle` never started; `feat/readme` was merged into main;
- `feat/export` is `origin/pr/2` plus staged, unstaged and untracked work;
- `feat/invoice` uses `format_money`, which `feat/export` (its pull request) adds,
  and forked 40 days before the trunk's head.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from helpers import add_worktree, commit_all, git, init_repo, write

DAY = 86400
START = 1700000000

CACHE = '''\
"""A small memoising cache."""

_STORE = {}


def get_cached(key, compute):
    if key not in _STORE:
        _STORE[key] = compute()
    return _STORE[key]


def clear_cache():
    _STORE.clear()
'''

MODELS = '''\
"""The shop's models."""


class Product:
    def __init__(self, name, price):
        self.name = name
        self.price = price


class Order:
    def __init__(self, items):
        self.items = items

    def total(self):
        return sum(item.price for item in self.items)
'''

REPORT = '''\
"""Reports."""


def header(title):
    line = "=" * 20
    return f"{line}\\n{title}\\n{line}"


def footer(count):
    return f"{count} orders"
'''

PRICING = """\
from shop.cache import get_cached


def order_total(order):
    return get_cached(id(order), order.total)
"""


def discovery(function: str, found: str, entry: str) -> str:
    """One implementation of model discovery; the three differ only in names."""
    return f"""\
import importlib
import inspect
import pkgutil


def {function}(package):
    {found} = []
    for {entry} in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{{package.__name__}}.{{{entry}.name}}")
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if getattr(value, "is_model", False):
                {found}.append(value)
    return {found}
"""


MONEY = """\
def format_money(amount, currency="EUR"):
    whole = int(amount)
    cents = round((amount - whole) * 100)
    return f"{whole}.{cents:02d} {currency}"
"""

EXPORT = """\
from shop.money import format_money


def export_rows(orders):
    return [format_money(order.total()) for order in orders]
"""

INVOICE = """\
from shop.money import format_money


def invoice_line(order):
    return "Total: " + format_money(order.total())
"""


@contextlib.contextmanager
def dated(seconds: int) -> Iterator[None]:
    """Commits made inside get this author and committer time."""
    saved = {k: os.environ.get(k) for k in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE")}
    for key in saved:
        os.environ[key] = f"{seconds} +0000"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def build_account(root: Path) -> Path:
    """The repository (main worktree on `main`); worktrees are its siblings."""
    with dated(START):
        repo = init_repo(
            root / "main",
            {
                "README.md": "# shop\n",
                "shop/__init__.py": "",
                "shop/cache.py": CACHE,
                "shop/models.py": MODELS,
                "shop/report.py": REPORT,
            },
        )
        invoice = add_worktree(repo, "invoice", "feat/invoice")
        write(invoice, {"shop/invoice.py": INVOICE})
        commit_all(invoice, "invoice lines")
    with dated(START + 40 * DAY):
        write(repo, {"shop/tax.py": "RATE = 0.2\n"})
        commit_all(repo, "tax rate")
        drop = add_worktree(repo, "drop-cache")
        (drop / "shop" / "cache.py").unlink()
        commit_all(drop, "drop the cache")
        git("worktree", "remove", str(drop), cwd=repo)
        git("update-ref", "refs/remotes/origin/pr/1", "drop-cache", cwd=repo)

        pricing = add_worktree(repo, "pricing", "feat/pricing")
        write(pricing, {"shop/pricing.py": PRICING})
        commit_all(pricing, "cached totals")

        for letter, (path, function, found, entry) in {
            "a": ("shop/discovery.py", "discover_models", "found", "info"),
            "b": ("shop/registry.py", "find_models", "models", "item"),
            "c": ("shop/autoload.py", "load_models", "result", "entry"),
        }.items():
            wt = add_worktree(repo, f"discover-{letter}", f"agent/discover-{letter}")
            write(wt, {path: discovery(function, found, entry)})
            if letter != "c":  # c's work is untracked
                commit_all(wt, "model discovery")

        title = add_worktree(repo, "report-title", "fix/report-title")
        write(title, {"shop/report.py": REPORT.replace('"=" * 20', '"-" * 30')})
        commit_all(title, "a longer title rule")
        style = add_worktree(repo, "report-style", "feat/report-style")
        write(style, {"shop/report.py": REPORT.replace('"=" * 20', '"*" * 20')})
        commit_all(style, "starred title rule")

        add_worktree(repo, "idle", "agent/idle")

        export = add_worktree(repo, "export", "feat/export")
        write(export, {"shop/money.py": MONEY, "shop/export.py": EXPORT})
        commit_all(export, "export rows")
        git("update-ref", "refs/remotes/origin/pr/2", "feat/export", cwd=repo)
        write(export, {"shop/export.py": EXPORT + "\n\nFORMAT = 'csv'\n"})
        git("add", "shop/export.py", cwd=export)  # staged
        write(export, {"shop/money.py": MONEY.replace('"EUR"', '"USD"')})  # unstaged
        write(export, {"shop/export_json.py": "FORMAT = 'json'\n"})  # untracked

        readme = add_worktree(repo, "readme", "feat/readme")
        write(readme, {"README.md": "# shop\n\nA small shop.\n"})
        commit_all(readme, "readme")
    with dated(START + 41 * DAY):
        git("merge", "-q", "--no-ff", "-m", "merge feat/readme", "feat/readme", cwd=repo)
    return repo
