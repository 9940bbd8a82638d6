"""Symbol tables and file summaries as plain cache data (see `store/codec.py`).

A table is written as nested msgpack arrays in field order and rebuilt here, type
by type: every row is checked against the shapes its fields allow before an object
is made, so a planted or damaged value is a miss, never a wrong table. Objects are
filled without their `__init__` (a frozen dataclass sets each field through
`object.__setattr__`): a cold scan loads hundreds of thousands of them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_args

from driftcheck.store.codec import (
    OPT_S,
    B,
    Codec,
    Invalid,
    N,
    S,
    T,
    checked,
    ints,
    pack_plain,
    register,
    shapes,
    str_map,
    strings,
    unpack_plain,
)
from driftcheck.symbols.table import (
    ModuleSymbols,
    Param,
    ParamKind,
    Reference,
    ReferenceKind,
    Signature,
    Symbol,
    SymbolKind,
)
from driftcheck.symbols.tree_index import FileSummary


def _names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_SYMBOL_FIELDS = _names(Symbol)
_REFERENCE_FIELDS = _names(Reference)
_TABLE_FIELDS = _names(ModuleSymbols)
_SYMBOL_KINDS = frozenset(get_args(SymbolKind))
_REFERENCE_KINDS = frozenset(get_args(ReferenceKind))
_PARAM_KINDS = frozenset(get_args(ParamKind))
_NO_KINDS: frozenset[str] = frozenset()
_NEW = object.__new__
_SET = object.__setattr__  # past the frozen dataclass's own __setattr__

OPT_T = (tuple, type(None))
_PARAM = shapes(S, S, B, OPT_S, OPT_S)
_SIGNATURE = shapes(T, OPT_S)
_SYMBOL = shapes(S, S, S, S, S, N, N, OPT_S, OPT_T, T, S, T, N, S, OPT_S, T, T, B, OPT_T, OPT_S)
_REFERENCE = shapes(S, S, N, N, S, OPT_S, OPT_S, OPT_S, N, T, B, B, S, OPT_S, T, B)
_TABLE = shapes(S, S, S, T, T, (dict,), T, (dict, type(None)), OPT_S, B)
_FUNCTION = shapes(S, S, N, S, N, T)
_SUMMARY = shapes(S, T, T)
# Fields rebuilt from nested values, by position in their rows.
_SIGNATURE_AT = _SYMBOL_FIELDS.index("signature")
_INIT_AT = _SYMBOL_FIELDS.index("init_signature")
_SYMBOL_KINDS_AT = _SYMBOL_FIELDS.index("ignored_kinds")
_SYMBOL_STRINGS_AT = tuple(_SYMBOL_FIELDS.index(n) for n in ("decorators", "body_tokens", "bases"))
_REFERENCE_KINDS_AT = _REFERENCE_FIELDS.index("ignored_kinds")
_KEYWORDS_AT = _REFERENCE_FIELDS.index("keywords")


def _make(cls: type, names: tuple[str, ...], values: Any) -> Any:
    made = _NEW(cls)
    made.__dict__.update(zip(names, values, strict=True))
    return made


# -- writing --------------------------------------------------------------------


def _plain_signature(signature: Signature | None) -> Any:
    if signature is None:
        return None
    params = [(p.name, p.kind, p.has_default, p.default, p.annotation) for p in signature.params]
    return (params, signature.returns)


def _plain_symbol(s: Symbol) -> list[Any]:
    values = [getattr(s, name) for name in _SYMBOL_FIELDS]
    values[_SIGNATURE_AT] = _plain_signature(s.signature)
    values[_INIT_AT] = _plain_signature(s.init_signature)
    values[_SYMBOL_KINDS_AT] = sorted(s.ignored_kinds)
    return values


def _plain_reference(r: Reference) -> list[Any]:
    values = [getattr(r, name) for name in _REFERENCE_FIELDS]
    values[_REFERENCE_KINDS_AT] = sorted(r.ignored_kinds)
    return values


def pack_table(table: ModuleSymbols) -> bytes:
    return pack_plain(
        (
            *(table.path, table.module, table.language),
            [_plain_symbol(s) for s in table.symbols],
            [_plain_reference(r) for r in table.references],
            dict(table.imports),
            table.star_imports,
            dict(table.exports) if table.exports is not None else None,
            *(table.parse_error, table.is_package),
        )
    )


# -- reading --------------------------------------------------------------------


def _signature(value: Any) -> Signature | None:
    if value is None:
        return None
    params, returns = checked(value, _SIGNATURE)
    made = []
    for row in params:
        checked(row, _PARAM)
        if row[1] not in _PARAM_KINDS:
            raise Invalid("unknown parameter kind")
        made.append(_make(Param, ("name", "kind", "has_default", "default", "annotation"), row))
    return _make(Signature, ("params", "returns"), (tuple(made), returns))


def _kinds(value: Any) -> frozenset[str]:
    return frozenset(strings(value)) if value else _NO_KINDS


def _symbol(row: Any) -> Symbol:
    values = list(checked(row, _SYMBOL))
    if values[2] not in _SYMBOL_KINDS:
        raise Invalid("unknown symbol kind")
    values[_SIGNATURE_AT] = _signature(values[_SIGNATURE_AT])
    values[_INIT_AT] = _signature(values[_INIT_AT])
    for at in _SYMBOL_STRINGS_AT:
        strings(values[at])
    values[_SYMBOL_KINDS_AT] = _kinds(values[_SYMBOL_KINDS_AT])
    return _make(Symbol, _SYMBOL_FIELDS, values)


def _reference(row: Any) -> Reference:
    # The bulk of a table (tens of thousands in a large scan): checks inlined, and
    # the object's fields set as one dict.
    if type(row) is not tuple or tuple(map(type, row)) not in _REFERENCE:
        raise Invalid("unexpected reference")
    if row[0] not in _REFERENCE_KINDS:
        raise Invalid("unknown reference kind")
    if row[_KEYWORDS_AT]:
        strings(row[_KEYWORDS_AT])
    fields = dict(zip(_REFERENCE_FIELDS, row, strict=True))
    if row[_REFERENCE_KINDS_AT]:
        fields["ignored_kinds"] = frozenset(strings(row[_REFERENCE_KINDS_AT]))
    else:
        fields["ignored_kinds"] = _NO_KINDS
    made = _NEW(Reference)
    _SET(made, "__dict__", fields)
    return made


def unpack_table(blob: bytes) -> ModuleSymbols:
    values = list(checked(unpack_plain(blob), _TABLE))
    values[3] = tuple(map(_symbol, values[3]))
    values[4] = tuple(map(_reference, values[4]))
    str_map(values[5])
    strings(values[6])
    if values[7] is not None:
        str_map(values[7])
    return _make(ModuleSymbols, _TABLE_FIELDS, values)


def unpack_summary(blob: bytes) -> FileSummary:
    language, methods, functions = checked(unpack_plain(blob), _SUMMARY)
    strings(methods)
    for function in functions:
        ints(checked(function, _FUNCTION)[5])
    return language, methods, functions


# For other namespaces that keep signatures (the plan's per-participant facts).
plain_signature = _plain_signature
signature_from_plain = _signature

register("symbols", Codec(pack_table, unpack_table))
register("definitions", Codec(pack_table, unpack_table))
register("summary", Codec(pack_plain, unpack_summary))
