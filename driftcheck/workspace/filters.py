"""Which external filter drivers git may run for driftcheck: by default, none.

A repository's config (its own file, or one it includes, `includeIf` too) can name
`filter.<driver>.clean`, `.smudge` and `.process` commands, and git runs them
whenever it hashes a worktree file (`git add`, `git status` on a file whose stat
data changed, `hash-object --path`). driftcheck was not asked to run them, and a
`.git` may come from someone else. So before git hashes anything in a worktree,
the drivers configured there are learnt (`git.guard_filters`) and every later git
call gets them switched off through `GIT_CONFIG_*` variables (keys of any
spelling, no `-c` parsing): an empty command is no filter, and `required` is
false. git then hashes the raw file, as `hash-object --no-filters` would; git's
built-in conversions (end of lines, `ident`, encodings) still apply.

`git-filters = true` in `[tool.driftcheck]`, or `DRIFTCHECK_GIT_FILTERS=1`, lets
git run them as `git add` would (LFS and the like); `DRIFTCHECK_GIT_FILTERS=0`
forbids them whatever the configuration says.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

ENV = "DRIFTCHECK_GIT_FILTERS"
_SWITCHED_OFF = (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))


class _Guard:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.allowed = False
        # Only grows: switching off a driver that a later repository lacks is harmless.
        self.drivers: frozenset[str] = frozenset()


_GUARD = _Guard()


def allow(configured: bool) -> None:
    """Whether git may run filter drivers in this process, from the configuration;
    the environment variable wins either way."""
    chosen = os.environ.get(ENV)
    _GUARD.allowed = chosen == "1" if chosen in ("0", "1") else configured


def allowed() -> bool:
    return _GUARD.allowed


def forbid(drivers: Iterable[str]) -> None:
    with _GUARD.lock:
        _GUARD.drivers = _GUARD.drivers | frozenset(drivers)


def drivers_in(listing: bytes) -> set[str]:
    """Driver names in `git config -z --get-regexp '^filter\\.'` output
    (`filter.<name>.<key>\\n<value>\\0` per entry; a name may hold dots)."""
    found = set()
    for entry in listing.split(b"\0"):
        key = entry.partition(b"\n")[0].decode("utf-8", "surrogateescape")
        if key.startswith("filter.") and key.count(".") >= 2:
            found.add(key[len("filter.") : key.rindex(".")])
    return found


def config_env(env: dict[str, str]) -> None:
    """Add to a git call's environment the settings that switch the drivers off,
    after whatever `GIT_CONFIG_COUNT` entries it already holds."""
    if _GUARD.allowed or not _GUARD.drivers:
        return
    try:
        count = int(env.get("GIT_CONFIG_COUNT", "0"))
    except ValueError:
        count = 0
    for driver in sorted(_GUARD.drivers):
        for key, value in _SWITCHED_OFF:
            env[f"GIT_CONFIG_KEY_{count}"] = f"filter.{driver}.{key}"
            env[f"GIT_CONFIG_VALUE_{count}"] = value
            count += 1
    env["GIT_CONFIG_COUNT"] = str(count)
