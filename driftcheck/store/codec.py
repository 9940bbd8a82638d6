"""How cache values are written: plain msgpack data, one codec per namespace.

The cache lives inside `.git`, which can come from someone else (an unpacked
archive, a shared folder). So nothing read from it may run code: values are plain
msgpack (strings, numbers, arrays, maps), and each namespace has a codec that
rebuilds only its own driftcheck types, field by field, from an explicit registry.
No type is ever named by the data. A value that does not validate is a miss.

The codecs for symbol tables and summaries live with them (`symbols/stored.py`)
and register here when that package is imported.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import msgpack

from driftcheck.model import Finding, Severity

# Every str round-trips, paths with undecodable bytes (surrogate escapes) included.
_TEXT = "surrogatepass"
# Tags for what plain msgpack cannot tell apart; nothing else is ever decoded.
_TUPLE, _FROZENSET = 1, 2


class Invalid(ValueError):
    """A stored value that is not what its namespace holds: treated as a miss."""


class Codec(NamedTuple):
    pack: Callable[[Any], bytes]
    unpack: Callable[[bytes], Any]


_CODECS: dict[str, Codec] = {}


def register(namespace: str, codec: Codec) -> None:
    _CODECS[namespace] = codec


def codec_for(namespace: str) -> Codec | None:
    return _CODECS.get(namespace)


# -- plain msgpack --------------------------------------------------------------


def pack_plain(value: Any) -> bytes:
    """Tuples, lists, dicts with str keys, str, int, float, bool, None."""
    return msgpack.packb(value, use_bin_type=True, unicode_errors=_TEXT)


def unpack_plain(blob: bytes) -> Any:
    """Arrays come back as tuples (driftcheck's frozen types hold tuples)."""
    try:
        return msgpack.unpackb(
            blob, use_list=False, raw=False, strict_map_key=True, unicode_errors=_TEXT
        )
    except Exception as exc:  # malformed data of any kind is a miss
        raise Invalid(str(exc)) from exc


def _tagged(value: Any) -> msgpack.ExtType:
    # Called for what strict packing does not take as is: only these two.
    if type(value) is tuple:
        return msgpack.ExtType(_TUPLE, pack_tagged(list(value)))
    if type(value) is frozenset:
        return msgpack.ExtType(_FROZENSET, pack_tagged(sorted(value, key=repr)))
    raise TypeError(f"not cacheable: {type(value).__name__}")


def pack_tagged(value: Any) -> bytes:
    """Free-form data (a finding's details) that keeps tuples and lists apart."""
    return msgpack.packb(
        value, use_bin_type=True, strict_types=True, default=_tagged, unicode_errors=_TEXT
    )


def _untag(code: int, data: bytes) -> Any:
    if code == _TUPLE:
        return tuple(unpack_tagged(data))
    if code == _FROZENSET:
        return frozenset(unpack_tagged(data))
    raise Invalid(f"unknown tag {code}")


def unpack_tagged(blob: bytes) -> Any:
    try:
        return msgpack.unpackb(
            blob, raw=False, strict_map_key=True, ext_hook=_untag, unicode_errors=_TEXT
        )
    except Exception as exc:
        raise Invalid(str(exc)) from exc


# -- checks ---------------------------------------------------------------------

_STR = frozenset({str})
_INT = frozenset({int})


def strings(value: Any) -> tuple[str, ...]:
    """`value`, checked to be a tuple of str."""
    if type(value) is not tuple or (value and not set(map(type, value)) <= _STR):
        raise Invalid("expected strings")
    return value


def ints(value: Any) -> tuple[int, ...]:
    if type(value) is not tuple or (value and not set(map(type, value)) <= _INT):
        raise Invalid("expected integers")
    return value


def str_map(value: Any) -> dict[str, str]:
    if type(value) is not dict or (
        value and not (set(map(type, value)) <= _STR and set(map(type, value.values())) <= _STR)
    ):
        raise Invalid("expected a map of strings")
    return value


def shapes(*fields: tuple[type, ...]) -> frozenset[tuple[type, ...]]:
    """Every allowed tuple of field types, for one set lookup per row
    (`tuple(map(type, row)) in allowed`) instead of a check per field."""
    return frozenset(itertools.product(*fields))


def checked(row: Any, allowed: frozenset[tuple[type, ...]]) -> tuple[Any, ...]:
    if type(row) is not tuple or tuple(map(type, row)) not in allowed:
        raise Invalid("unexpected row")
    return row


S, N, B, NONE, T = (str,), (int,), (bool,), (type(None),), (tuple,)
OPT_S = (str, type(None))


# -- the namespaces of the engine -----------------------------------------------

_FINDING = shapes(S, S, S, T, OPT_S, (int, type(None)), S, OPT_S, (bytes,))


def pack_findings(findings: Iterable[Finding]) -> bytes:
    return pack_plain(
        [
            (
                f.kind,
                f.code,
                f.severity.value,
                f.participants,
                f.path,
                f.line,
                f.message,
                f.symbol,
                pack_tagged(dict(f.details)),
            )
            for f in findings
        ]
    )


def unpack_findings(blob: bytes) -> list[Finding]:
    rows = unpack_plain(blob)
    if type(rows) is not tuple:
        raise Invalid("expected findings")
    found = []
    for row in rows:
        kind, code, severity, participants, path, line, message, symbol, details = checked(
            row, _FINDING
        )
        found_details = unpack_tagged(details)
        if type(found_details) is not dict:
            raise Invalid("expected details")
        try:
            level = Severity(severity)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        found.append(
            Finding(
                kind, code, level, strings(participants), path, line, message, symbol, found_details
            )
        )
    return found


def _unpack_text(blob: bytes) -> str:
    value = unpack_plain(blob)
    if type(value) is not str:
        raise Invalid("expected text")
    return value


def _unpack_modules(blob: bytes) -> dict[str, str]:
    return str_map(unpack_plain(blob))


_CHANGE = shapes(S, OPT_S, OPT_S)


def _unpack_changes(blob: bytes) -> dict[str, tuple[str, str | None, str | None]]:
    value = unpack_plain(blob)
    if type(value) is not dict or not set(map(type, value)) <= _STR:
        raise Invalid("expected changes")
    for change in value.values():
        checked(change, _CHANGE)
    return value


_MERGE_BASE = shapes(S, S, B)


def _unpack_merge_base(blob: bytes) -> tuple[str, str, bool]:
    commit, tree, several = checked(unpack_plain(blob), _MERGE_BASE)
    return commit, tree, several


register("pair", Codec(pack_findings, unpack_findings))
register("commit-trees", Codec(pack_plain, _unpack_text))
register("modules", Codec(pack_plain, _unpack_modules))
register("diff-blobs", Codec(pack_plain, _unpack_changes))
register("merge-bases", Codec(pack_plain, _unpack_merge_base))
