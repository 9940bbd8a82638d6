"""TypeScript (`.ts`, `.mts`, `.cts`, `.tsx` with the TSX grammar) and JavaScript
(`.js`, `.jsx`, `.mjs`, `.cjs`) profiles.

Module names are paths without the extension (`src/services/user`); an `index` file
names its folder, as the resolver does for `import "./services"`. Relative import
specifiers resolve against the importing file; `./user.js` in TypeScript ESM names
`user.ts`, so code extensions are dropped. Bare specifiers (`lodash`) stay as written.
"""

from __future__ import annotations

import posixpath

from driftcheck.symbols.languages.treesitter.frontend import TreeSitterFrontend
from driftcheck.symbols.languages.treesitter.profile import Profile, words

_CODE_EXTENSIONS = (
    ".d.ts", ".d.mts", ".d.cts", ".tsx", ".ts", ".mts", ".cts", ".jsx", ".js", ".mjs", ".cjs",
)  # fmt: skip


def _strip_extension(path: str) -> str:
    lowered = path.lower()
    for ext in _CODE_EXTENSIONS:
        if lowered.endswith(ext):
            return path[: -len(ext)]
    return path


def module_name(path: str) -> tuple[str, bool]:
    """`src/services/user.ts` -> ("src/services/user", False); `src/index.ts` -> ("src", True)."""
    clean = _strip_extension(path.replace("\\", "/").removeprefix("./"))
    parts = [p for p in clean.split("/") if p]
    is_package = bool(parts) and parts[-1] == "index"
    if is_package:
        parts.pop()
    return "/".join(parts), is_package


def resolve_module(spec: str, module: str, is_package: bool) -> str:
    """`../models/user.js` imported by `src/services/user` -> `src/models/user`."""
    if not spec.startswith("."):
        return spec
    folder = module if is_package else module.rpartition("/")[0]
    joined = posixpath.normpath(posixpath.join(folder or ".", spec))
    if joined.startswith(".."):
        return spec  # above the repository root: keep it as written
    joined = _strip_extension(joined)
    if joined == "index" or joined.endswith("/index"):
        joined = joined[: -len("index")].rstrip("/")
    return "" if joined == "." else joined


# -- queries shared by both grammars --------------------------------------------


def _function_value(ret: str) -> str:
    """Function expressions bound to a name; `ret` captures a return type (TS only)."""
    return f"""[
  (arrow_function parameters: (formal_parameters) @params {ret} body: (_) @body)
  (arrow_function parameter: (identifier) @params body: (_) @body)
  (function_expression parameters: (formal_parameters) @params {ret} body: (_) @body)
  (generator_function parameters: (formal_parameters) @params {ret} body: (_) @body)
]"""


def _definitions(ret: str) -> str:
    value = _function_value(ret)
    return f"""
(function_declaration name: (identifier) @name parameters: (formal_parameters) @params
  {ret} body: (statement_block) @body) @definition.function
(generator_function_declaration name: (identifier) @name parameters: (formal_parameters) @params
  {ret} body: (statement_block) @body) @definition.function
(program (lexical_declaration (variable_declarator name: (identifier) @name value: {value})
  @definition.function))
(program (variable_declaration (variable_declarator name: (identifier) @name value: {value})
  @definition.function))
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name
  value: {value}) @definition.function))
((method_definition name: (property_identifier) @name parameters: (formal_parameters) @params
  body: (statement_block) @body) @definition.constructor (#eq? @name "constructor"))
(method_definition name: (_) @name parameters: (formal_parameters) @params
  {ret} body: (statement_block) @body) @definition.method
(program (lexical_declaration (variable_declarator name: (identifier) @name value: (_) @value)
  @definition.constant))
(program (variable_declaration (variable_declarator name: (identifier) @name value: (_) @value)
  @definition.constant))
(export_statement (lexical_declaration (variable_declarator name: (identifier) @name
  value: (_) @value) @definition.constant))
(export_statement (variable_declaration (variable_declarator name: (identifier) @name
  value: (_) @value) @definition.constant))
"""


_TS_RETURNS = "return_type: (_)? @returns"
# `@abstract` marks a member every implementer must define (an interface's method,
# an abstract method) and an abstract class; `@interface` marks an interface.
_TS_DEFINITIONS = f"""
(function_signature name: (identifier) @name parameters: (formal_parameters) @params
  return_type: (_)? @returns) @definition.function
(interface_body (method_signature name: (_) @name parameters: (formal_parameters) @params
  return_type: (_)? @returns) @definition.method @abstract)
(method_signature name: (_) @name parameters: (formal_parameters) @params
  return_type: (_)? @returns) @definition.method
(abstract_method_signature name: (_) @name parameters: (formal_parameters) @params
  return_type: (_)? @returns) @definition.method @abstract
(public_field_definition name: (_) @name value: {_function_value(_TS_RETURNS)}) @definition.method
(class_declaration name: (_) @name (class_heritage)? @bases) @definition.class
(abstract_class_declaration name: (_) @name (class_heritage)? @bases) @definition.class @abstract
(interface_declaration name: (_) @name (extends_type_clause)? @bases) @definition.class @interface
(enum_declaration name: (_) @name) @definition.class
(type_alias_declaration name: (_) @name value: (_) @value) @definition.constant
(internal_module name: (_) @name) @definition.scope
"""

_JS_DEFINITIONS = f"""
(field_definition property: (_) @name value: {_function_value("")}) @definition.method
(class_declaration name: (_) @name (class_heritage)? @bases) @definition.class
"""

_TS_PARAMETERS = """
(required_parameter pattern: (this)) @param.skip
(required_parameter pattern: (rest_pattern (_) @name) type: (_)? @type) @param.rest
(required_parameter pattern: (_) @name type: (_)? @type value: (_) @default) @param.optional
(required_parameter pattern: (_) @name type: (_)? @type) @param.positional
(optional_parameter pattern: (_) @name type: (_)? @type value: (_)? @default) @param.optional
"""

_JS_PARAMETERS = """
(formal_parameters (identifier) @name @param.positional)
(formal_parameters (assignment_pattern left: (_) @name right: (_) @default) @param.optional)
(formal_parameters (rest_pattern (_) @name) @param.rest)
(formal_parameters [(object_pattern) (array_pattern)] @name @param.positional)
"""

_CALLS = """
(call_expression function: (_) @callee arguments: (arguments) @args) @call
(new_expression constructor: (_) @callee arguments: (arguments)? @args) @call.new
"""

_SOURCE = "source: (string (string_fragment) @source)"
_REQUIRE = (
    "value: (call_expression function: (identifier) @_require "
    "arguments: (arguments . (string (string_fragment) @source)))"
)
_IMPORTS = f"""
(import_statement (import_clause (identifier) @alias) {_SOURCE}) @import.default
(import_statement (import_clause (namespace_import (identifier) @alias)) {_SOURCE}) @import.module
(import_statement (import_clause (named_imports
  (import_specifier name: (_) @name alias: (_)? @alias))) {_SOURCE}) @import.member
(export_statement (export_clause (export_specifier name: (_) @name alias: (_)? @alias))
  {_SOURCE}) @export.member
(export_statement "*" {_SOURCE}) @import.star
(export_statement (export_clause (export_specifier name: (_) @name alias: (_) @alias)) !source)
  @export.local
(export_statement (export_clause (export_specifier name: (_) @name !alias)) !source)
  @export.name
(export_statement "default" declaration: (_ name: (_) @name)) @export.default
(export_statement "default" value: (identifier) @name) @export.default
((variable_declarator name: (identifier) @alias {_REQUIRE}) @import.module
  (#eq? @_require "require"))
((variable_declarator name: (object_pattern (shorthand_property_identifier_pattern) @name)
  {_REQUIRE}) @import.member (#eq? @_require "require"))
((variable_declarator
  name: (object_pattern (pair_pattern key: (_) @name value: (identifier) @alias))
  {_REQUIRE}) @import.member (#eq? @_require "require"))
"""

_LOCALS = """
(variable_declarator name: (identifier) @local value: (new_expression constructor: (_) @local.new))
(variable_declarator name: (identifier) @local)
(variable_declarator name: [(object_pattern) (array_pattern)] @local.pattern)
(for_in_statement left: (identifier) @local)
(catch_clause parameter: (_) @local.pattern)
(arrow_function parameter: (identifier) @local)
(function_declaration name: (identifier) @local)
(class_declaration name: (_) @local)
"""

_TS_LOCALS = """
(public_field_definition name: (property_identifier) @member
  type: (type_annotation (_) @member.type))
(public_field_definition name: (property_identifier) @member value: (new_expression
  constructor: (_) @member.new))
(required_parameter (accessibility_modifier) pattern: (identifier) @member
  type: (type_annotation (_) @member.type))
(variable_declarator name: (identifier) @local type: (type_annotation (_) @local.type))
(required_parameter pattern: (_) @local.pattern)
(optional_parameter pattern: (_) @local.pattern)
"""

_JS_LOCALS = """
(field_definition property: (property_identifier) @member value: (new_expression
  constructor: (_) @member.new))
(formal_parameters [(identifier) (object_pattern) (array_pattern)] @local.pattern)
(formal_parameters (assignment_pattern left: (_) @local.pattern))
(formal_parameters (rest_pattern (_) @local.pattern))
"""

# Globals every runtime has: a call on them is never a call into the project.
_BUILTINS = words(
    """
    require import super console Math JSON Object Array Promise Number String Boolean Symbol
    Reflect Proxy Date RegExp Error TypeError RangeError Map Set WeakMap WeakSet BigInt Intl
    parseInt parseFloat isNaN isFinite setTimeout clearTimeout setInterval clearInterval
    queueMicrotask structuredClone fetch process Buffer globalThis window document
    encodeURIComponent decodeURIComponent encodeURI decodeURI URL URLSearchParams
    """
)

_COMMON = {
    "comment_types": frozenset({"comment", "html_comment"}),
    "block_types": frozenset({"statement_block", "class_body", "interface_body", "enum_body"}),
    "identifier_types": frozenset(
        {"identifier", "shorthand_property_identifier", "shorthand_property_identifier_pattern"}
    ),
    "access": {"member_expression": ("object", "property", ".")},
    "call_types": {"call_expression": "function", "new_expression": "new:constructor"},
    "subscript_types": {"subscript_expression": "object"},
    "wrappers": {
        "parenthesized_expression": "",
        "non_null_expression": "",
        "await_expression": "",
        "as_expression": "",
        "satisfies_expression": "",
    },
    "self_names": frozenset({"this"}),
    "builtins": _BUILTINS,
    "modifiers": {"static": "static", "async": "async", "get": "getter", "set": "setter"},
    "base_holders": frozenset(
        {"class_heritage", "extends_clause", "implements_clause", "extends_type_clause"}
    ),
    "constructor": "constructor",
    "module_name": module_name,
    "resolve_module": resolve_module,
    "exports": "declared",
}

TYPESCRIPT_PROFILE = Profile(
    name="typescript",
    version=3,  # 2: required members and interfaces marked; 3: exports apart from imports
    grammar="tree_sitter_typescript:language_typescript",
    grammars={".tsx": "tree_sitter_typescript:language_tsx"},
    definitions=_definitions(_TS_RETURNS) + _TS_DEFINITIONS,
    parameters=_TS_PARAMETERS,
    calls=_CALLS,
    imports=_IMPORTS,
    locals=_TS_LOCALS + _LOCALS,
    **_COMMON,  # type: ignore[arg-type]
)

JAVASCRIPT_PROFILE = Profile(
    name="javascript",
    version=2,  # 2: exports apart from imports
    grammar="tree_sitter_javascript:language",
    definitions=_definitions("") + _JS_DEFINITIONS,
    parameters=_JS_PARAMETERS,
    calls=_CALLS,
    imports=_IMPORTS,
    locals=_JS_LOCALS + _LOCALS,
    **_COMMON,  # type: ignore[arg-type]
)

TYPESCRIPT = TreeSitterFrontend(TYPESCRIPT_PROFILE)
JAVASCRIPT = TreeSitterFrontend(JAVASCRIPT_PROFILE)
