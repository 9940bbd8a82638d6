"""Go profile (`.go`).

A package is a folder, so a file's module is its folder (`internal/orders`) and
every file of the folder shares it; an unqualified name that is not local or
imported is a member of the same package. Imports name full import paths
(`example.com/shop/internal/orders`); the symbol index maps such a path to the
folder it ends with, since only go.mod knows the module prefix.
"""

from __future__ import annotations

import posixpath
import re

from driftcheck.symbols.languages.treesitter.frontend import TreeSitterFrontend
from driftcheck.symbols.languages.treesitter.profile import Profile, words


def module_name(path: str) -> tuple[str, bool]:
    """`internal/orders/total.go` -> ("internal/orders", False)."""
    return posixpath.dirname(path.replace("\\", "/").removeprefix("./")), False


def resolve_module(spec: str, module: str, is_package: bool) -> str:
    return spec


def package_name(import_path: str) -> str:
    """The name an import binds by default: `.../money/v2` -> money, `yaml.v3` -> yaml."""
    parts = [p for p in import_path.split("/") if p]
    last = parts[-1] if parts else import_path
    if re.fullmatch(r"v\d+", last) and len(parts) > 1:
        last = parts[-2]
    last = re.sub(r"\.v\d+$", "", last)
    return last.removeprefix("go-").replace("-", "_")


_DEFINITIONS = """
(function_declaration name: (identifier) @name parameters: (parameter_list) @params
  result: (_)? @returns body: (block)? @body) @definition.function
(method_declaration
  receiver: (parameter_list (parameter_declaration name: (identifier)? @receiver type: (_) @owner))
  name: (field_identifier) @name parameters: (parameter_list) @params
  result: (_)? @returns body: (block)? @body) @definition.method
(type_spec name: (type_identifier) @name) @definition.class
(method_elem name: (field_identifier) @name parameters: (parameter_list) @params
  result: (_)? @returns) @definition.function
(type_alias name: (type_identifier) @name type: (_) @value) @definition.constant
(const_spec name: (identifier) @name value: (_)? @value) @definition.constant
(var_spec name: (identifier) @name value: (_)? @value) @definition.constant
"""

_PARAMETERS = """
(parameter_declaration name: (identifier)* @name type: (_) @type) @param.positional
(variadic_parameter_declaration name: (identifier)? @name type: (_) @type) @param.rest
"""

_CALLS = """
(call_expression function: (_) @callee arguments: (argument_list) @args) @call
"""

_IMPORTS = """
(import_spec name: (package_identifier) @alias path: (_) @source) @import.module
(import_spec !name path: (_) @source) @import.module
(import_spec name: (dot) path: (_) @source) @import.star
"""

_LOCALS = """
(field_declaration name: (field_identifier) @member type: (_) @member.type)
(short_var_declaration left: (expression_list . (identifier) @local .)
  right: (expression_list . (unary_expression operand: (composite_literal type: (_) @local.new)) .))
(short_var_declaration left: (expression_list . (identifier) @local .)
  right: (expression_list . (composite_literal type: (_) @local.new) .))
(short_var_declaration left: (expression_list (identifier) @local))
(var_spec name: (identifier) @local type: (_) @local.type)
(var_spec name: (identifier) @local)
(range_clause left: (expression_list (identifier) @local))
(parameter_declaration name: (identifier) @local)
(variadic_parameter_declaration name: (identifier) @local)
"""

_BUILTINS = words(
    """
    append cap clear close complex copy delete imag len make max min new panic print println
    real recover bool byte complex64 complex128 error float32 float64 int int8 int16 int32
    int64 rune string uint uint8 uint16 uint32 uint64 uintptr any
    """
)

GO_PROFILE = Profile(
    name="go",
    version=2,  # 2: imports are not exports
    exports="none",  # an import is never importable from here
    grammar="tree_sitter_go:language",
    definitions=_DEFINITIONS,
    parameters=_PARAMETERS,
    calls=_CALLS,
    imports=_IMPORTS,
    locals=_LOCALS,
    module_name=module_name,
    resolve_module=resolve_module,
    comment_types=frozenset({"comment"}),
    block_types=frozenset({"block", "statement_list", "field_declaration_list", "interface_type"}),
    identifier_types=frozenset({"identifier"}),
    member_fields=frozenset({("keyed_element", "key")}),
    access={"selector_expression": ("operand", "field", ".")},
    call_types={"call_expression": "function"},
    subscript_types={"index_expression": "operand"},
    wrappers={"parenthesized_expression": ""},
    builtins=_BUILTINS,
    implicit_scope="package",
    file_is_module=False,
    import_name=package_name,
)

GO = TreeSitterFrontend(GO_PROFILE)
