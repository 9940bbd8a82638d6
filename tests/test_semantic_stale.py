"""stale-caller on small repositories: how calls are matched to what the other side changed.

Each test builds a base, a changer worktree and a caller worktree with the scenario
builder, scans in-process and compares the stale-caller findings exactly. The golden
cases under fixtures/ tell the stories end to end; these pin the resolution rules.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from driftcheck.demo.scenario import Change, Scenario, Worktree, build, delete, write
from driftcheck.engine.options import ScanOptions
from driftcheck.engine.scan import scan


def dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def scan_findings(
    tmp_path: Path,
    base: dict[str, str],
    changer: dict[str, str | None],
    caller: dict[str, str | None],
    kind: str | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """Findings (as JSON) for base + two worktrees; None as content deletes the file."""

    def changes(files: dict[str, str | None], stage: str) -> list[Change]:
        return [
            delete(path, stage) if code is None else write(path, dedent(code), stage)
            for path, code in files.items()
        ]

    scenario = Scenario(
        base={path: dedent(code) for path, code in base.items()},
        worktrees=[
            Worktree("changer", changes(changer, "committed")),
            Worktree("caller", changes(caller, "unstaged")),
        ],
    )
    repo = build(scenario, tmp_path)
    result = scan(ScanOptions(repo=str(repo), **options))
    found = [f.to_json() for f in result.findings]
    return [f for f in found if kind is None or f["kind"] == kind]


def stale(tmp_path: Path, base: dict, changer: dict, caller: dict) -> list[dict[str, Any]]:
    return scan_findings(tmp_path, base, changer, caller, kind="stale-caller")


def brief(findings: list[dict[str, Any]]) -> list[tuple[str, str, int, str | None]]:
    return [(f["code"], f["path"], f["line"], f["details"].get("reason")) for f in findings]


SHOP = """
class Shop:
    def __init__(self, name):
        self.name = name

    def price(self, sku, qty=1):
        total = qty * 2
        return total

    @classmethod
    def open(cls, name):
        shop = cls(name)
        return shop
"""
SHOP_PRICE_CURRENCY = SHOP.replace(
    "def price(self, sku, qty=1)", "def price(self, sku, currency, qty=1)"
)


RESOLVED_CALLS = {
    "alias.py": """
        from shop import Shop as S

        x = S("x").price("tea")
    """,
    "module_attribute.py": """
        import shop

        x = shop.Shop("x").price("tea")
    """,
    "annotated.py": """
        from shop import Shop

        def f(s: Shop):
            return s.price("tea")
    """,
    "typed_local.py": """
        from shop import Shop

        def f():
            s = Shop.open("x")
            t = Shop("y")
            a = Shop.price(s, "tea")
            return a, t.price("mug")
    """,
}


def test_method_call_resolution(tmp_path: Path) -> None:
    """Aliases, module attributes, annotations, typed locals and unbound calls through
    the class (which pass `self` explicitly) all reach Shop.price."""
    found = stale(tmp_path, {"shop.py": SHOP}, {"shop.py": SHOP_PRICE_CURRENCY}, RESOLVED_CALLS)
    reason = "missing required argument 'currency'"
    assert brief(found) == [
        ("DC201", "alias.py", 3, reason),
        ("DC201", "annotated.py", 4, reason),
        ("DC201", "module_attribute.py", 3, reason),
        ("DC201", "typed_local.py", 6, reason),
        ("DC201", "typed_local.py", 7, reason),
    ]


def test_class_call_binds_init_without_self(tmp_path: Path) -> None:
    changer = SHOP.replace("def __init__(self, name)", "def __init__(self, name, city)")
    caller = "from shop import Shop\n\nok = Shop('x', 'y')\nbad = Shop('x')\n"
    found = stale(tmp_path, {"shop.py": SHOP}, {"shop.py": changer}, {"use.py": caller})
    assert brief(found) == [("DC201", "use.py", 4, "missing required argument 'city'")]
    assert found[0]["details"]["old_signature"] == "Shop(self, name)"
    assert found[0]["details"]["new_signature"] == "Shop(self, name, city)"


def test_dataclass_field_added_breaks_positional_construction(tmp_path: Path) -> None:
    base = """
        from dataclasses import dataclass

        @dataclass
        class Item:
            sku: str
            price: float = 0.0
    """
    changer = base.replace("sku: str\n", "sku: str\n            currency: str\n")
    caller = "from item import Item\n\na = Item('tea', currency='EUR')\nb = Item('tea')\n"
    found = stale(tmp_path, {"item.py": base}, {"item.py": changer}, {"use.py": caller})
    assert brief(found) == [("DC201", "use.py", 4, "missing required argument 'currency'")]


def test_self_call_to_method_inherited_from_unchanged_file(tmp_path: Path) -> None:
    base = {
        "shop.py": SHOP,
        "outlet.py": "from shop import Shop\n\n\nclass Outlet(Shop):\n    pass\n",
    }
    caller = {
        "outlet.py": (
            "from shop import Shop\n\n\nclass Outlet(Shop):\n"
            "    def cheap(self):\n        return self.price('tea')\n"
        )
    }
    found = stale(tmp_path, base, {"shop.py": SHOP_PRICE_CURRENCY}, caller)
    assert brief(found) == [("DC201", "outlet.py", 6, "missing required argument 'currency'")]
    assert found[0]["symbol"] == "shop.Shop.price"


def test_classmethod_through_cls_binds_cls(tmp_path: Path) -> None:
    changer = SHOP.replace("def open(cls, name)", "def open(cls, name, city)")
    demo = (
        "\n    @classmethod\n    def demo(cls):\n        return cls.open('demo')\n"
        "\n    def again(self):\n        return Shop.open(self.name, 'x')\n"
    )
    caller = SHOP + demo
    found = stale(tmp_path, {"shop.py": SHOP}, {"shop.py": changer}, {"shop.py": caller})
    # `Shop.open(name, 'x')` inside Shop binds cls too: it already passes the city.
    assert brief(found) == [("DC201", "shop.py", 16, "missing required argument 'city'")]


def test_removed_keyword_and_too_many_arguments(tmp_path: Path) -> None:
    base = "def fetch(url, timeout=10, retries=3):\n    return (url, timeout, retries)\n"
    changer = "def fetch(url, timeout=10):\n    return (url, timeout)\n"
    caller = """
        from net import fetch

        a = fetch("u", retries=1)
        b = fetch("u", 5, 2)
        c = fetch("u", 5)
    """
    found = stale(tmp_path, {"net.py": base}, {"net.py": changer}, {"use.py": caller})
    assert brief(found) == [
        ("DC201", "use.py", 3, "no parameter named 'retries'"),
        ("DC201", "use.py", 4, "takes from 1 to 2 positional arguments but 3 were given"),
    ]
    assert "drop retries=" in found[0]["message"]


def test_method_becoming_property(tmp_path: Path) -> None:
    base = "class Cart:\n    def total(self):\n        return 1\n"
    changer = "class Cart:\n    @property\n    def total(self):\n        return 1\n"
    caller = "from cart import Cart\n\nx = Cart().total()\n"
    found = stale(tmp_path, {"cart.py": base}, {"cart.py": changer}, {"use.py": caller})
    assert brief(found) == [("DC201", "use.py", 3, "Cart.total is now a property")]
    assert "drop the call parentheses" in found[0]["message"]


def test_removed_function_is_one_finding_per_file(tmp_path: Path) -> None:
    base = "def slug(text):\n    return text.lower()\n\n\ndef keep():\n    return 1\n"
    caller = "from text import slug\n\na = slug('A')\nb = [slug(x) for x in 'ab']\n"
    changer = "def keep():\n    return 1\n"
    found = stale(tmp_path, {"text.py": base}, {"text.py": changer}, {"use.py": caller})
    assert brief(found) == [("DC202", "use.py", 1, None)]
    assert found[0]["details"]["lines"] == [1, 3, 4]
    assert found[0]["details"]["call"] == "from text import slug"


def test_moved_method_message_says_what_to_call(tmp_path: Path) -> None:
    run = "    def run(self, x):\n        y = x * 2\n        return y + 1\n"
    base = f"class A:\n{run}\n\nclass B:\n    pass\n"
    changer = f"class A:\n    pass\n\n\nclass B:\n{run}"
    caller = "from m import A\n\nr = A().run(3)\n"
    found = stale(tmp_path, {"m.py": base}, {"m.py": changer}, {"use.py": caller})
    assert brief(found) == [("DC204", "use.py", 3, None)]
    assert "call B(...).run(3) instead" in found[0]["message"]
    assert found[0]["details"]["new_qualname"] == "m.B.run"


SILENT_CALLS = {
    # A builtin method name on a receiver of unknown type: most likely a dict.
    "builtin_name.py": """
        def f(d):
            return d.get("a")
    """,
    # The caller silenced it.
    "inline_ignore.py": """
        from store import Store

        x = Store().get("a")  # driftcheck: ignore[stale-caller]
    """,
    # An optional import: the code expects the module to be missing or different.
    "optional_import.py": """
        try:
            from store import Store
        except ImportError:
            Store = None

        x = Store().get("a")
    """,
    # Already broken at the base: not drift.
    "broken_at_base.py": """
        from store import Store

        x = Store().get()
    """,
    # Compatible with the new signature.
    "compatible.py": """
        from store import Store

        x = Store().get("a", "b")
    """,
}


def test_silent_calls(tmp_path: Path) -> None:
    base = "class Store:\n    def get(self, key):\n        return key\n"
    changer = "class Store:\n    def get(self, key, default):\n        return key or default\n"
    assert stale(tmp_path, {"store.py": base}, {"store.py": changer}, SILENT_CALLS) == []


def test_definition_level_ignore(tmp_path: Path) -> None:
    base = "def fetch(url):\n    return url\n"
    changer = "def fetch(url, timeout):  # driftcheck: ignore[stale-caller]\n    return url\n"
    caller = "from net import fetch\n\nx = fetch('u')\n"
    assert stale(tmp_path, {"net.py": base}, {"net.py": changer}, {"use.py": caller}) == []


def test_caller_that_made_the_same_change_is_not_stale(tmp_path: Path) -> None:
    base = "def fetch(url):\n    return url\n"
    changer = "def fetch(url, timeout):\n    return url\n"
    caller = {
        "net.py": "def fetch(url, timeout=5):\n    return url\n",
        "use.py": "from net import fetch\n\nx = fetch('u')\n",
    }
    assert stale(tmp_path, {"net.py": base}, {"net.py": changer}, caller) == []


def test_deleted_module_guarded_and_unguarded(tmp_path: Path) -> None:
    base = {
        "cache.py": "class Cache:\n    def get(self, k):\n        return k\n",
        "app.py": "X = 1\n",
    }
    caller = {
        "app.py": "import cache\n\nX = cache.Cache().get(1)\n",
        "opt.py": "try:\n    import cache\nexcept ImportError:\n    cache = None\n",
    }
    found = stale(tmp_path, base, {"cache.py": None}, caller)
    assert brief(found) == [("DC202", "app.py", 1, None)]
    assert found[0]["details"]["removed_module"] == "cache"
    assert found[0]["details"]["lines"] == [1, 3]


def test_renamed_class_and_its_methods_are_one_finding(tmp_path: Path) -> None:
    base = SHOP
    changer = base.replace("class Shop:", "class Store:")
    caller = "from shop import Shop\n\n\ndef f():\n    s = Shop()\n    return s.price('a')\n"
    found = stale(tmp_path, {"shop.py": base}, {"shop.py": changer}, {"use.py": caller})
    assert brief(found) == [("DC203", "use.py", 1, None)]
    # s.price('a') (line 6) names no class: the instance keeps its methods.
    assert found[0]["details"]["lines"] == [1, 5]
    assert "import Store from shop instead" in found[0]["message"]


def test_unbound_call_through_own_class_name_passes_self_explicitly(tmp_path: Path) -> None:
    caller = SHOP + "\n    def tea(self):\n        return Shop.price(self, 'tea')\n"
    found = stale(
        tmp_path, {"shop.py": SHOP}, {"shop.py": SHOP_PRICE_CURRENCY}, {"shop.py": caller}
    )
    assert brief(found) == [("DC201", "shop.py", 15, "missing required argument 'currency'")]


def test_moved_but_re_exported_from_the_old_module_is_fine(tmp_path: Path) -> None:
    helper = "def slug(text):\n    words = text.split()\n    return '-'.join(words).lower()\n"
    base = {"text.py": helper, "app.py": "X = 1\n"}
    changer = {"text.py": "from strings import slug\n", "strings.py": helper}
    caller = {"app.py": "from text import slug\n\nX = slug('A b')\n"}
    assert stale(tmp_path, base, changer, caller) == []
    gone = {"text.py": "", "strings.py": helper}
    found = stale(tmp_path / "again", base, gone, caller)
    assert brief(found) == [("DC204", "app.py", 1, None)]
    assert "import slug from strings instead" in found[0]["message"]


def test_subclass_construction_uses_the_inherited_init(tmp_path: Path) -> None:
    base = {
        "shop.py": SHOP,
        "outlet.py": "from shop import Shop\n\n\nclass Outlet(Shop):\n    discount = 10\n",
    }
    changer = {
        "shop.py": SHOP.replace("def __init__(self, name)", "def __init__(self, name, city)")
    }
    caller = {"use.py": "from outlet import Outlet\n\nx = Outlet('x')\n"}
    found = stale(tmp_path, base, changer, caller)
    assert brief(found) == [("DC201", "use.py", 3, "missing required argument 'city'")]
    assert found[0]["symbol"] == "shop.Shop.__init__"
