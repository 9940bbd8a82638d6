"""Symbol tables for files of git trees, parsed once per blob.

A blob id names content exactly, so a parse is reused across participants, pairs
and (with the persistent cache) runs. Trees may live in the scratch store, so every
read goes through the scratch environment.
"""

from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from driftcheck.parallel import Forked, collector_paused, unpack
from driftcheck.store.cache import Cache, NoCache
from driftcheck.symbols import stored  # noqa: F401  (registers the codecs of tables and summaries)
from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.module_names import ModuleNames
from driftcheck.symbols.table import ModuleSymbols, Symbol
from driftcheck.symbols.tree_index import (
    PARALLEL_MIN_FILES,
    FileSummary,
    Parser,
    TreeIndex,
    is_test_path,
    sketches_of,
    summarize,
)
from driftcheck.workspace import git
from driftcheck.workspace.object_reader import ObjectReader, stand_in_size

# Files larger than this are not parsed (minified bundles, generated code).
MAX_PARSE_BYTES = 2_000_000
_NOT_PARSED = "not parsed:"
_PROBES_KEPT = 4096


class SymbolIndex:
    def __init__(self, *, cwd: str, env: Mapping[str, str], cache: Cache | None = None) -> None:
        self.cwd = cwd
        self.env = dict(env)
        self.cache = cache or NoCache()
        self._tree_indexes: dict[tuple[str, bool], TreeIndex] = {}
        # At most this many whole-tree indexes kept, the least recently asked for
        # dropped first (None: all): a one-off run over many trees sets it, each
        # index holding a few MB for a large tree.
        self.trees_kept: int | None = None
        self._probes: dict[tuple[str, str], TreeIndex | None] = {}
        self._summaries: dict[tuple[str, str], FileSummary] = {}
        self._by_blob: dict[tuple[str, str], ModuleSymbols] = {}
        self._definitions: dict[tuple[str, str], ModuleSymbols] = {}
        self._packed: dict[tuple[str, str], bytes] = {}  # definitions a summary came with
        self._listings: dict[str, dict[str, str]] = {}
        self._parsable_files: dict[tuple[str, bool], list[tuple[str, str]]] = {}
        self._texts: dict[str, list[str]] = {}
        self._raw: dict[str, bytes] = {}
        # Files left unparsed for their size (path -> bytes), for the run's stats.
        self.too_large: dict[str, int] = {}
        self._blobs: dict[str, dict[str, str | None]] = {}
        self._parser = Parser()
        # Summaries begun in the background (`start_summaries`): the blobs, their workers.
        self._pending: tuple[list[tuple[str, str]], Forked] | None = None
        self._reader = ObjectReader(cwd=cwd, env=self.env)
        self._names = ModuleNames(self._listing, self.tables, self.cache)

    def read_trees(self, oids: list[str]) -> dict[str, bytes]:
        """Raw tree objects, through this index's reader."""
        return self._reader.trees(oids)

    def close(self) -> None:
        """Stop the git process this index started for reading objects, and any
        summaries still being made."""
        if self._pending is not None:
            self._pending[1].stop()
            self._pending = None
        self._reader.close()

    def start_summaries(
        self, trees: Iterable[str], *, parsed: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        """Begin summarising the code outside tests of `trees` (see `code_index`)
        that the cache lacks, in low-priority workers: a cold scan then parses its
        base trees while it does its other work, and the index only collects.
        Cached summaries load now. Files `parsed` (tree -> paths) are about to be
        parsed whole; their summaries come from those tables instead."""
        if self._pending is not None:
            return
        skip = {
            (oid, path)
            for tree, paths in (parsed or {}).items()
            for path, oid in self.blob_ids(tree, paths).items()
        }
        wanted = list(
            dict.fromkeys(
                item
                for tree in trees
                for item in self._parsable(tree, tests=False)
                if item not in self._summaries and item not in skip
            )
        )
        found, missing = self._cached("summary", wanted)
        self._summaries.update(found)
        if len(missing) < PARALLEL_MIN_FILES:
            return  # cheap enough to do when asked
        contents = self._reader.blobs(oid for oid, _ in missing)
        # A file too large to parse is left to `_load`, which stands in for it.
        sized = {item: self._sized(*item, contents) for item in missing}
        batch = [item for item in missing if sized[item] is not None]
        items = [(path, sized[oid, path] or b"") for oid, path in batch]
        self._pending = (batch, self._parser.summaries_later(items))

    def _collect_summaries(self) -> None:
        if self._pending is None:
            return
        batch, running = self._pending
        self._pending = None
        for item, value in zip(batch, running.results(), strict=True):
            if value is not None and item not in self._summaries:
                self._keep("summary", item, value, self._summaries)

    def learn(self, tree: str, blobs: Mapping[str, str | None]) -> None:
        """What `tree` holds at these paths (None: no regular file), known already
        (from a diff), so `blob_ids` need not ask git."""
        self._blobs.setdefault(tree, {}).update(blobs)

    def blob_ids(self, tree: str, paths: Iterable[str]) -> dict[str, str]:
        wanted = [p for p in paths if frontend_for(p) is not None]
        if tree in self._listings:
            full = self._listings[tree]
            return {p: full[p] for p in wanted if p in full}
        # The same (tree, path) is asked for by every pair the tree is in: ask git once.
        known = self._blobs.setdefault(tree, {})
        missing = [p for p in wanted if p not in known]
        if missing:
            found = git.ls_tree(tree, missing, cwd=self.cwd, env=self.env)
            known.update({p: found.get(p) for p in missing})
        return {p: oid for p in wanted if (oid := known[p]) is not None}

    def tables(self, tree: str, paths: Iterable[str]) -> dict[str, ModuleSymbols]:
        """Symbol tables of `paths` in `tree` (files without a frontend are left out)."""
        return self._tables_for(self.blob_ids(tree, paths))

    def prefetch(self, wanted: Mapping[str, Iterable[str]]) -> None:
        """Parse (or load) `paths` of many trees at once: tree -> paths. A cold scan
        then parses every changed file in one parallel batch, not pair by pair."""
        todo = {
            (oid, path)
            for tree, paths in wanted.items()
            for path, oid in self.blob_ids(tree, paths).items()
            if (oid, path) not in self._by_blob
        }
        if todo:
            self._by_blob.update(self._load("symbols", sorted(todo)))

    def definitions(self, tree: str, paths: Iterable[str]) -> dict[str, ModuleSymbols]:
        """Like `tables`, but references may be left out: for questions about what a
        file defines. A full table already at hand serves; else a lighter parse."""
        blobs = self.blob_ids(tree, paths)
        todo = [
            (oid, path)
            for path, oid in blobs.items()
            if (oid, path) not in self._by_blob and (oid, path) not in self._definitions
        ]
        if todo:
            self._definitions.update(self._load("definitions", todo))
        found = {}
        for path, oid in blobs.items():
            table = self._by_blob.get((oid, path)) or self._definitions.get((oid, path))
            if table is not None:
                found[path] = table
        return found

    def definitions_of_content(self, path: str, content: bytes) -> ModuleSymbols | None:
        """`definitions` of `content` at `path`, not read from git: the table an
        earlier parse of the same bytes left (the judge's of a proposal, a pair's of
        a worktree file) serves, else one parse, kept. Keyed by git's id of the raw
        bytes, so it is found whenever git stores them as they are (no clean filter,
        a SHA-1 repository) and is right either way."""
        if frontend_for(path) is None:
            return None
        item = (_raw_blob_id(content), path)
        table = self._by_blob.get(item) or self._definitions.get(item)
        if table is None:
            found, _ = self._cached("definitions", [item])
            table = found.get(item) or self._parse_batch([(path, content)], "definitions")[0]
            if table is not None and item not in found:
                self.cache.put("definitions", _cache_key(*item), table)
            if table is not None:
                self._definitions[item] = table
        return table

    def _tables_for(self, blobs: Mapping[str, str]) -> dict[str, ModuleSymbols]:
        todo = [(oid, path) for path, oid in blobs.items() if (oid, path) not in self._by_blob]
        if todo:
            self._by_blob.update(self._load("symbols", todo))
        return {
            path: self._by_blob[oid, path]
            for path, oid in blobs.items()
            if (oid, path) in self._by_blob
        }

    def _load(self, namespace: str, todo: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """Symbol tables ("symbols"), tables without references ("definitions") or
        whole-tree summaries ("summary") of blobs: from the cache when there, else
        parsed (in parallel when many) and cached. Keys name the parser version, so
        an upgraded frontend never reads an old parse."""
        found, missing = self._cached(namespace, todo)
        if namespace == "summary":
            missing = self._summaries_from_tables(missing, found)
        elif namespace == "definitions":
            missing = self._unpacked(missing, found)
        for start in range(0, len(missing), 512):
            batch = missing[start : start + 512]
            contents = self._reader.blobs(oid for oid, _ in batch)
            items = [(path, self._sized(oid, path, contents)) for oid, path in batch]
            values = self._parse_batch(items, namespace)
            for item, value in zip(batch, values, strict=True):
                if value is not None:
                    self._keep(namespace, item, value, found)
        return found

    def _cached(
        self, namespace: str, todo: list[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], Any], list[tuple[str, str]]]:
        """What the cache holds of `todo` in `namespace`, and the rest."""
        keys = {_cache_key(oid, path): (oid, path) for oid, path in todo}
        found = {keys[k]: v for k, v in self.cache.get_many(namespace, keys).items()}
        for (_oid, path), value in found.items():  # a stand-in from an earlier run
            error = getattr(value, "parse_error", None) or ""
            if error.startswith(_NOT_PARSED) and error.split()[2].isdigit():
                self.too_large[path] = int(error.split()[2])
        return found, [item for item in todo if item not in found]

    def _keep(
        self, namespace: str, item: tuple[str, str], value: Any, into: dict[Any, Any]
    ) -> None:
        """A fresh parse into `into` and the cache; a summary's packed definitions
        are kept aside for `_unpacked`."""
        if namespace == "summary":
            value, packed = value
            if packed is not None:
                self._packed[item] = packed
        into[item] = value
        self.cache.put(namespace, _cache_key(*item), value)

    def _summaries_from_tables(
        self, todo: list[tuple[str, str]], found: dict[tuple[str, str], Any]
    ) -> list[tuple[str, str]]:
        """Summarise blobs already parsed (the base side of changed files) without a
        second parse: a table's definitions do not depend on its references. Returns
        the blobs still to parse."""
        rest = []
        for item in todo:
            table = self._by_blob.get(item) or self._definitions.get(item)
            if table is None:
                rest.append(item)
                continue
            found[item] = summary = summarize(table)
            self.cache.put("summary", _cache_key(*item), summary)
        return rest

    def _unpacked(
        self, todo: list[tuple[str, str]], found: dict[tuple[str, str], Any]
    ) -> list[tuple[str, str]]:
        """Definitions that came packed with a summary, unpacked instead of parsed
        again. Returns the blobs still to parse."""
        rest = []
        with collector_paused():  # once for the lot, not once a table
            for item in todo:
                packed = self._packed.pop(item, None)
                if packed is None:
                    rest.append(item)
                    continue
                found[item] = table = unpack(packed)
                self.cache.put("definitions", _cache_key(*item), table)
        return rest

    def _sized(self, oid: str, path: str, contents: Mapping[str, bytes]) -> bytes | None:
        """A blob's content to parse, or None when it is too large to (noted in
        `too_large`); a blob the reader left unread for its size is too large too."""
        content = contents.get(oid)
        size = len(content) if content is not None else self._reader.oversized.get(oid)
        if content is not None:
            size = stand_in_size(content) or size  # a kept state's stand-in for a large file
        if size is not None and size > MAX_PARSE_BYTES:
            self.too_large[path] = size
            return None
        return content or b""

    def _parse_batch(self, items: list[tuple[str, bytes | None]], namespace: str) -> list[Any]:
        small = [(p, c) for p, c in items if c is not None]
        work = {
            "summary": self._parser.summaries,
            "definitions": self._parser.definitions,
        }.get(namespace, self._parser.tables)
        parsed = iter(work(small))
        summaries = namespace == "summary"
        out: list[Any] = []
        for path, content in items:
            if content is not None:
                out.append(next(parsed))
                continue
            table = self._too_large(path, self.too_large.get(path, 0))
            out.append((summarize(table), None) if summaries and table is not None else table)
        return out

    def tree_index(self, tree: str) -> TreeIndex:
        """Method names and function fingerprints of every parsable file in `tree`."""
        return self._index_of(tree, tests=True)

    def code_index(self, tree: str) -> TreeIndex:
        """`tree_index` of the files outside tests only: what code outside tests
        may reuse. Tests are most of many repositories (two thirds of Django), so
        this is the cheaper question when it is the one asked."""
        return self._index_of(tree, tests=False)

    def forget_tables(self, keep: Callable[[tuple[str, str]], bool]) -> None:
        """Drop the symbol tables (and raw texts) of the blobs `keep` does not name
        (blob, path): a one-off run done with them frees their memory; asked again,
        they are loaded again."""
        self._by_blob = {item: table for item, table in self._by_blob.items() if keep(item)}
        self._definitions.clear()
        self._raw.clear()
        self._texts.clear()

    def forget_tree(self, tree: str) -> None:
        """Drop `tree`'s whole-tree indexes (a shard done with it frees their memory;
        asked again, they are rebuilt from the summaries kept)."""
        for tests in (True, False):
            self._tree_indexes.pop((tree, tests), None)

    def _index_of(self, tree: str, *, tests: bool) -> TreeIndex:
        found = self._tree_indexes.pop((tree, tests), None)
        if found is not None:  # back in as the most recently asked for
            self._tree_indexes[tree, tests] = found
            return found
        if self.trees_kept is not None:
            while len(self._tree_indexes) >= max(1, self.trees_kept):
                del self._tree_indexes[next(iter(self._tree_indexes))]
        self._collect_summaries()
        wanted = self._parsable(tree, tests=tests)
        # Trees of one repository share most blobs: load each summary once.
        todo = [item for item in wanted if item not in self._summaries]
        if todo:
            self._summaries.update(self._load("summary", todo))
        built = TreeIndex(self._summaries[item] for item in wanted if item in self._summaries)
        self._tree_indexes[tree, tests] = built
        return built

    def _parsable(self, tree: str, *, tests: bool) -> list[tuple[str, str]]:
        """(blob, path) of the files of `tree` a frontend reads; without test code
        unless `tests`. Kept per tree: a long-lived session asks it of the same base
        trees at every scan, and a large tree has thousands of paths to sort out."""
        if (tree, tests) not in self._parsable_files:
            self._parsable_files[tree, tests] = [
                (oid, path)
                for path, oid in self._listing(tree).items()
                if frontend_for(path) is not None and (tests or not is_test_path(path))
            ]
        return self._parsable_files[tree, tests]

    def similar_files(
        self, tree: str, paths: Iterable[str], symbols: Iterable[Symbol], names: set[str]
    ) -> set[str]:
        """Which of `paths` define a function with one of `names`, or a body alike to
        one of `symbols` (judged from cached summaries, without full parses)."""
        blobs = self.blob_ids(tree, paths)
        todo = [(oid, p) for p, oid in blobs.items() if (oid, p) not in self._summaries]
        if todo:
            self._summaries.update(self._load("summary", todo))
        symbols = list(symbols)
        fingerprints, shapes = {s.fingerprint for s in symbols}, sketches_of(symbols)
        found: set[str] = set()
        for path, oid in blobs.items():
            probe = self._probe(oid, path)
            if probe is not None and (
                probe.paths_defining(names) or probe.paths_alike(fingerprints, shapes)
            ):
                found.add(path)
        return found

    def _probe(self, oid: str, path: str) -> TreeIndex | None:
        """One file's summary, indexed; kept per blob, since a daemon asks about the
        same files of the other sides edit after edit."""
        if (oid, path) not in self._probes:
            summary = self._summaries.get((oid, path))
            if len(self._probes) >= _PROBES_KEPT:
                self._probes.clear()
            self._probes[oid, path] = TreeIndex([summary]) if summary is not None else None
        return self._probes[oid, path]

    def contents(self, tree: str, paths: Iterable[str]) -> dict[str, bytes]:
        """Raw contents of `paths` in `tree`; a blob many pairs share is read once."""
        blobs = self.blob_ids(tree, paths)
        missing = [oid for oid in blobs.values() if oid not in self._raw]
        self._raw.update(self._reader.blobs(missing))
        return {path: self._raw.get(oid, b"") for path, oid in blobs.items()}

    def file_contents(self, tree: str, paths: Iterable[str]) -> dict[str, bytes]:
        """Raw contents of any regular files at `paths` in `tree`, source or not (one
        `ls-tree` for the paths no diff told of, one batch read)."""
        known = self._blobs.setdefault(tree, {})
        wanted = list(dict.fromkeys(paths))
        missing = [p for p in wanted if p not in known]
        if missing:
            found = git.ls_tree(tree, missing, cwd=self.cwd, env=self.env)
            known.update({p: found.get(p) for p in missing})
        blobs = {p: oid for p in wanted if (oid := known[p]) is not None}
        unread = [oid for oid in blobs.values() if oid not in self._raw]
        self._raw.update(self._reader.blobs(unread))
        return {path: self._raw[oid] for path, oid in blobs.items() if oid in self._raw}

    def lines(self, tree: str, path: str) -> list[str]:
        """The text of `path` in `tree` as lines (empty when absent or binary), so a
        finding can quote what each side wrote."""
        oid = self.blob_ids(tree, [path]).get(path)
        if oid is None:
            return []
        if oid not in self._texts:
            if oid not in self._raw:
                self._raw.update(self._reader.blobs([oid]))
            data = self._raw.get(oid, b"")
            text = "" if b"\x00" in data else data.decode("utf-8", "replace")
            self._texts[oid] = text.replace("\r\n", "\n").split("\n")
        return self._texts[oid]

    def definition_text(self, tree: str, symbol: Symbol, limit: int = 24) -> str:
        """The source of `symbol` as `tree` has it, at most `limit` lines."""
        body = self.lines(tree, symbol.path)[symbol.start_line - 1 : symbol.end_line]
        more = [f"… {len(body) - limit} more lines"] if len(body) > limit else []
        return textwrap.dedent("\n".join(body[:limit])) + "".join("\n" + m for m in more)

    @staticmethod
    def _too_large(path: str, size: int) -> ModuleSymbols | None:
        """What stands for a file too large to parse (minified bundles, generated code)."""
        frontend = frontend_for(path)
        if frontend is None:
            return None
        return ModuleSymbols(
            path=path,
            module="",
            language=frontend.name,
            parse_error=f"{_NOT_PARSED} {size} bytes, more than {MAX_PARSE_BYTES}",
        )

    def _listing(self, tree: str) -> dict[str, str]:
        if tree not in self._listings:
            self._listings[tree] = git.ls_tree(tree, cwd=self.cwd, env=self.env)
        return self._listings[tree]

    def module_paths(self, tree: str) -> dict[str, str]:
        """Module name -> path for every parsable file in `tree` (module_names.py)."""
        return self._names.module_paths(tree)

    def canonical(self, tree: str, dotted: str, *, hops: int = 5) -> str:
        """`dotted` where it is defined, re-exports followed (module_names.py)."""
        return self._names.canonical(tree, dotted, hops=hops)

    def method_definers(self, tree: str, name: str, path: str | None = None) -> int:
        """How many classes (or types) in `tree` define a method `name`; only in
        `path`'s language when `path` is given."""
        frontend = frontend_for(path) if path is not None else None
        language = frontend.name if frontend is not None else None
        bare = name.split("/", 1)[0]  # Java: every overload of the name counts
        return self.tree_index(tree).definers(bare, language)


def _raw_blob_id(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def _cache_key(oid: str, path: str) -> str:
    frontend = frontend_for(path)
    version = frontend.parser_version if frontend is not None else "-"
    return f"{version}:{oid}:{path}"
