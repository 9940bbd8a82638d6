"""Edits that only follow a side's own renames.

A side that renames a package (`black` to `prism`) rewrites every file that names it:
`black.Mode(...)` becomes `prism.Mode(...)` in functions it otherwise leaves alone.
Such an edit carries no intent of its own, so a function the other side deletes or
rewrites loses nothing when it is dropped (bench/realworld: black's package-rename
pull requests, where every such DC402 was judged noise).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

_WORD = re.compile(r"[A-Za-z_]\w*")


def rename_words(
    file_renames: Mapping[str, str], symbol_renames: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """word -> word a side renames: the path parts of the files it renames
    (`src/black/nodes.py` to `src/prism/nodes.py`: `black` to `prism`) and the
    names of the symbols it renames. A word renamed two ways is left out."""
    seen: dict[str, set[str]] = {}
    pairs = [(_stem(old), _stem(new)) for old, new in file_renames.items()]
    pairs += [(old.replace(".", "/"), new.replace(".", "/")) for old, new in symbol_renames]
    for old, new in pairs:
        for a, b in _replaced_words(_WORD.findall(old), _WORD.findall(new)):
            for x, y in ((a, b), (a.capitalize(), b.capitalize()), (a.upper(), b.upper())):
                seen.setdefault(x, set()).add(y)
    return {a: next(iter(b)) for a, b in seen.items() if len(b) == 1}


def follows_renames(old: list[str], new: list[str], words: Mapping[str, str]) -> bool:
    """Whether a definition's edit from `old` lines to `new` is only the side's
    renames applied word by word."""
    if not words or old == new:
        return False
    renamed = _WORD.sub(lambda m: words.get(m.group(), m.group()), "\n".join(old))
    return _flat(renamed) == _flat("\n".join(new))


def _stem(path: str) -> str:
    folder, _, name = path.rpartition("/")
    return f"{folder}/{name.partition('.')[0]}"


def _replaced_words(old: list[str], new: list[str]) -> Iterable[tuple[str, str]]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "replace" and i2 - i1 == j2 - j1:
            yield from zip(old[i1:i2], new[j1:j2], strict=True)


def _flat(text: str) -> str:
    return " ".join(text.split())
