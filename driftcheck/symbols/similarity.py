"""How alike two normalised token streams are (0..1), for duplicates and for telling
a rename that also edits the body from a removal plus an unrelated addition."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

# Longer bodies are compared on their first tokens: the ratio is quadratic.
MAX_TOKENS = 3000


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    if not a or not b:
        return 0.0
    matcher = difflib.SequenceMatcher(None, a[:MAX_TOKENS], b[:MAX_TOKENS], autojunk=False)
    if matcher.real_quick_ratio() < 0.5 or matcher.quick_ratio() < 0.5:
        return matcher.quick_ratio() * 0.5
    return matcher.ratio()


def size_bound(a: Sequence[str], b: Sequence[str]) -> float:
    """The highest similarity two token streams of these lengths can reach."""
    x, y = min(len(a), MAX_TOKENS), min(len(b), MAX_TOKENS)
    return 2 * min(x, y) / (x + y) if x + y else 0.0
