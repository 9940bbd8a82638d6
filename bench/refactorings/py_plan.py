"""Plan Python cases: seeded targets per refactoring kind, one positive and one negative each.

Positive: A makes a breaking refactoring, B adds code using the old form.
Negative, alternately: A makes the compatible variant of the same refactoring and B the
same old-form use ("compatible-change"), or A makes the breaking refactoring and B uses
some other, untouched function in the same spot ("unrelated-use").
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from cases import Plan, Tally
from labels import Checker
from py_edit import Skip
from py_index import Definition, PyIndex
from py_refactor import Refactoring, add_abstract_member, add_parameter, move, remove, rename
from py_shape import change_return_shape
from py_uses import LOCATIONS, Use, make_use

Refactor = Callable[[PyIndex, Definition, random.Random, bool], Refactoring]

# kind -> (refactoring, target kinds, has a compatible variant)
KINDS: dict[str, tuple[Refactor, tuple[str, ...], bool]] = {
    "rename": (rename, ("function", "method", "class"), True),
    "add-parameter": (add_parameter, ("function", "method"), True),
    "remove": (remove, ("function", "method"), False),
    "move": (move, ("function",), True),
    "abstract-member": (add_abstract_member, ("class",), True),
    "rename-attribute": (rename, ("attribute",), True),
    "return-shape": (change_return_shape, ("function", "method"), True),
}


def use_shape(refactoring: Refactoring) -> str:
    target = refactoring.target
    if refactoring.kind == "abstract-member":
        return "subclass"
    if refactoring.kind == "return-shape":
        return "unpack" if refactoring.facts.get("tuple") else "value"
    return {"class": "type", "attribute": "read"}.get(target.kind, "call")


def locations_for(kind: str, rng: random.Random) -> list[str]:
    if kind == "move":
        return ["new-module", "caller-module"]
    if kind == "abstract-member":
        return ["new-module", "same-module"]
    order = list(LOCATIONS)
    rng.shuffle(order)
    return order


def plan_project(
    project: str,
    commit: str,
    index: PyIndex,
    checker: Checker,
    per_kind: int,
    seed: int,
    tally: Tally,
    kinds: list[str] | None = None,
) -> Iterator[Plan]:
    definitions = [
        d for d in index.definitions() if index.unambiguous(d) and index.decorators_ok(d)
    ]
    definitions.sort(key=lambda d: (d.qualname, d.kind))
    callables = [d for d in definitions if d.kind in ("function", "method")]
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
                tally.skipped[f"python/{kind}: {exc}"] += 1
                continue
            except Exception as exc:  # a bug in one refactoring must not stop the run
                tally.discarded[f"python/{kind}: generator error {type(exc).__name__}: {exc}"] += 1
                continue
            if checker.new_errors(breaking.edits):
                tally.discarded[f"python/{kind}: A does not type-check"] += 1
                continue
            use = _first_use(index, target, use_shape(breaking), kind, rng, tally)
            if use is None:
                continue
            number = f"{made + 1:03d}"
            base_id = f"{project}-{kind}-{number}"
            a_stage = rng.choice(["committed", "committed", "staged", "unstaged"])
            yield _plan(
                f"{base_id}-pos", project, commit, breaking, use, "positive", None, a_stage, rng
            )
            negative = _negative(
                index, breaking, has_compatible, made, callables, rng, tally, target, kind
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
    index: PyIndex, target: Definition, shape: str, kind: str, rng: random.Random, tally: Tally
) -> Use | None:
    for location in locations_for(kind, rng):
        try:
            return make_use(
                index, target, shape, random.Random(f"{target.qualname}/{location}"), location
            )
        except Skip as exc:
            tally.skipped[f"python/{kind}: B {location}: {exc}"] += 1
        except Exception as exc:  # a bug in one use must not stop the run
            tally.discarded[f"python/{kind}: generator error {type(exc).__name__}: {exc}"] += 1
    return None


def _negative(
    index: PyIndex,
    breaking: Refactoring,
    has_compatible: bool,
    made: int,
    callables: list[Definition],
    rng: random.Random,
    tally: Tally,
    target: Definition,
    kind: str,
) -> tuple[Refactoring, Use, str] | None:
    refactor = KINDS[kind][0]
    if has_compatible and made % 2 == 0:
        try:
            compatible = refactor(
                index, target, random.Random(f"{target.qualname}/compatible"), True
            )
            use = _first_use(index, target, use_shape(breaking), kind, rng, tally)
            if use is not None:
                return compatible, use, "compatible-change"
        except Exception as exc:
            tally.skipped[f"python/{kind}: compatible: {exc}"] += 1
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
    new_file = use.location == "new-module"
    b_stage = rng.choice(["committed", "staged", "unstaged"] + (["untracked"] if new_file else []))
    short = refactoring.target.name.strip("_").replace("_", "-").lower()
    return Plan(
        case_id=case_id,
        kind=refactoring.kind,
        language="python",
        project=project,
        project_commit=commit,
        target=refactoring.target.qualname,
        target_kind=refactoring.target.kind,
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
        b_branch=f"feature/{use.helper.strip('_').replace('_', '-').lower()}",
        extra={"facts": refactoring.facts},
    )
