"""`driftcheck demo`: a throwaway shop repository whose agents drift apart in every way.

The stories, one worktree per agent (each mixes committed, staged, unstaged and
untracked work, the way agents leave it):

- agent/pricing moves `OrderProcessor.calculate_total` into a new `PricingEngine`,
  while agent/tests writes tests that still call `OrderProcessor(...).calculate_total`;
- agent/cache-removal deletes `cache.py`, which agent/tests starts importing;
- agent/discovery and agent/registry each add the same model-discovery helper under a
  different name;
- agent/fix-a and agent/fix-b fix the same off-by-one in `utils.paginate` in different
  lines: git merges both cleanly, and the merged code is wrong again;
- README.md (pricing vs cache-removal) and CHANGELOG.md (discovery vs registry) are
  edited on the same lines: textual conflicts.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from driftcheck.demo.scenario import Scenario, Worktree, build, delete, write
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import scan
from driftcheck.errors import UsageError
from driftcheck.model import ScanResult

README = """\
# shop

A small order-processing service.

## Modules

- `orders/`: `OrderProcessor` prices a cart; `LineItem` is one row of it.
- `cache.py`: `PriceCache`, an in-memory price cache with a TTL.
- `catalog.py`: product lookup, cached through `cache.PriceCache`.
- `recommend/`: loads recommendation models from `models/`.

## Development

    pip install -e .
    pytest
"""

CHANGELOG = """\
# Changelog

## Unreleased

## 0.3.0

- Orders: discounts are applied before tax.
"""

PROCESSOR = '''\
"""Turn a cart of line items into an order total."""

from __future__ import annotations

from decimal import Decimal

from orders.models import LineItem
from utils import round_money


class OrderProcessor:
    def __init__(self, tax_rate: Decimal = Decimal("0.20")) -> None:
        self.tax_rate = tax_rate

    def calculate_total(self, items: list[LineItem], discount: Decimal = Decimal("0")) -> Decimal:
        """Subtotal minus discount, plus tax on the discounted amount."""
        subtotal = sum((item.subtotal for item in items), Decimal("0"))
        taxable = max(subtotal - discount, Decimal("0"))
        return round_money(taxable * (1 + self.tax_rate))

    def checkout(self, items: list[LineItem]) -> dict[str, object]:
        total = self.calculate_total(items)
        return {"items": len(items), "total": str(total)}
'''

UTILS = '''\
"""Small helpers shared across the shop."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def round_money(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def paginate(items: list, page: int, per_page: int = 20) -> list:
    """The items on `page`; pages are numbered from 1."""
    if per_page <= 0:
        raise ValueError("per_page must be positive")
    start = page * per_page
    return items[start : start + per_page]
'''

CATALOG = '''\
"""Product lookup."""

from __future__ import annotations

from decimal import Decimal

from cache import PriceCache

_PRICES = {"tea": Decimal("4.00"), "mug": Decimal("5.00"), "kettle": Decimal("24.50")}
_cache = PriceCache()


def price_of(sku: str) -> Decimal:
    cached = _cache.get(sku)
    if cached is not None:
        return cached
    price = _PRICES[sku]
    _cache.put(sku, price)
    return price
'''

BASE: dict[str, str] = {
    ".gitignore": "__pycache__/\n*.pyc\n/.venv/\n/models/*.pkl\n",
    "README.md": README,
    "CHANGELOG.md": CHANGELOG,
    "pyproject.toml": '[project]\nname = "shop"\nversion = "0.3.0"\nrequires-python = ">=3.11"\n',
    "config.toml": '[shop]\ncurrency = "EUR"\ntax_rate = "0.20"\n\n[cache]\nttl_seconds = 300\n',
    "orders/__init__.py": (
        '"""Orders: line items and the processor that prices them."""\n\n'
        "from orders.models import LineItem\nfrom orders.processor import OrderProcessor\n\n"
        '__all__ = ["LineItem", "OrderProcessor"]\n'
    ),
    "orders/models.py": '''\
"""Value objects for orders."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class LineItem:
    sku: str
    unit_price: Decimal
    quantity: int = 1

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity
''',
    "orders/processor.py": PROCESSOR,
    "utils.py": UTILS,
    "cache.py": '''\
"""An in-memory price cache with a time-to-live."""

from __future__ import annotations

import time
from decimal import Decimal


class PriceCache:
    def __init__(self, ttl_seconds: float = 300.0) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, Decimal]] = {}

    def get(self, sku: str) -> Decimal | None:
        entry = self._entries.get(sku)
        if entry is None or time.monotonic() - entry[0] >= self.ttl_seconds:
            return None
        return entry[1]

    def put(self, sku: str, price: Decimal) -> None:
        self._entries[sku] = (time.monotonic(), price)
''',
    "catalog.py": CATALOG,
    "recommend/__init__.py": '"""Product recommendations from trained models."""\n',
    "recommend/loader.py": '''\
"""Load a trained recommendation model."""

from __future__ import annotations

import pickle
from pathlib import Path


def load_model(path: Path) -> object:
    with path.open("rb") as handle:
        return pickle.load(handle)
''',
    "tests/test_processor.py": """\
from decimal import Decimal

from orders import LineItem, OrderProcessor


def test_total_adds_tax() -> None:
    items = [LineItem("tea", Decimal("4.00"), 2)]
    assert OrderProcessor().calculate_total(items) == Decimal("9.60")
""",
}


def _edit(text: str, old: str, new: str) -> str:
    # Edits are written against the base so a typo fails loudly, not silently.
    if text.count(old) != 1:
        raise ValueError(f"demo edit does not apply: {old!r}")
    return text.replace(old, new)


# --- agent/pricing: calculate_total moves to PricingEngine.
PRICING = '''\
"""Prices: everything between a cart and the amount to charge."""

from __future__ import annotations

from decimal import Decimal

from orders.models import LineItem
from utils import round_money


class PricingEngine:
    def __init__(self, tax_rate: Decimal = Decimal("0.20")) -> None:
        self.tax_rate = tax_rate

    def calculate_total(self, items: list[LineItem], discount: Decimal = Decimal("0")) -> Decimal:
        """Subtotal minus discount, plus tax on the discounted amount."""
        subtotal = sum((item.subtotal for item in items), Decimal("0"))
        taxable = max(subtotal - discount, Decimal("0"))
        return round_money(taxable * (1 + self.tax_rate))
'''
PROCESSOR_AFTER_PRICING = '''\
"""Checkout: turn a cart into an order; pricing lives in orders.pricing."""

from __future__ import annotations

from orders.models import LineItem
from orders.pricing import PricingEngine


class OrderProcessor:
    def __init__(self, pricing: PricingEngine | None = None) -> None:
        self.pricing = pricing or PricingEngine()

    def checkout(self, items: list[LineItem]) -> dict[str, object]:
        total = self.pricing.calculate_total(items)
        return {"items": len(items), "total": str(total)}
'''
README_PRICING = _edit(
    README,
    "- `orders/`: `OrderProcessor` prices a cart; `LineItem` is one row of it.\n",
    "- `orders/`: `OrderProcessor` runs checkout; `LineItem` is one row of a cart.\n"
    "- `orders/pricing.py`: `PricingEngine.calculate_total` prices a cart.\n",
)

# --- agent/tests: new tests written against the old API, and against cache.py.
NEW_TESTS = """\
from decimal import Decimal

from cache import PriceCache
from orders import LineItem, OrderProcessor


def test_discount_never_makes_total_negative() -> None:
    items = [LineItem("mug", Decimal("5.00"))]
    total = OrderProcessor(Decimal("0.20")).calculate_total(items, discount=Decimal("9"))
    assert total == Decimal("0.00")


def test_expired_price_is_not_served() -> None:
    cache = PriceCache(ttl_seconds=0)
    cache.put("tea", Decimal("4.00"))
    assert cache.get("tea") is None
"""
TESTS_CONFTEST = """\
from decimal import Decimal

import pytest

from orders import OrderProcessor


@pytest.fixture
def processor() -> OrderProcessor:
    return OrderProcessor(Decimal("0.20"))
"""
DISCOVERY_TESTS = """\
from pathlib import Path

from recommend.discovery import find_models


def test_missing_folder_has_no_models(tmp_path: Path) -> None:
    assert find_models(tmp_path / "nowhere") == []
"""

# --- agent/cache-removal: cache.py goes, catalog reads prices directly.
CATALOG_NO_CACHE = '''\
"""Product lookup (prices are in memory already; a cache only added staleness)."""

from __future__ import annotations

from decimal import Decimal

_PRICES = {"tea": Decimal("4.00"), "mug": Decimal("5.00"), "kettle": Decimal("24.50")}


def price_of(sku: str) -> Decimal:
    return _PRICES[sku]
'''
README_NO_CACHE = _edit(
    README,
    "- `cache.py`: `PriceCache`, an in-memory price cache with a TTL.\n"
    "- `catalog.py`: product lookup, cached through `cache.PriceCache`.\n",
    "- `catalog.py`: product lookup straight from the price table.\n",
)

# --- agent/discovery and agent/registry: one helper, two names.
DISCOVERY = '''\
"""Find trained models on disk."""

from __future__ import annotations

from pathlib import Path


def find_models(root: Path, suffix: str = ".pkl") -> list[Path]:
    """Every model file under `root`, newest first."""
    if not root.is_dir():
        return []
    found = [path for path in root.rglob(f"*{suffix}") if path.is_file()]
    return sorted(found, key=lambda path: path.stat().st_mtime, reverse=True)
'''
REGISTRY = '''\
"""A registry of the recommendation models that can be served."""

from __future__ import annotations

from pathlib import Path


def list_available_models(models_dir: Path, extension: str = ".pkl") -> list[Path]:
    """Model files below `models_dir`, most recently trained first."""
    if not models_dir.is_dir():
        return []
    candidates = [f for f in models_dir.rglob(f"*{extension}") if f.is_file()]
    return sorted(candidates, key=lambda f: f.stat().st_mtime, reverse=True)
'''


def _changelog(entry: str) -> str:
    return _edit(CHANGELOG, "## Unreleased\n\n", f"## Unreleased\n\n- {entry}\n\n")


# --- agent/fix-a and agent/fix-b: the same off-by-one, fixed in two places.
START = "    start = page * per_page\n"
UTILS_FIX_A = _edit(UTILS, START, "    start = (page - 1) * per_page\n")
UTILS_FIX_B = _edit(
    UTILS,
    '    """The items on `page`; pages are numbered from 1."""\n',
    '    """The items on `page`; pages are numbered from 1."""\n'
    "    page -= 1  # the slice below counts from 0\n",
)

DEMO = Scenario(
    description="A shop whose six agents drift apart in every way driftcheck detects.",
    base=BASE,
    worktrees=[
        Worktree(
            "agent/pricing",
            [
                write("orders/pricing.py", PRICING, "committed"),
                write("orders/processor.py", PROCESSOR_AFTER_PRICING, "committed"),
                write(
                    "tests/test_processor.py",
                    BASE["tests/test_processor.py"]
                    .replace("LineItem, OrderProcessor", "LineItem, PricingEngine")
                    .replace("OrderProcessor()", "PricingEngine()"),
                    "committed",
                ),
                write("README.md", README_PRICING, "staged"),
                write(
                    "orders/__init__.py",
                    _edit(
                        BASE["orders/__init__.py"],
                        "from orders.processor import OrderProcessor\n",
                        "from orders.pricing import PricingEngine\n"
                        "from orders.processor import OrderProcessor\n",
                    ).replace('"OrderProcessor"]', '"OrderProcessor", "PricingEngine"]'),
                    "unstaged",
                ),
            ],
        ),
        Worktree(
            "agent/tests",
            [
                write("tests/conftest.py", TESTS_CONFTEST, "staged"),
                write("tests/test_checkout.py", NEW_TESTS, "untracked"),
            ],
        ),
        Worktree(
            "agent/cache-removal",
            [
                delete("cache.py", "committed"),
                write("catalog.py", CATALOG_NO_CACHE, "committed"),
                write(
                    "config.toml",
                    _edit(BASE["config.toml"], "\n[cache]\nttl_seconds = 300\n", ""),
                    "staged",
                ),
                write("README.md", README_NO_CACHE, "unstaged"),
            ],
        ),
        Worktree(
            "agent/discovery",
            [
                write("recommend/discovery.py", DISCOVERY, "committed"),
                write("tests/test_discovery.py", DISCOVERY_TESTS, "untracked"),
                write(
                    "CHANGELOG.md", _changelog("Recommend: `find_models` lists models."), "unstaged"
                ),
            ],
        ),
        Worktree(
            "agent/registry",
            [
                write("recommend/registry.py", REGISTRY, "staged"),
                write(
                    "CHANGELOG.md",
                    _changelog("Recommend: a model registry (`list_available_models`)."),
                    "staged",
                ),
            ],
        ),
        Worktree("agent/fix-a", [write("utils.py", UTILS_FIX_A, "committed")]),
        Worktree("agent/fix-b", [write("utils.py", UTILS_FIX_B, "unstaged")]),
    ],
)


def run_demo(keep: bool = False, target: str | None = None) -> tuple[ScanResult, Path]:
    """Build the demo, scan it, and remove it again unless `keep`.

    Returns the scan result and the main worktree's path (gone unless `keep`).
    """
    root, created = _prepare(target)
    try:
        repo = build(DEMO, root)
        result = scan(ScanOptions(repo=str(repo)))
    finally:
        # finally, not except: Ctrl-C during the build must not leave a repo behind.
        if not keep:
            _remove(root, created)
    return result, root / "repo"


def _prepare(target: str | None) -> tuple[Path, bool]:
    """The folder to build in, and whether we created it (and may delete it)."""
    if target is None:
        return Path(tempfile.mkdtemp(prefix="driftcheck-demo-")).resolve(), True
    root = Path(target).expanduser().resolve()
    if root.exists():
        if not root.is_dir():
            raise UsageError(f"--path {target} is not a directory")
        if any(root.iterdir()):
            raise UsageError(f"--path {target} is not empty; give an empty or new folder")
        return root, False
    try:
        root.mkdir(parents=True)
    except OSError as exc:
        raise UsageError(f"cannot create --path {target}: {exc.strerror}") from exc
    return root, True


def _remove(root: Path, created: bool) -> None:
    if created:
        shutil.rmtree(root, ignore_errors=True)
        return
    # The folder was the user's (empty) one: empty it again, keep the folder.
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
