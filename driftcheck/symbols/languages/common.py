"""Small text helpers every frontend shares (the Python one and tree-sitter's)."""

from __future__ import annotations

import hashlib

from driftcheck.symbols.table import ALL_KINDS

MAX_TEXT = 200


def digest(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def one_line(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join(prefix: str | None, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def ignored_kinds(listed: str | None) -> frozenset[str]:
    """The kinds a `driftcheck: ignore[a, b]` comment names; all of them when bare."""
    kinds = frozenset(k.strip().lower() for k in (listed or "").split(",") if k.strip())
    return kinds or frozenset({ALL_KINDS})
