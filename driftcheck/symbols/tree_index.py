"""Whole-tree indexes, built once per tree from small per-blob summaries.

Resolving a method call on an unknown receiver needs to know how many classes in
the whole tree define that method name, and "this already exists at the base"
needs every function's fingerprint. Neither needs full symbol tables: a summary
per file (method names, function fingerprints) is enough, is cheap to cache by
blob id, and is cheap to load for thousands of files.
"""

from __future__ import annotations

import os
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from driftcheck.parallel import Forked, collector_paused, forked_map, pack
from driftcheck.symbols.table import ModuleSymbols

# Below this many files, forked workers cost more than they save.
PARALLEL_MIN_FILES = 48


_TEST_FOLDERS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs"})


# A test runner's own set-up (`.vitest.config/setup-vitest.ts`, `jest.setup.js`,
# `setupTests.ts`, `__mocks__/`): test code, whatever the folder is called.
_RUNNER = re.compile(r"(?<![a-z])(vitest|jest)(?![a-z])|setuptests|__mocks__")


def is_test_path(path: str) -> bool:
    """Test code by the usual layouts: a folder named tests (test, testing,
    __tests__, spec), which covers Java's src/test; or a test file's name:
    test_x.py, x_test.py, conftest.py, x_test.go, x.test.ts, x.spec.js, XTest.java."""
    *folders, name = path.split("/")
    lowered = [f.lower() for f in folders]
    if _TEST_FOLDERS.intersection(lowered) or any(_RUNNER.search(f) for f in lowered):
        return True
    stem = name.rsplit(".", 1)[0]
    low = stem.lower()
    return (
        _RUNNER.search(low) is not None
        or low.startswith("test_")
        or low.endswith(("_test", "_tests", ".test", ".spec"))
        or low == "conftest"
        or (name.endswith(".java") and stem.endswith(("Test", "Tests")))
    )


class FunctionPrint(NamedTuple):
    qualname: str
    path: str
    line: int
    fingerprint: str
    body_size: int
    sketch: tuple[int, ...] = ()


SKETCH_SIZE = 16
_SHINGLE = 4


def sketch(tokens: Sequence[str]) -> tuple[int, ...]:
    """A bottom-k sketch of the body's token 4-grams, local names folded together.

    Two near-identical bodies share most of their smallest shingle hashes, so a
    few shared values point at a candidate worth a real comparison. crc32, not
    hash(): the values are cached across processes.
    """
    # Each token is encoded once: UTF-8 (with "replace") encodes code point by
    # code point, so joining encoded tokens gives the bytes the joined text would.
    shape = [b"$" if t[:1] == "$" else t.encode("utf-8", "replace") for t in tokens[:3000]]
    if len(shape) < _SHINGLE:
        grams: Iterable[Sequence[bytes]] = [shape]
    else:
        grams = zip(*(shape[i:] for i in range(_SHINGLE)), strict=False)
    shingles = {zlib.crc32(b"\x1f".join(gram)) for gram in grams}
    return tuple(sorted(shingles)[:SKETCH_SIZE])


# A file's summary as cached: plain tuples, which load several times faster than
# dataclasses: (language, method names, function prints as plain tuples).
FileSummary = tuple[str, tuple[str, ...], tuple[tuple[Any, ...], ...]]


def summarize(table: ModuleSymbols) -> FileSummary:
    # Java overloads are told apart by arity (`total/2`); a call names `total`.
    methods = tuple(s.name.split("/", 1)[0] for s in table.symbols if s.kind == "method")
    functions = tuple(
        (s.qualname, s.path, s.start_line, s.fingerprint, s.body_size, sketch(s.body_tokens))
        for s in table.symbols
        if s.kind in ("function", "method") and s.fingerprint
    )
    return (table.language, methods, functions)


def sketches_of(symbols: Iterable[Any]) -> set[tuple[int, ...]]:
    return {sketch(s.body_tokens) for s in symbols if s.body_tokens}


class TreeIndex:
    """Questions about a whole tree, answered from its files' summaries. Method
    counts are built at once (every call resolution asks); the body indexes only
    when a duplicate question comes."""

    def __init__(self, summaries: Iterable[FileSummary]) -> None:
        self.summaries = list(summaries)
        self.files = len(self.summaries)
        self.method_definers: Counter[tuple[str, str]] = Counter()
        self.any_language: Counter[str] = Counter()
        for language, methods, _functions in self.summaries:
            self.method_definers.update((language, m) for m in methods)
            self.any_language.update(methods)
        self._by_fingerprint: dict[str, list[tuple[Any, ...]]] | None = None
        self._by_shingle: dict[int, list[tuple[Any, ...]]] = {}
        self._by_shingle_path: dict[int, dict[str, list[tuple[Any, ...]]]] | None = None

    def definers(self, name: str, language: str | None = None) -> int:
        if language is None:
            return self.any_language.get(name, 0)
        return self.method_definers.get((language, name), 0)

    def _bodies(self) -> dict[str, list[tuple[Any, ...]]]:
        if self._by_fingerprint is None:
            by_fingerprint: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
            by_shingle: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
            with collector_paused():
                for _language, _methods, functions in self.summaries:
                    for function in functions:
                        by_fingerprint[function[3]].append(function)
                        for value in function[5]:
                            by_shingle[value].append(function)
            self._by_fingerprint, self._by_shingle = by_fingerprint, by_shingle
        return self._by_fingerprint

    def paths_defining(self, names: set[str]) -> set[str]:
        """Paths of functions or methods whose own name is in `names`."""
        return {
            function[1]
            for _language, _methods, functions in self.summaries
            for function in functions
            if function[0].rpartition(".")[2].split("/", 1)[0] in names
        }

    def paths_alike(
        self, fingerprints: set[str], shapes: set[tuple[int, ...]], *, shared: int = 3
    ) -> set[str]:
        """Paths holding a function with one of these body `fingerprints`, or a
        sketch sharing `shared` values with one of `shapes` (see `sketches_of`).
        Only paths are wanted, so a path, once found, is not looked at again: a
        minified bundle of a thousand alike functions stays linear."""
        bodies = self._bodies()
        found = {f[1] for fp in fingerprints for f in bodies.get(fp, ())}
        by_path = self._shingle_paths()
        for shape in shapes:
            counts: Counter[tuple[Any, ...]] = Counter()
            for value in shape:
                for path, functions in by_path.get(value, {}).items():
                    if path not in found:
                        counts.update(functions)
            found |= {f[1] for f, n in counts.items() if n >= shared}
        return found

    def _shingle_paths(self) -> dict[int, dict[str, list[tuple[Any, ...]]]]:
        if self._by_shingle_path is None:
            self._bodies()
            grouped: dict[int, dict[str, list[tuple[Any, ...]]]] = {}
            for value, functions in self._by_shingle.items():
                per_path = grouped.setdefault(value, {})
                for function in functions:
                    per_path.setdefault(function[1], []).append(function)
            self._by_shingle_path = grouped
        return self._by_shingle_path

    def same_body(self, fingerprint: str) -> list[FunctionPrint]:
        return [FunctionPrint(*f) for f in self._bodies().get(fingerprint, ())]

    def similar(self, tokens: Sequence[str], *, shared: int = 3) -> list[FunctionPrint]:
        """Functions whose sketch shares at least `shared` values with `tokens`'."""
        self._bodies()
        counts: Counter[tuple[Any, ...]] = Counter()
        for value in sketch(tokens):
            counts.update(self._by_shingle.get(value, ()))
        return [FunctionPrint(*f) for f, n in counts.items() if n >= shared]


def _parse_one(item: tuple[str, bytes]) -> ModuleSymbols | None:
    from driftcheck.symbols.languages import frontend_for

    path, content = item
    frontend = frontend_for(path)
    return frontend.parse(path, content) if frontend is not None else None


def _definitions_of(item: tuple[str, bytes]) -> ModuleSymbols | None:
    """A file's definitions, without references where the frontend can leave them out."""
    from driftcheck.symbols.languages import frontend_for

    path, content = item
    frontend = frontend_for(path)
    if frontend is None:
        return None
    parse = getattr(frontend, "parse_definitions", frontend.parse)
    table: ModuleSymbols = parse(path, content)
    return table


def _summary_of(item: tuple[str, bytes]) -> tuple[FileSummary, bytes] | None:
    """A file's summary, and its definitions packed: a duplicate search asks for
    some of them next, and unpacking costs a thirtieth of parsing again."""
    table = _definitions_of(item)
    return (summarize(table), pack(table)) if table is not None else None


class Parser:
    """Parses batches of files, across cores when a batch is big enough to pay.
    Workers send back summaries, not full tables, when only summaries are wanted
    (with each file's definitions packed, see `_summary_of`)."""

    def tables(self, items: Sequence[tuple[str, bytes]]) -> list[ModuleSymbols | None]:
        return self._map(_parse_one, items)

    def summaries(
        self, items: Sequence[tuple[str, bytes]]
    ) -> list[tuple[FileSummary, bytes] | None]:
        return self._map(_summary_of, items)

    def definitions(self, items: Sequence[tuple[str, bytes]]) -> list[ModuleSymbols | None]:
        return self._map(_definitions_of, items)

    def summaries_later(self, items: Sequence[tuple[str, bytes]]) -> Forked:
        """`summaries`, begun now in low-priority workers; `.results()` collects."""
        return Forked(_summary_of, items, _workers(), cost=_parse_cost, background=True)

    def _map(self, work: Any, items: Sequence[tuple[str, bytes]]) -> list[Any]:
        if len(items) < PARALLEL_MIN_FILES:
            with collector_paused():
                return [work(item) for item in items]
        return forked_map(work, items, _workers(), cost=_parse_cost)


def _workers() -> int:
    return min(os.cpu_count() or 1, 8)


def _parse_cost(item: tuple[str, bytes]) -> int:
    """Roughly what parsing a file costs: its size, plus a little for any file."""
    return len(item[1]) + 2_000
