"""Plan TypeScript cases as `py_plan` does for Python: seeded targets, a positive and a negative
each."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from cases import Plan, Tally
from common import Files
from labels import Checker
from py_edit import Skip
from py_refactor import Refactoring
from py_uses import Use
from ts_index import TsDefinition, TsIndex
from ts_move import move
from ts_refactor import (
    add_abstract_member,
    add_parameter,
    change_return_shape,
    remove,
    rename,
)
from ts_uses import make_use

Refactor = Callable[[TsIndex, TsDefinition, random.Random, bool], Refactoring]

KINDS: dict[str, tuple[Refactor, tuple[str, ...], bool]] = {
    "rename": (rename, ("function", "method", "class"), True),
    "add-parameter": (add_parameter, ("function", "method"), True),
    "remove": (remove, ("function", "method"), False),
    "move": (move, ("function",), True),
    "abstract-member": (add_abstract_member, ("interface",), True),
    "rename-attribute": (rename, ("field",), False),
    "return-shape": (change_return_shape, ("function", "method"), False),
}


def use_shape(refactoring: Refactoring) -> str:
    if refactoring.kind == "abstract-member":
        return "implements"
    if refactoring.kind == "return-shape":
        return "value"
    return {"class": "type", "field": "read"}.get(refactoring.target.kind, "call")


def plan_project(
    project: str,
    commit: str,
    base: Files,
    checker: Checker,
    per_kind: int,
    seed: int,
    tally: Tally,
    kinds: list[str] | None = None,
) -> Iterator[Plan]:
    index = TsIndex(base)
    definitions = [d for d in index.definitions() if index.unambiguous(d)]
    definitions.sort(key=lambda d: (d.qualname, d.kind))
    callables = [d for d in definitions if d.kind == "function"]
    for kind, (refactor, target_kinds, has_compatible) in KINDS.items():
        if kinds and kind not in kinds:
            continue
        rng = random.Random(f"{seed}/{project}/{kind}")
        pool = [d for d in definitions if d.kind in target_kinds]
        rng.shuffle(pool)
        made = 0
        for target in pool:
            if made >= per_kind:
                break
            try:
                breaking = refactor(
                    index, target, random.Random(f"{seed}/{target.qualname}"), False
                )
            except Skip as exc:
                tally.skipped[f"typescript/{kind}: {exc}"] += 1
                continue
            except Exception as exc:  # a bug in one refactoring must not stop the run
                tally.discarded[
                    f"typescript/{kind}: generator error {type(exc).__name__}: {exc}"
                ] += 1
                continue
            if checker.new_errors(breaking.edits):
                tally.discarded[f"typescript/{kind}: A does not type-check"] += 1
                continue
            use = _first_use(index, target, use_shape(breaking), kind, rng, tally)
            if use is None:
                continue
            base_id = f"{project}-{kind}-{made + 1:03d}"
            a_stage = rng.choice(["committed", "committed", "staged", "unstaged"])
            yield _plan(
                f"{base_id}-pos", project, commit, breaking, use, "positive", None, a_stage, rng
            )
            negative = _negative(
                index, breaking, has_compatible and made % 2 == 0, callables, rng, tally, kind
            )
            if negative is not None:
                a_side, b_use, negative_type = negative
                yield _plan(
                    f"{base_id}-neg",
                    project,
                    commit,
                    a_side,
                    b_use,
                    "negative",
                    negative_type,
                    a_stage,
                    rng,
                )
            made += 1


def _first_use(
    index: TsIndex, target: TsDefinition, shape: str, kind: str, rng: random.Random, tally: Tally
) -> Use | None:
    locations = ["new-module", "same-module"]
    rng.shuffle(locations)
    for location in locations:
        try:
            return make_use(
                index, target, shape, random.Random(f"{target.qualname}/{location}"), location
            )
        except Skip as exc:
            tally.skipped[f"typescript/{kind}: B {location}: {exc}"] += 1
        except Exception as exc:  # a bug in one use must not stop the run
            tally.discarded[f"typescript/{kind}: generator error {type(exc).__name__}: {exc}"] += 1
    return None


def _negative(
    index: TsIndex,
    breaking: Refactoring,
    try_compatible: bool,
    callables: list[TsDefinition],
    rng: random.Random,
    tally: Tally,
    kind: str,
) -> tuple[Refactoring, Use, str] | None:
    target = breaking.target
    if try_compatible:
        try:
            compatible = KINDS[kind][0](
                index, target, random.Random(f"{target.qualname}/compatible"), True
            )
            use = _first_use(index, target, use_shape(breaking), kind, rng, tally)
            if use is not None:
                return compatible, use, "compatible-change"
        except Exception as exc:
            tally.skipped[f"typescript/{kind}: compatible: {exc}"] += 1
    others = [d for d in callables if d.name != target.name and d.module.path == target.module.path]
    others = others or [d for d in callables if d.name != target.name]
    rng.shuffle(others)
    for other in others[:8]:
        try:
            use = make_use(index, other, "call", random.Random(other.qualname), "same-module")
            return breaking, use, "unrelated-use"
        except Exception:
            continue
    return None


def _plan(
    case_id: str,
    project: str,
    commit: str,
    refactoring: Refactoring,
    use: Use,
    intent: str,
    negative_type: str | None,
    a_stage: str,
    rng: random.Random,
) -> Plan:
    b_stage = rng.choice(
        ["committed", "staged", "unstaged"]
        + (["untracked"] if use.location == "new-module" else [])
    )
    target = refactoring.target
    short = "".join("-" + c.lower() if c.isupper() else c for c in target.name).strip("-")
    return Plan(
        case_id=case_id,
        kind=refactoring.kind,
        language="typescript",
        project=project,
        project_commit=commit,
        target=target.qualname,
        target_kind=target.kind,
        intent=intent,
        negative_type=negative_type,
        a_summary=refactoring.summary,
        a_stage=a_stage,
        a_edits=refactoring.edits,
        b_summary=use.summary,
        b_stage=b_stage,
        b_location=use.location,
        b_edits=use.edits,
        b_changed_file=use.path,
        a_branch=f"refactor/{refactoring.kind}-{short}",
        b_branch="feature/" + "".join("-" + c.lower() if c.isupper() else c for c in use.helper),
        extra={"facts": refactoring.facts},
    )
