"""Whole-tree indexes, built once per tree from small per-blob summaries.

Resolving a method call on an unknown receiver needs to know how many classes in
the whole tree define that method name, and "this already exists at the base"
needs every function's fingerprint. Neither needs full symbol tables: a summary
per file (method names, function fingerprints) is enough, is cheap to cache by
blob id, and is cheap to load for thousands of files.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from driftcheck.symbols import ModuleSymbols

# Below this many files a process pool costs more than it saves.
PARALLEL_MIN_FILES = 48


@dataclass(frozen=True)
class FunctionPrint:
    qualname: str
    path: str
    line: int
    fingerprint: str
    body_size: int


@dataclass(frozen=True)
class FileSummary:
    path: str
    methods: tuple[str, ...]  # method names, once per defining class
    functions: tuple[FunctionPrint, ...]


def summarize(table: ModuleSymbols) -> FileSummary:
    methods = tuple(s.name for s in table.symbols if s.kind == "method")
    functions = tuple(
        FunctionPrint(s.qualname, s.path, s.start_line, s.fingerprint, s.body_size)
        for s in table.symbols
        if s.kind in ("function", "method") and s.fingerprint
    )
    return FileSummary(path=table.path, methods=methods, functions=functions)


class TreeIndex:
    """Questions about a whole tree, answered from its files' summaries."""

    def __init__(self, summaries: Iterable[FileSummary]) -> None:
        self.method_definers: Counter[str] = Counter()
        self.by_fingerprint: dict[str, list[FunctionPrint]] = defaultdict(list)
        self.files = 0
        for summary in summaries:
            self.files += 1
            self.method_definers.update(summary.methods)
            for function in summary.functions:
                self.by_fingerprint[function.fingerprint].append(function)

    def definers(self, name: str) -> int:
        return self.method_definers.get(name, 0)

    def same_body(self, fingerprint: str) -> list[FunctionPrint]:
        return list(self.by_fingerprint.get(fingerprint, ()))


def _parse_one(item: tuple[str, bytes]) -> ModuleSymbols | None:
    from driftcheck.languages import frontend_for

    path, content = item
    frontend = frontend_for(path)
    return frontend.parse(path, content) if frontend is not None else None


def parse_many(items: Sequence[tuple[str, bytes]]) -> list[ModuleSymbols | None]:
    """Parse many files, across cores when there are enough of them to pay."""
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < PARALLEL_MIN_FILES or workers < 2:
        return [_parse_one(item) for item in items]
    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(_parse_one, items, chunksize=16))
    except (OSError, RuntimeError):  # no processes to be had: do it here
        return [_parse_one(item) for item in items]
