"""The cache holds plain data: a planted value never runs, a bad one is a miss.

`.git` can come from someone else (an unpacked archive, a shared folder). Up to
schema 5 the cache stored pickles, and a planted `cache.sqlite3` ran code as the
user who scanned. Now every namespace has a codec that rebuilds only its own types.
"""

from __future__ import annotations

import ast
import os
import pickle
import sqlite3
from pathlib import Path

import msgpack
import pytest
from helpers import add_worktree, commit_all, init_repo, run_cli, write

from driftcheck.model import Finding, Severity
from driftcheck.store import cache as cache_module
from driftcheck.store.cache import Cache
from driftcheck.store.codec import Invalid, codec_for
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.stored import pack_table, unpack_table


class _Planted:
    """Unpickling this runs `touch <marker>`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch '{self.marker}'",))


def _drifting_repo(workspace: Path) -> Path:
    base = "def total(order):\n    return sum(order)\n\n\ndef tax(x):\n    return x\n"
    repo = init_repo(workspace / "repo", {"shop.py": base, "use.py": "from shop import total\n"})
    a = add_worktree(repo, "a")
    write(a, {"shop.py": base.replace("(order)", "(order, discount)")})
    commit_all(a)
    b = add_worktree(repo, "b")
    write(b, {"use.py": "from shop import total\n\nprint(total([1]))\n"})
    return repo


def test_a_planted_pickle_in_the_cache_never_runs(workspace: Path) -> None:
    repo = _drifting_repo(workspace)
    first = run_cli("scan", "--format", "json", cwd=repo)
    assert first.code == 1, first.stderr
    database = repo / ".git" / "driftcheck" / "cache.sqlite3"
    marker = workspace / "pwned"
    evil = pickle.dumps(_Planted(marker))
    with sqlite3.connect(database) as db:  # every value, under the current schema
        planted = db.execute("UPDATE entries SET value = ?, size = ?", (evil, len(evil))).rowcount
    assert planted > 5
    again = run_cli("scan", "--format", "json", cwd=repo)
    assert not marker.exists()
    # Every planted value was a miss: the same answer, analysed afresh.
    assert again.code == 1, again.stderr
    assert again.json()["findings"] == first.json()["findings"]
    assert again.json()["stats"]["pairs_from_cache"] == 0


def test_nothing_that_reads_the_cache_can_load_code() -> None:
    """No module of the store, nor the symbols' codec, imports a loader of code."""
    folder = Path(cache_module.__file__).parent
    for source in [*folder.glob("*.py"), folder.parent / "symbols" / "stored.py"]:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not imported & {"pickle", "marshal", "importlib", "shelve", "dill"}, source
    assert cache_module.SCHEMA_VERSION >= 6


def _rich_table() -> object:
    source = (
        "import os\nfrom x import *  # noqa\nLIMIT: int = 3\n\n\n"
        "class Shop(Base, metaclass=M):\n"
        "    @property\n    def size(self) -> int:\n        return 1\n\n"
        "    @classmethod\n"
        "    async def make(cls, a, /, b=2, *args, c: str = 'x', **kw) -> 'Shop':\n"
        "        return cls.build(a, *args, key=b, **kw)  # driftcheck: ignore[duplicate]\n\n\n"
        "def total(order):\n    return os.path.join(order, 'ü')\n"
    )
    frontend = frontend_for("shop/caf\udce9.py")
    assert frontend is not None
    return frontend.parse("shop/caf\udce9.py", source.encode())


def test_a_symbol_table_comes_back_field_for_field() -> None:
    table = _rich_table()
    back = unpack_table(pack_table(table))
    assert back == table
    assert back.symbols == table.symbols and back.references == table.references
    assert back.imports == table.imports and back.path == "shop/caf\udce9.py"
    assert any(s.signature and s.signature.params for s in back.symbols)
    assert all(type(r.ignored_kinds) is frozenset for r in back.references)


def test_findings_keep_their_details_exactly() -> None:
    codec = codec_for("pair")
    assert codec is not None
    details = {"lines": [1, 2], "range": (3, 4), "kinds": frozenset({"a"}), "nested": {"x": None}}
    finding = Finding("k", "DC1", Severity.ERROR, ("a", "b"), "p", 3, "m", "s", details)
    (back,) = codec.unpack(codec.pack([finding]))
    assert back == finding and back.details == details
    assert type(back.details["range"]) is tuple and type(back.details["lines"]) is list


@pytest.mark.parametrize(
    "namespace, blob",
    [
        ("symbols", b"\xc1"),  # never used in msgpack
        ("symbols", msgpack.packb(["a", "b"])),  # too few fields
        ("symbols", msgpack.packb(["p", "m", "python", [], [], {}, [], None, None, "yes"])),
        ("summary", msgpack.packb(["python", [1], []])),  # a method name that is no str
        ("summary", msgpack.packb(["python", [], [["f", "p", "1", "fp", 2, []]]])),
        ("pair", msgpack.packb([["k", "c", "fatal", [], None, None, "m", None, b"\x80"]])),
        ("pair", msgpack.packb([["k", "c", "error", [], None, None, "m", None, b"\xc7\x01\x09x"]])),
        ("merge-bases", msgpack.packb(["c", "t"])),
        ("modules", msgpack.packb({"a": 1})),
        ("commit-trees", msgpack.packb(7)),
        ("diff-blobs", msgpack.packb({"p": ["M", 1, None]})),
    ],
)
def test_a_value_that_does_not_validate_is_refused(namespace: str, blob: bytes) -> None:
    codec = codec_for(namespace)
    assert codec is not None
    with pytest.raises(Invalid):
        codec.unpack(blob)


def test_bad_values_are_misses_and_unknown_namespaces_are_never_written(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put("commit-trees", "good", "abc")
    cache.put("commit-trees", "bad", 12)  # written, but read back as a miss
    cache.put("no-such-namespace", "k", "v")
    cache.flush()
    with sqlite3.connect(cache.path) as db:
        db.execute(
            "INSERT INTO entries VALUES ('commit-trees', 'planted', ?, 1, 0)",
            (pickle.dumps("abc"),),
        )
        stored = {ns for (ns,) in db.execute("SELECT ns FROM entries")}
    assert stored == {"commit-trees"}
    found = cache.get_many("commit-trees", ["good", "bad", "planted"])
    assert found == {"good": "abc"}
    cache.close()
