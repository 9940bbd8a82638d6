"""similarity.containment: the floor only spares work, never changes a decision."""

from __future__ import annotations

import random

import pytest

from driftcheck.symbols.similarity import containment


def _tokens(rng: random.Random, size: int, alphabet: int) -> list[str]:
    return [f"t{rng.randrange(alphabet)}" for _ in range(size)]


@pytest.mark.parametrize("seed", range(40))
def test_a_floor_never_changes_what_reaches_it(seed: int) -> None:
    rng = random.Random(seed)
    needle = _tokens(rng, rng.randint(4, 40), rng.choice([3, 8, 30]))
    haystack = _tokens(rng, rng.randint(1, 300), rng.choice([3, 8, 30]))
    if rng.random() < 0.5:  # the needle copied somewhere in the haystack, a little edited
        at = rng.randrange(len(haystack) + 1)
        copy = [t if rng.random() < 0.8 else "x" for t in needle]
        haystack = haystack[:at] + copy + haystack[at:]
    exact = containment(needle, haystack)
    for floor in (0.3, 0.6, 0.8, 0.95):
        bounded = containment(needle, haystack, floor)
        assert (bounded >= floor) == (exact >= floor), (floor, exact, bounded)
        if exact >= floor:
            assert bounded == exact


def test_unrelated_bodies_are_settled_by_the_bound() -> None:
    needle = ["Call", "a", "b", "If", "c"] * 8
    haystack = ["For", "x", "y", "Return", "z"] * 40
    assert containment(needle, haystack, 0.6) == containment(needle, haystack) == 0.0
