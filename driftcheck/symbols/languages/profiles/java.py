"""Java profile (`.java`).

A file's module is its `package` (several files share it); without a declaration
it is read from the path below `src/main/java/`, `java/` or `src/`. Overloads are
told apart by arity: `Pricing.total/1` and `Pricing.total/2` are two symbols, and a
call with two arguments resolves to `.../2`. Constructors are `<init>`, as in stack
traces. A bare call is a method of the enclosing class (or a static import), and an
unqualified capitalised name is a class of the same package.
"""

from __future__ import annotations

from driftcheck.symbols.languages.treesitter.frontend import TreeSitterFrontend
from driftcheck.symbols.languages.treesitter.profile import Profile, words


def module_name(path: str) -> tuple[str, bool]:
    """`src/main/java/com/shop/Pricing.java` -> ("com.shop", False)."""
    parts = [p for p in path.replace("\\", "/").removeprefix("./").split("/") if p][:-1]
    for marker in ("java", "src"):
        if marker in parts:
            parts = parts[len(parts) - parts[::-1].index(marker) :]
            break
    return ".".join(parts), False


def resolve_module(spec: str, module: str, is_package: bool) -> str:
    return spec.replace(" ", "")


_DEFINITIONS = """
(class_declaration name: (identifier) @name superclass: (_)? @bases interfaces: (_)? @bases)
  @definition.class
(interface_declaration name: (identifier) @name (extends_interfaces)? @bases) @definition.class
(enum_declaration name: (identifier) @name interfaces: (_)? @bases) @definition.class
(record_declaration name: (identifier) @name) @definition.class
(annotation_type_declaration name: (identifier) @name) @definition.class
(constructor_declaration name: (identifier) @name parameters: (formal_parameters) @params
  body: (constructor_body) @body) @definition.constructor
(method_declaration type: (_) @returns name: (identifier) @name
  parameters: (formal_parameters) @params body: (block)? @body) @definition.method
"""

_PARAMETERS = """
(receiver_parameter) @param.skip
(formal_parameter type: (_) @type name: (identifier) @name) @param.positional
(spread_parameter (_) @type (variable_declarator name: (identifier) @name)) @param.rest
"""

_CALLS = """
(method_invocation object: (_)? @receiver name: (identifier) @callee
  arguments: (argument_list) @args) @call
(object_creation_expression type: (_) @callee arguments: (argument_list) @args) @call.new
"""

_IMPORTS = """
(package_declaration (_) @package)
(import_declaration (scoped_identifier scope: (_) @source name: (identifier) @name) .)
  @import.member
(import_declaration (scoped_identifier) @source (asterisk)) @import.star
"""

_LOCALS = """
(field_declaration type: (_) @member.type
  declarator: (variable_declarator name: (identifier) @member))
((local_variable_declaration type: (_) @local.type declarator: (variable_declarator
  name: (identifier) @local)) (#not-eq? @local.type "var"))
(local_variable_declaration declarator: (variable_declarator name: (identifier) @local
  value: (object_creation_expression type: (_) @local.new)))
(local_variable_declaration declarator: (variable_declarator name: (identifier) @local))
(enhanced_for_statement type: (_) @local.type name: (identifier) @local)
(catch_formal_parameter name: (identifier) @local)
(lambda_expression parameters: (identifier) @local)
(inferred_parameters (identifier) @local)
(formal_parameter name: (identifier) @local)
(resource name: (identifier) @local)
"""

# java.lang and other classes every file sees without an import.
_BUILTINS = words(
    """
    super System String Math Integer Long Double Float Short Byte Boolean Character Object
    Objects Thread StringBuilder Class Enum Runtime Character Number Iterable Exception
    RuntimeException IllegalArgumentException IllegalStateException
    """
)

JAVA_PROFILE = Profile(
    name="java",
    version=2,  # 2: imports are not exports
    exports="none",  # an import is never importable from here
    grammar="tree_sitter_java:language",
    definitions=_DEFINITIONS,
    parameters=_PARAMETERS,
    calls=_CALLS,
    imports=_IMPORTS,
    locals=_LOCALS,
    module_name=module_name,
    resolve_module=resolve_module,
    comment_types=frozenset({"line_comment", "block_comment"}),
    block_types=frozenset(
        {"block", "constructor_body", "class_body", "interface_body", "enum_body", "switch_block"}
    ),
    identifier_types=frozenset({"identifier"}),
    member_fields=frozenset(
        {("method_invocation", "name"), ("field_access", "field"), ("scoped_identifier", "name")}
    ),
    access={
        "field_access": ("object", "field", "."),
        "scoped_identifier": ("scope", "name", "."),
    },
    call_types={"object_creation_expression": "new:type"},
    invocation_types={"method_invocation": ("object", "name")},
    wrappers={"parenthesized_expression": ""},
    self_names=frozenset({"this"}),
    builtins=_BUILTINS,
    modifiers={"static": "static"},
    modifier_holders=frozenset({"modifiers"}),
    base_holders=frozenset({"superclass", "super_interfaces", "extends_interfaces", "type_list"}),
    arity_in_name=True,
    constructor="<init>",
    implicit_scope="types",
    file_is_module=False,
    # ERE: `]` and `[` go first in a bracket expression to be literal there.
)

JAVA = TreeSitterFrontend(JAVA_PROFILE)
