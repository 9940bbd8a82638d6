"""What one judgement works out, the next one in the same process finds: values put
in the cache before they are flushed, and the tables of content parsed already (the
pre-edit hook's claims check reads both files of an edit the judge has parsed)."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import git, init_repo

from driftcheck.store.cache import NoCache, open_cache
from driftcheck.symbols.index import SymbolIndex

SOURCE = "def total(rows):\n    return sum(rows)\n"


def test_a_value_put_is_read_back_before_the_flush_and_by_others_after(tmp_path: Path) -> None:
    writer = open_cache(tmp_path / "cache", enabled=True)
    reader = open_cache(tmp_path / "cache", enabled=True)
    writer.put("merge-bases", "a:b", ("c0ffee", "7ree", False))
    assert writer.get_many("merge-bases", ["a:b", "x:y"]) == {"a:b": ("c0ffee", "7ree", False)}
    assert reader.get("merge-bases", "a:b") is None  # not written yet
    writer.flush()
    assert reader.get("merge-bases", "a:b") == ("c0ffee", "7ree", False)
    writer.close()
    reader.close()


def test_no_cache_remembers_nothing() -> None:
    cache = NoCache()
    cache.put("merge-bases", "a:b", ("c0ffee", "7ree", False))
    assert cache.get("merge-bases", "a:b") is None


def test_content_parsed_from_git_already_is_not_parsed_again(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo", {"shop/orders.py": SOURCE})
    tree = git("rev-parse", "HEAD^{tree}", cwd=repo)
    index = SymbolIndex(cwd=str(repo), env=dict(os.environ))
    try:
        parsed = index.tables(tree, ["shop/orders.py"])["shop/orders.py"]
        assert index.definitions_of_content("shop/orders.py", SOURCE.encode()) is parsed

        proposed = SOURCE.replace("(rows)", "(rows, start=0)").encode()
        fresh = index.definitions_of_content("shop/orders.py", proposed)
        assert fresh is not None and fresh is not parsed
        assert [s.qualname for s in fresh.symbols] == ["shop.orders.total"]
        assert fresh.symbols[0].signature != parsed.symbols[0].signature
        assert index.definitions_of_content("shop/orders.py", proposed) is fresh
        assert index.definitions_of_content("notes.md", b"# notes\n") is None
    finally:
        index.close()
