"""Fuzz the language frontends with damaged real source: `parse` must never raise.

Seeds are taken at test time from installed packages (.py from click; .js/.ts/.tsx/.mjs
from any package under site-packages, skipped when there is none) and, for Go, Rust, Java
and TSX, from the corpus's own files. Each example applies a few random edits to one seed:
deletions, duplications, truncation, byte flips and inserted noise.

CI runs a bounded number of examples; DRIFTCHECK_FUZZ_EXAMPLES=5000 runs a long session
(see docs/hardening.md).
"""

from __future__ import annotations

import os
import site
import sysconfig
from functools import cache
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftcheck.symbols.languages import frontend_for
from driftcheck.symbols.table import ModuleSymbols

CORPUS_FILES = Path(__file__).resolve().parent / "corpus" / "files"
EXAMPLES = int(os.environ.get("DRIFTCHECK_FUZZ_EXAMPLES", "0")) or None
MAX_SEED_BYTES = 60_000  # larger seeds are cut: a parse stays in milliseconds


def fuzz_settings(default: int) -> settings:
    return settings(
        max_examples=EXAMPLES or default,
        deadline=None,
        derandomize=EXAMPLES is None,  # CI: the same examples every run
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@cache
def seeds(kind: str) -> tuple[Path, ...]:
    if kind == "python":
        return tuple(sorted(Path(click.__file__).parent.glob("*.py")))
    if kind == "web":
        roots = {Path(p) for p in (*site.getsitepackages(), sysconfig.get_paths()["purelib"])}
        found: list[Path] = []
        for root in sorted(roots):
            for pattern in ("*.js", "*.mjs", "*.ts", "*.tsx"):
                found += [p for p in root.rglob(pattern) if p.is_file()]
        return tuple(sorted(set(found))[:200])
    return tuple(
        sorted(
            p
            for p in CORPUS_FILES.iterdir()
            if p.suffix in (".go", ".rs", ".java", ".tsx", ".ts", ".js")
        )
    )


@cache
def source(path: Path) -> bytes:
    return path.read_bytes()[:MAX_SEED_BYTES]


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` after one to four random edits."""
    for _ in range(draw(st.integers(1, 4))):
        size = len(data)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, min(size, start + 400)))
        op = draw(st.sampled_from(["delete", "duplicate", "truncate", "flip", "insert", "swap"]))
        if op == "delete":
            data = data[:start] + data[end:]
        elif op == "duplicate":
            data = data[:end] + data[start:end] * draw(st.integers(1, 3)) + data[end:]
        elif op == "truncate":
            data = data[:start]
        elif op == "flip" and size:
            at = min(start, size - 1)
            data = data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
        elif op == "insert":
            noise = draw(
                st.sampled_from(
                    [
                        b"(",
                        b"{",
                        b"[",
                        b"\x00",
                        b"\xff\xfe",
                        b'"""',
                        b"'",
                        b"\r",
                        b"\t\t",
                        b"<<<<<<< ours\n",
                        b"def ",
                        b"fn ",
                        b"=>",
                        b"}",
                        b")",
                        b"\\",
                        b"/*",
                        b"`${",
                    ]
                )
            )
            data = data[:start] + noise * draw(st.integers(1, 50)) + data[start:]
        elif size:
            middle = (start + end) // 2
            data = data[:start] + data[middle:end] + data[start:middle] + data[end:]
    return data


def check_parse(path: Path, data: bytes) -> None:
    name = f"pkg/{path.name}"
    frontend = frontend_for(name)
    assert frontend is not None, name
    table = frontend.parse(name, data)
    assert isinstance(table, ModuleSymbols) and table.path == name
    # Frontends turn their own crashes into this parse_error: it must not happen either.
    assert "internal error" not in (table.parse_error or ""), table.parse_error
    for symbol in table.symbols:
        assert symbol.start_line <= symbol.end_line, symbol


def seeded(kind: str) -> st.SearchStrategy[tuple[Path, bytes]]:
    files = seeds(kind)
    return st.sampled_from(files).flatmap(lambda p: st.tuples(st.just(p), damaged(source(p))))


@fuzz_settings(150)
@given(case=seeded("python"))
def test_python_frontend_survives_damaged_click_sources(case: tuple[Path, bytes]) -> None:
    check_parse(*case)


@fuzz_settings(60)
@given(case=seeded("other"))
def test_tree_sitter_frontends_survive_damaged_sources(case: tuple[Path, bytes]) -> None:
    check_parse(*case)


def test_web_sources_from_installed_packages() -> None:
    if not seeds("web"):
        pytest.skip("no .js/.ts sources in site-packages")

    @fuzz_settings(30)
    @given(case=seeded("web"))
    def fuzz(case: tuple[Path, bytes]) -> None:
        check_parse(*case)

    fuzz()


@fuzz_settings(100)
@given(
    suffix=st.sampled_from([".py", ".ts", ".tsx", ".js", ".go", ".rs", ".java"]),
    data=st.binary(max_size=2_000) | st.text(max_size=2_000).map(str.encode),
)
def test_frontends_survive_arbitrary_bytes(suffix: str, data: bytes) -> None:
    check_parse(Path(f"noise{suffix}"), data)
