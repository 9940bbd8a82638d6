"""How alike two normalised token streams are (0..1), for duplicates and for telling
a rename that also edits the body from a removal plus an unrelated addition."""

from __future__ import annotations

import difflib
import re
from collections import Counter
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


_FLOW = frozenset(
    {"If", "For", "While", "Try", "With", "Match", "AsyncFor", "AsyncWith"}
    | {"if_statement", "for_statement", "for_in_statement", "while_statement"}
    | {"try_statement", "switch_statement", "for_expression", "match_expression"}
)


def does_something(tokens: Sequence[str]) -> bool:
    """A body with control flow, or calls to at least two different things: worth
    recognising when written inline. Straight assignments are not."""
    if _FLOW.intersection(tokens):
        return True
    called = {tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t in ("Call", "call_expression")}
    return len(called) >= 2


def containment(needle: list[str], haystack: list[str], floor: float = 0.0) -> float:
    """Share of `needle` found, in order, inside one stretch of `haystack` at most
    twice its length (matches scattered over a long body are chance, not a copy).

    A score below `floor` is not worked out exactly: what the tokens the two share in
    any order allow (an upper bound) is returned instead. That bound is counted, not
    matched, and settles most comparisons of a large helper against unrelated hosts."""
    needle, haystack = needle[:MAX_TOKENS], haystack[:MAX_TOKENS]
    wanted = Counter(needle)
    if needle and (bound := _shared(wanted, haystack) / len(needle)) < floor:
        return bound
    score = matched(needle, haystack)
    width = 2 * len(needle)
    if len(haystack) <= width:
        return score
    best = 0.0
    step = max(len(needle) // 4, 1)
    for start in range(0, len(haystack) - len(needle) + step, step):
        window = haystack[start : start + width]
        # A stretch whose shared tokens cannot beat the best so far, or reach the
        # floor, cannot change the answer.
        reach = _shared(wanted, window) / len(needle)
        if reach <= best or reach < floor:
            continue
        best = max(best, matched(needle, window))
        if best >= score:
            break
    return best


def _shared(wanted: Counter[str], tokens: list[str]) -> int:
    """How many of `wanted` (a multiset) `tokens` holds, in any order."""
    found = Counter(tokens)
    return sum(min(count, found[token]) for token, count in wanted.items())


def matched(needle: list[str], haystack: list[str]) -> float:
    matcher = difflib.SequenceMatcher(None, needle, haystack, False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(needle)
