"""The tree-sitter frontends (TypeScript, JavaScript, Go, Rust, Java) with real parsers.

Each language fills the same symbol model as Python: qualnames and kinds, signatures
with optional/default/rest markers, calls resolved through imports, fingerprints that
ignore renamed locals and layout, and files that do not parse.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcheck.symbols.languages import FRONTENDS, all_frontends, frontend_for, get_frontend
from driftcheck.symbols.languages.profiles import go, java, javascript, rust
from driftcheck.symbols.table import ModuleSymbols, Reference, Symbol


def parse(path: str, code: str) -> ModuleSymbols:
    frontend = frontend_for(path)
    assert frontend is not None
    return frontend.parse(path, textwrap.dedent(code).encode())


def sym(table: ModuleSymbols, qualname: str) -> Symbol:
    found = table.get(qualname)
    assert found is not None, f"{qualname} not in {[s.qualname for s in table.symbols]}"
    return found


def calls(table: ModuleSymbols) -> dict[str, Reference]:
    return {r.target: r for r in table.references if r.kind == "call"}


def sig(symbol: Symbol) -> str:
    assert symbol.signature is not None
    return symbol.signature.render()


# ---------------------------------------------------------------- registry


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("src/a.ts", "typescript"),
        ("src/a.tsx", "typescript"),
        ("src/a.d.ts", "typescript"),
        ("src/a.mts", "typescript"),
        ("lib/a.js", "javascript"),
        ("lib/a.JSX", "javascript"),
        ("lib/a.mjs", "javascript"),
        ("lib/a.cjs", "javascript"),
        ("cmd/main.go", "go"),
        ("src/lib.rs", "rust"),
        ("src/main/java/A.java", "java"),
        ("a.py", "python"),
    ],
)
def test_extensions_pick_the_frontend(path: str, language: str) -> None:
    frontend = frontend_for(path)
    assert frontend is not None and frontend.name == language
    assert parse(path, "").language == language


def test_registry_and_frontends_load_no_parser() -> None:
    """Importing the registry, the profiles and asking for module names must not
    import tree_sitter: only a parse does."""
    code = (
        "import sys, driftcheck.symbols.languages as l\n"
        "fs = l.all_frontends()\n"
        "[f.module_name('src/a/b.x') for f in fs]\n"
        "assert 'tree_sitter' not in sys.modules, 'tree_sitter imported'\n"
        "l.frontend_for('a.ts').parse('a.ts', b'let a = 1')\n"
        "assert 'tree_sitter' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_registered_frontend_follows_the_protocol() -> None:
    assert set(FRONTENDS) == {"python", "typescript", "javascript", "go", "rust", "java"}
    for frontend in all_frontends():
        assert frontend is get_frontend(frontend.name)
        assert isinstance(frontend.parser_version, str) and frontend.parser_version
        assert frontend.file_is_module in (True, False)
    assert not get_frontend("go").file_is_module and not get_frontend("java").file_is_module


def test_tsx_uses_the_tsx_grammar() -> None:
    code = "export function App(): JSX.Element { return <div className='a'>{title}</div>; }"
    assert parse("src/App.tsx", code).parse_error is None
    assert parse("src/App.ts", code).parse_error is not None  # JSX is not TypeScript
    assert parse("src/App.jsx", code.replace("(): JSX.Element", "()")).parse_error is None


@pytest.mark.parametrize(
    ("naming", "path", "expected"),
    [
        (javascript.module_name, "src/services/user.ts", ("src/services/user", False)),
        (javascript.module_name, "src/services/index.ts", ("src/services", True)),
        (javascript.module_name, "types/api.d.ts", ("types/api", False)),
        (javascript.module_name, "index.js", ("", True)),
        (go.module_name, "internal/orders/total.go", ("internal/orders", False)),
        (go.module_name, "main.go", ("", False)),
        (rust.module_name, "src/lib.rs", ("crate", True)),
        (rust.module_name, "src/orders/mod.rs", ("crate.orders", True)),
        (rust.module_name, "src/orders/items.rs", ("crate.orders.items", False)),
        (rust.module_name, "crates/bill-ing/src/lib.rs", ("bill_ing", True)),
        (rust.module_name, "tests/api.rs", ("tests.api", True)),
        (java.module_name, "src/main/java/com/shop/Pricing.java", ("com.shop", False)),
        (java.module_name, "src/com/shop/Pricing.java", ("com.shop", False)),
    ],
)
def test_module_names(naming: object, path: str, expected: tuple[str, bool]) -> None:
    assert naming(path) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    ("spec", "module", "is_package", "expected"),
    [
        ("./user.js", "src/services/account", False, "src/services/user"),
        ("../models/user", "src/services/account", False, "src/models/user"),
        ("./user", "src/services", True, "src/services/user"),
        ("./services/index.js", "src", True, "src/services"),
        ("..", "src/services/account", False, "src"),
        ("../../../outside", "src/a", False, "../../../outside"),
        ("lodash/fp", "src/a", False, "lodash/fp"),
    ],
)
def test_typescript_relative_imports(
    spec: str, module: str, is_package: bool, expected: str
) -> None:
    assert javascript.resolve_module(spec, module, is_package) == expected


# ---------------------------------------------------------------- TypeScript


TS_SERVICE = """\
import type { User } from "../models/user.js";
import Repo, { Clock as Time, audit } from "./repo.js";
import * as util from "../util";
export { formatPrice } from "./money.js";
export * from "./events.js";

export const MAX_USERS = 100;
export type UserId = string;

export interface UserService extends Base {
  readonly size: number;
  find(id: UserId, opts?: { deep: boolean }): Promise<User>;
}

export class AccountService implements UserService {
  size = 0;
  constructor(private readonly repo: Repo, public clock?: Time) {}

  static create(repo: Repo): AccountService {
    return new AccountService(repo);
  }

  get count(): number {
    return this.size;
  }

  async find(id: UserId, opts = { deep: false }, ...tags: string[]): Promise<User> {
    audit(id, ...tags);
    const user = await this.repo.load(id);
    return util.clone(user, this.check(user));
  }

  check(this: AccountService, user: User): boolean {
    return user !== undefined;
  }

  onChange = (event: Event): void => {
    console.log(event);
  };
}

export const normalise = (name: string) => name.trim().toLowerCase();
export default AccountService;
"""


def test_typescript_definitions_and_kinds() -> None:
    t = parse("src/services/account.ts", TS_SERVICE)
    assert t.module == "src/services/account" and t.parse_error is None
    kinds = {s.qualname.removeprefix("src/services/account."): s.kind for s in t.symbols}
    assert kinds == {
        "MAX_USERS": "constant",
        "UserId": "constant",
        "UserService": "class",
        "UserService.find": "method",
        "AccountService": "class",
        "AccountService.constructor": "method",
        "AccountService.create": "method",
        "AccountService.count": "method",
        "AccountService.find": "method",
        "AccountService.check": "method",
        "AccountService.onChange": "method",
        "normalise": "function",
    }
    assert sym(t, "src/services/account.MAX_USERS").value == "100"
    assert sym(t, "src/services/account.UserId").value == "string"
    assert sym(t, "src/services/account.UserService").bases == ("Base",)
    assert sym(t, "src/services/account.AccountService").bases == ("UserService",)
    method = sym(t, "src/services/account.AccountService.find")
    assert method.parent == "src/services/account.AccountService"
    assert method.is_async and method.start_line == 27 and method.end_line == 31


def test_typescript_signatures() -> None:
    t = parse("src/services/account.ts", TS_SERVICE)
    find = sym(t, "src/services/account.AccountService.find")
    assert sig(find) == "(id, opts={ deep: false }, *tags)"
    assert find.signature is not None and find.signature.returns == "Promise<User>"
    assert sig(sym(t, "src/services/account.UserService.find")) == "(id, opts=undefined)"
    # `this` is a type annotation, not an argument; constructor properties are params.
    assert sig(sym(t, "src/services/account.AccountService.check")) == "(user)"
    ctor = sym(t, "src/services/account.AccountService.constructor")
    assert sig(ctor) == "(repo, clock=undefined)"
    assert ctor.signature is not None and ctor.signature.accepts(1) is None
    assert ctor.signature.accepts(0) == "missing required argument 'repo'"
    assert sig(sym(t, "src/services/account.normalise")) == "(name)"


def test_typescript_method_binding_is_the_call_site_signature() -> None:
    """Signatures list only what a call passes; getters are properties."""
    t = parse("src/services/account.ts", TS_SERVICE)
    assert sym(t, "src/services/account.AccountService.find").binding == "staticmethod"
    assert "static" in sym(t, "src/services/account.AccountService.create").decorators
    assert sym(t, "src/services/account.AccountService.count").binding == "property"
    assert sym(t, "src/services/account.normalise").binding is None


def test_typescript_imports_and_exports() -> None:
    t = parse("src/services/account.ts", TS_SERVICE)
    assert t.imports == {
        "User": "src/models/user.User",
        "Repo": "src/services/repo.default",
        "Time": "src/services/repo.Clock",
        "audit": "src/services/repo.audit",
        "util": "src/util",
    }
    # `export { formatPrice } from` binds no local name: it is offered, not imported.
    assert t.exports == {
        "formatPrice": "src/services/money.formatPrice",
        "default": "src/services/account.AccountService",
    }
    assert t.star_imports == ("src/services/events",)
    imports = [r for r in t.references if r.kind == "import"]
    assert [(r.name, r.alias, r.line) for r in imports][:3] == [
        ("User", None, 1),
        ("default", None, 2),
        ("Clock", "Time", 2),
    ]
    assert imports[0].target == "../models/user.js:User"


def test_typescript_calls_resolve() -> None:
    c = calls(parse("src/services/account.ts", TS_SERVICE))
    assert c["AccountService"].resolved == "src/services/account.AccountService.constructor"
    assert c["AccountService"].name == "constructor"
    assert c["audit"].resolved == "src/services/repo.audit"
    assert c["audit"].positional_count == 1 and c["audit"].has_star
    # a constructor parameter property says what `this.repo` holds
    assert c["this.repo.load"].resolved == "src/services/repo.default.load"
    assert c["this.check"].resolved == "src/services/account.AccountService.check"
    assert c["util.clone"].resolved == "src/util.clone"
    assert c["util.clone"].enclosing == "src/services/account.AccountService.find"
    assert c["util.clone"].text == "util.clone(user, this.check(user))"
    assert "console.log" not in c  # runtime globals are never project calls


def test_typescript_typed_locals_and_chains() -> None:
    t = parse(
        "src/app.ts",
        """\
        import { Pricing } from "./pricing";
        export function run(p: Pricing, q) {
          const fresh = new Pricing();
          fresh.total(1);
          p.total(2);
          q.total(3);
          new Pricing().total(4);
          make()(5);
        }
        """,
    )
    refs = [r for r in t.references if r.kind == "call"]
    by_line = {r.line: r for r in refs}
    assert by_line[4].resolved == "src/pricing.Pricing.total"
    assert by_line[5].resolved == "src/pricing.Pricing.total"
    assert by_line[6].resolved is None and by_line[6].receiver == "q"
    totals = [r for r in refs if r.line == 7 and r.name == "total"]
    assert totals[0].resolved == "src/pricing.Pricing.total"
    assert totals[0].target == "Pricing(...).total"
    odd = [r for r in refs if r.line == 8 and r.target == "make(...)"]
    assert odd and odd[0].name == ""


# ---------------------------------------------------------------- JavaScript


def test_javascript_commonjs_and_classes() -> None:
    t = parse(
        "lib/index.js",
        """\
        "use strict";
        const { slugify, truncate: cut } = require("./format");
        const path = require("path");

        class Feed extends Base {
          static of(items = [], ...more) { return new Feed(items); }
          get size() { return this.items.length; }
          add(entry) { this.items.push(slugify(entry)); }
        }

        function title(text, size = 10) {
          return cut(path.basename(text), size);
        }
        module.exports = { Feed, title };
        """,
    )
    assert t.module == "lib" and t.is_package and t.parse_error is None
    assert t.imports == {
        "slugify": "lib/format.slugify",
        "cut": "lib/format.truncate",
        "path": "path",
    }
    assert sig(sym(t, "lib.Feed.of")) == "(items=[], *more)"
    assert sig(sym(t, "lib.title")) == "(text, size=10)"
    assert sym(t, "lib.Feed.size").binding == "property"
    c = calls(t)
    assert c["cut"].resolved == "lib/format.truncate"
    assert c["path.basename"].resolved == "path.basename"
    assert c["slugify"].enclosing == "lib.Feed.add"


# ---------------------------------------------------------------- Go


GO_ORDERS = """\
package orders

import (
	"fmt"
	money "example.com/shop/internal/money/v2"
	"gopkg.in/yaml.v3"
)

const Rate, Floor = 0.2, 1

type Order struct {
	Items []Item
	store Store
}

type Store interface {
	Get(id string) (*Order, error)
	Put(*Order, bool) error
}

func New(items ...Item) *Order { return &Order{Items: items} }

func (o *Order) Total(discount, extra float64, names ...string) float64 {
	sum := 0.0
	for _, it := range o.Items {
		sum += it.Price
	}
	o.store.Put(o, true)
	fmt.Println(len(names), yaml.Marshal)
	return money.Round(sum-discount+extra, 2) + helper(sum)
}
"""


def test_go_definitions_receivers_and_params() -> None:
    t = parse("internal/orders/order.go", GO_ORDERS)
    assert t.module == "internal/orders" and t.parse_error is None
    kinds = {s.qualname: s.kind for s in t.symbols}
    assert kinds == {
        "internal/orders.Rate": "constant",
        "internal/orders.Floor": "constant",
        "internal/orders.Order": "class",
        "internal/orders.Store": "class",
        "internal/orders.Store.Get": "method",
        "internal/orders.Store.Put": "method",
        "internal/orders.New": "function",
        "internal/orders.Order.Total": "method",
    }
    total = sym(t, "internal/orders.Order.Total")
    assert total.parent == "internal/orders.Order"
    assert sig(total) == "(discount, extra, *names)"
    assert sig(sym(t, "internal/orders.Store.Put")) == "(_0, _1)"
    assert sig(sym(t, "internal/orders.New")) == "(*items)"


def test_go_calls_resolve_through_import_paths_and_the_package() -> None:
    t = parse("internal/orders/order.go", GO_ORDERS)
    assert t.imports == {
        "fmt": "fmt",
        "money": "example.com/shop/internal/money/v2",
        "yaml": "gopkg.in/yaml.v3",
    }
    c = calls(t)
    assert c["money.Round"].resolved == "example.com/shop/internal/money/v2.Round"
    assert c["helper"].resolved == "internal/orders.helper"  # same package, another file
    assert c["o.store.Put"].resolved == "internal/orders.Store.Put"  # field of known type
    assert "len" not in c  # builtins are not project calls
    assert go.package_name("example.com/x/go-sqlite3") == "sqlite3"


# ---------------------------------------------------------------- Rust


RUST_ORDERS = """\
use crate::money::{self, round, Money as M};
use super::items::*;
use std::collections::HashMap;
mod tax;

#[derive(Debug)]
pub struct Order { pub items: Vec<Item>, ledger: Ledger }
pub struct Ledger;
pub enum Kind { Retail, Wholesale(u32) }
pub trait Priced { fn price(&self) -> f64; fn label(&self) -> String { String::new() } }
pub const RATE: f64 = 0.2;

impl Order {
    pub fn new(items: Vec<Item>) -> Self { Self { items, ledger: Ledger::default() } }
    pub async fn total(&self, discount: f64, (a, b): (u8, u8)) -> f64 {
        let sum = round(self.net(), 2);
        let m = M::new(sum);
        self.ledger.record(sum);
        money::convert(m, tax::rate());
        sum - discount
    }
}

impl Priced for Order { fn price(&self) -> f64 { Self::new(vec![]).net() } }
fn free<T: Clone>(x: T) -> T { x.clone() }
"""


def test_rust_definitions_impls_and_traits() -> None:
    t = parse("src/orders/mod.rs", RUST_ORDERS)
    assert t.module == "crate.orders" and t.is_package and t.parse_error is None
    kinds = {s.qualname.removeprefix("crate.orders."): s.kind for s in t.symbols}
    assert kinds == {
        "Order": "class",
        "Ledger": "class",
        "Kind": "class",
        "Priced": "class",
        "Priced.price": "method",
        "Priced.label": "method",
        "RATE": "constant",
        "Order.new": "method",
        "Order.total": "method",
        "Order.price": "method",
        "free": "function",
    }
    total = sym(t, "crate.orders.Order.total")
    assert sig(total) == "(discount, (a, b))"  # `&self` is not passed by callers
    assert total.is_async and total.parent == "crate.orders.Order"
    assert sym(t, "crate.orders.Order").start_line == 6  # the attribute belongs to it


def test_rust_use_trees_and_paths() -> None:
    t = parse("src/orders/mod.rs", RUST_ORDERS)
    assert t.imports == {
        "money": "crate.money",
        "round": "crate.money.round",
        "M": "crate.money.Money",
        "HashMap": "std.collections.HashMap",
        "tax": "crate.orders.tax",
    }
    assert t.star_imports == ("crate.items",)
    c = calls(t)
    assert c["round"].resolved == "crate.money.round"
    assert c["M::new"].resolved == "crate.money.Money.new"
    assert c["money::convert"].resolved == "crate.money.convert"
    assert c["tax::rate"].resolved == "crate.orders.tax.rate"
    assert c["self.net"].resolved == "crate.orders.Order.net"
    assert c["self.ledger.record"].resolved == "crate.orders.Ledger.record"
    assert c["Self::new"].resolved == "crate.orders.Order.new"
    assert "Ledger::default" in c and "vec" not in c  # macros are not calls


# ---------------------------------------------------------------- Java


JAVA_PRICING = """\
package com.shop.orders;

import java.util.List;
import com.shop.money.Money;
import static com.shop.money.Rounding.round;
import com.shop.util.*;

public class Pricing extends Base implements Priced, Cloneable {
    private final Ledger ledger = new Ledger();

    public Pricing() { this(0); }
    public Pricing(int scale) { super(); }

    public double total(List<Item> items) { return total(items, 0.0); }

    public double total(List<Item> items, double discount) {
        Money money = new Money(discount);
        ledger.record(items.size());
        return round(money.value(), 2) + Tax.rate(items);
    }

    public static <T> T first(T... xs) { return xs[0]; }

    interface Listener { void changed(String field, Object value); }
}
"""


def test_java_overloads_and_constructors_are_told_apart_by_arity() -> None:
    t = parse("src/main/java/com/shop/orders/Pricing.java", JAVA_PRICING)
    assert t.module == "com.shop.orders" and t.parse_error is None
    names = [s.qualname.removeprefix("com.shop.orders.") for s in t.symbols]
    assert names == [
        "Pricing",
        "Pricing.<init>/0",
        "Pricing.<init>/1",
        "Pricing.total/1",
        "Pricing.total/2",
        "Pricing.first/1",
        "Pricing.Listener",
        "Pricing.Listener.changed/2",
    ]
    assert sym(t, "com.shop.orders.Pricing").bases == ("Base", "Priced", "Cloneable")
    assert sig(sym(t, "com.shop.orders.Pricing.first/1")) == "(*xs)"
    assert sym(t, "com.shop.orders.Pricing.total/2").name == "total/2"


def test_java_calls_resolve_with_arity() -> None:
    t = parse("src/main/java/com/shop/orders/Pricing.java", JAVA_PRICING)
    assert t.imports["round"] == "com.shop.money.Rounding.round"
    assert t.star_imports == ("com.shop.util",)
    c = calls(t)
    assert c["total"].resolved == "com.shop.orders.Pricing.total/2"  # a bare call: this class
    assert c["Money"].resolved == "com.shop.money.Money.<init>/1"
    assert c["money.value"].resolved == "com.shop.money.Money.value/0"
    assert c["ledger.record"].resolved == "com.shop.orders.Ledger.record/1"  # a field
    assert c["round"].resolved == "com.shop.money.Rounding.round/2"  # a static import
    assert c["Tax.rate"].resolved == "com.shop.orders.Tax.rate/1"  # same package


# ---------------------------------------------------------------- fingerprints


VARIANTS = {
    "src/a.ts": (
        "export function total(items: Item[], rate: number): number {\n"
        "  let sum = 0;\n  for (const it of items) { sum += it.price * rate; }\n"
        "  return round(sum);\n}\n",
        "// totals\nexport function total(lines: Item[], r: number): number {\n"
        "  let acc = 0 // running\n  for (const line of lines) {\n    acc += line.price * r\n  }\n"
        "  return round(acc)\n}\n",
    ),
    "lib/a.js": (
        "function total(items, rate) { let sum = 0; for (const it of items) sum += it.price;"
        " return sum * rate; }\n",
        "/* x */ function total(xs, r) {\n  let s = 0;\n  for (const x of xs) s += x.price;\n"
        "  return s * r;\n}\n",
    ),
    "pkg/a.go": (
        "package pkg\nfunc Total(items []Item) float64 {\n\tsum := 0.0\n"
        "\tfor _, it := range items {\n\t\tsum += it.Price\n\t}\n\treturn sum\n}\n",
        "package pkg\n// Total sums.\nfunc Total(lines []Item) float64 {\n\tacc := 0.0\n"
        "\tfor _, l := range lines { acc += l.Price }\n\treturn acc\n}\n",
    ),
    "src/a.rs": (
        "fn total(items: &[Item]) -> f64 { let mut sum = 0.0; for it in items "
        "{ sum += it.price; } sum }\n",
        "/// docs\nfn total(lines: &[Item]) -> f64 {\n    let mut acc = 0.0;\n"
        "    for line in lines {\n        acc += line.price; // add\n    }\n    acc\n}\n",
    ),
    "src/A.java": (
        "class A { double total(List<Item> items) { double sum = 0; for (Item it : items)"
        " { sum += it.price(); } return sum; } }\n",
        "class A {\n  /** doc */\n  double total(List<Item> lines) {\n    double acc = 0;\n"
        "    for (Item line : lines) { acc += line.price(); }\n    return acc;\n  }\n}\n",
    ),
}


@pytest.mark.parametrize("path", sorted(VARIANTS))
def test_fingerprint_ignores_names_comments_and_layout(path: str) -> None:
    first, second = (parse(path, code) for code in VARIANTS[path])
    a = next(s for s in first.symbols if s.kind != "class")
    b = next(s for s in second.symbols if s.kind != "class")
    assert a.fingerprint == b.fingerprint, (a.body_tokens, b.body_tokens)
    assert a.body_size >= 3 and a.text_hash != b.text_hash
    # ...but a real edit (another member, another literal) changes it
    edited = parse(path, VARIANTS[path][0].replace("price", "cost").replace("Price", "Cost"))
    c = next(s for s in edited.symbols if s.kind != "class")
    assert c.fingerprint != a.fingerprint


def test_class_own_fingerprint_leaves_out_methods() -> None:
    before = parse("a.ts", "class A { x = 1; m() { return 1; } }")
    after = parse("a.ts", "class A { x = 1; m() { return 2; } }")
    assert sym(before, "a.A").own_fingerprint == sym(after, "a.A").own_fingerprint
    assert sym(before, "a.A").fingerprint != sym(after, "a.A").fingerprint
    field = parse("a.ts", "class A { x = 2; m() { return 1; } }")
    assert sym(field, "a.A").own_fingerprint != sym(before, "a.A").own_fingerprint


# ---------------------------------------------------------------- broken input


BROKEN = {
    "src/a.ts": "export function ok(a: number) { return a; }\nexport function bad(x: number {\n",
    "lib/a.js": "function ok(a) { return a; }\nfunction bad(x {\n",
    "pkg/a.go": "package pkg\nfunc Ok(a int) int { return a }\nfunc Bad(x int {\n",
    "src/a.rs": "fn ok(a: i32) -> i32 { a }\nfn bad(x: i32 {\n",
    "src/A.java": "class A { int ok(int a) { return a; }\n int bad(int x { }\n",
}


@pytest.mark.parametrize("path", sorted(BROKEN))
def test_file_mid_edit_keeps_what_parses(path: str) -> None:
    t = parse(path, BROKEN[path])
    assert t.parse_error is not None and "line" in t.parse_error
    assert any(s.name.split("/")[0] in ("ok", "Ok") for s in t.symbols)


@pytest.mark.parametrize("path", sorted(BROKEN))
def test_binary_and_empty_files(path: str) -> None:
    frontend = frontend_for(path)
    assert frontend is not None
    assert frontend.parse(path, b"\x00\x01binary").parse_error == "binary content (NUL bytes)"
    empty = frontend.parse(path, b"")
    assert empty.parse_error is None and empty.symbols == ()
    bad_utf8 = frontend.parse(path, b"// \xff\xfe\n" + BROKEN[path].encode())
    assert bad_utf8.symbols  # undecodable bytes do not stop anything


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(sorted(BROKEN)),
    data=st.binary(max_size=300) | st.text(alphabet="{}()[]<>;:,.=&*!?'\"` \nafnx01", max_size=300),
)
def test_hostile_input_never_raises(path: str, data: bytes | str) -> None:
    frontend = frontend_for(path)
    assert frontend is not None
    raw = data.encode() if isinstance(data, str) else data
    table = frontend.parse(path, raw)
    assert table.language == frontend.name
    assert table.parse_error is None or "internal error" not in table.parse_error


def test_deep_nesting_does_not_overflow() -> None:
    depth = 3000
    code = "export function f() { return " + "[" * depth + "1" + "]" * depth + "; }\n"
    t = parse("src/deep.ts", code)
    assert t.parse_error is None or "internal" not in t.parse_error
    nested_calls = "function g() { " + "a(" * 2000 + ")" * 2000 + "; }\n"
    assert parse("lib/deep.js", nested_calls).symbols


def test_ignore_comments() -> None:
    t = parse(
        "src/a.ts",
        """\
        // driftcheck: ignore[duplicate]
        export function helper(a: number) { return a; }
        export function caller() {
          helper(1); // driftcheck: ignore[stale-caller]
          helper(2);
        }
        """,
    )
    assert sym(t, "src/a.helper").ignored_kinds == frozenset()
    lines = {r.line: r.ignored_kinds for r in t.references}
    assert lines[4] == frozenset({"stale-caller"}) and lines[5] == frozenset()
    above = parse("a.go", "package a\n// driftcheck: ignore\nfunc F() {}\n")
    assert sym(above, "F").ignored_kinds == frozenset()  # a comment line above is no mark
    same_line = parse("a.go", "package a\nfunc F() {} // driftcheck: ignore\n")
    assert sym(same_line, "F").ignored_kinds == frozenset({"*"})
