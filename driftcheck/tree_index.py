"""Whole-tree indexes, built once per tree from small per-blob summaries.

Resolving a method call on an unknown receiver needs to know how many classes in
the whole tree define that method name, and "this already exists at the base"
needs every function's fingerprint. Neither needs full symbol tables: a summary
per file (method names, function fingerprints) is enough, is cheap to cache by
blob id, and is cheap to load for thousands of files.
"""

from __future__ import annotations

import os
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
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
    sketch: tuple[int, ...] = ()


SKETCH_SIZE = 16
_SHINGLE = 4


def sketch(tokens: Sequence[str]) -> tuple[int, ...]:
    """A bottom-k sketch of the body's token 4-grams, local names folded together.

    Two near-identical bodies share most of their smallest shingle hashes, so a
    few shared values point at a candidate worth a real comparison. crc32, not
    hash(): the values are cached across processes.
    """
    shape = ["$" if t.startswith("$") else t for t in tokens[:3000]]
    shingles = {
        zlib.crc32("\x1f".join(shape[i : i + _SHINGLE]).encode("utf-8", "replace"))
        for i in range(max(1, len(shape) - _SHINGLE + 1))
    }
    return tuple(sorted(shingles)[:SKETCH_SIZE])


@dataclass(frozen=True)
class FileSummary:
    path: str
    language: str
    methods: tuple[str, ...]  # method names, once per defining class
    functions: tuple[FunctionPrint, ...]


def summarize(table: ModuleSymbols) -> FileSummary:
    # Java overloads are told apart by arity (`total/2`); a call names `total`.
    methods = tuple(s.name.split("/", 1)[0] for s in table.symbols if s.kind == "method")
    functions = tuple(
        FunctionPrint(
            s.qualname, s.path, s.start_line, s.fingerprint, s.body_size, sketch(s.body_tokens)
        )
        for s in table.symbols
        if s.kind in ("function", "method") and s.fingerprint
    )
    return FileSummary(table.path, table.language, methods, functions)


class TreeIndex:
    """Questions about a whole tree, answered from its files' summaries."""

    def __init__(self, summaries: Iterable[FileSummary]) -> None:
        self.method_definers: Counter[tuple[str, str]] = Counter()
        self.any_language: Counter[str] = Counter()
        self.by_fingerprint: dict[str, list[FunctionPrint]] = defaultdict(list)
        self.by_shingle: dict[int, list[FunctionPrint]] = defaultdict(list)
        self.files = 0
        for summary in summaries:
            self.files += 1
            self.method_definers.update((summary.language, m) for m in summary.methods)
            self.any_language.update(summary.methods)
            for function in summary.functions:
                self.by_fingerprint[function.fingerprint].append(function)
                for value in function.sketch:
                    self.by_shingle[value].append(function)

    def definers(self, name: str, language: str | None = None) -> int:
        if language is None:
            return self.any_language.get(name, 0)
        return self.method_definers.get((language, name), 0)

    def same_body(self, fingerprint: str) -> list[FunctionPrint]:
        return list(self.by_fingerprint.get(fingerprint, ()))

    def similar(self, tokens: Sequence[str], *, shared: int = 3) -> list[FunctionPrint]:
        """Functions whose sketch shares at least `shared` values with `tokens`'."""
        counts: Counter[FunctionPrint] = Counter()
        for value in sketch(tokens):
            counts.update(self.by_shingle.get(value, ()))
        return [function for function, n in counts.items() if n >= shared]


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
    from concurrent.futures import ProcessPoolExecutor  # only cold runs pay for it

    try:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(_parse_one, items, chunksize=16))
    except (OSError, RuntimeError):  # no processes to be had: do it here
        return [_parse_one(item) for item in items]
