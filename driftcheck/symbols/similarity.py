"""How alike two normalised token streams are (0..1), for duplicates and for telling
a rename that also edits the body from a removal plus an unrelated addition."""

from __future__ import annotations

import difflib
import re
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


def loose_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """`similarity`, also after folding spellings of the same thing (`loosen`): a
    copy that changes a few of them at once (an accumulator started at `0.0` instead
    of `0`, `row["price"]` for `row.price`) stays a near-copy."""
    strict = similarity(a, b)
    if strict >= 0.999:
        return strict
    return max(strict, similarity(loosen(a), loosen(b)))


_NUMBER = re.compile(r"^c:(-?\d+(?:\.\d*)?(?:e-?\d+)?)$")
_KEY = re.compile(r"^c:'([A-Za-z_]\w*)'$")


def loosen(tokens: Sequence[str]) -> list[str]:
    """Python tokens with equal numbers spelt alike (`0`, `0.0`) and a string-keyed
    subscript of a simple operand spelt as attribute access."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        number = _NUMBER.match(token)
        if number:
            out.append(f"c:n{float(number[1])!r}")
        elif token == "Subscript" and i + 2 < len(tokens) and (key := _KEY.match(tokens[i + 2])):
            out.extend(("Attribute", f".{key[1]}", tokens[i + 1]))
            i += 3
            continue
        else:
            out.append(token)
        i += 1
    return out


def size_bound(a: Sequence[str], b: Sequence[str]) -> float:
    """The highest similarity two token streams of these lengths can reach."""
    x, y = min(len(a), MAX_TOKENS), min(len(b), MAX_TOKENS)
    return 2 * min(x, y) / (x + y) if x + y else 0.0
