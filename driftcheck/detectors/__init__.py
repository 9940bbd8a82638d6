"""Detectors: each is `detect(context) -> Iterable[Finding]`, listed in one dict.

A detector never prints and never touches the repository; it reads the pair's
context and returns findings in the v1 shape.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from driftcheck.detectors.context import PairContext
from driftcheck.model import (
    CONTRADICTING_EDIT,
    DUPLICATE,
    STALE_CALLER,
    TEXTUAL_CONFLICT,
    Finding,
)

Detector = Callable[[PairContext], Iterable[Finding]]

# kind -> module implementing `detect`; imported only when that kind runs.
DETECTOR_MODULES: dict[str, str] = {
    TEXTUAL_CONFLICT: "driftcheck.detectors.textual",
    STALE_CALLER: "driftcheck.detectors.stale_callers",
    DUPLICATE: "driftcheck.detectors.duplicates",
    CONTRADICTING_EDIT: "driftcheck.detectors.contradictions",
}


def load(kind: str) -> Detector | None:
    module = DETECTOR_MODULES.get(kind)
    if module is None:
        return None
    detect: Detector = importlib.import_module(module).detect
    return detect
