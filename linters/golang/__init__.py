"""The Go semantic layer: what rules ask about a Go file, computed once.

``self.ctx.go`` is the file's ``GoSemantics`` (import table, call targets,
types of local expressions, declarations, constant durations), built on first
use and shared by every rule. The modules hold the pieces:

- ``syntax``: node text, walks, enclosing functions, call arguments and
  selectors, keyed elements of composite literals;
- ``loops``: loops around a node, their headers and bodies;
- ``imports``: the import table and the package name of an import path;
- ``scopes``: declarations and name resolution;
- ``constants``: constant ``time.Duration`` evaluation, Go's duration format.
"""

from .constants import Duration, format_duration, parse_duration
from .imports import ImportTable, assumed_package_name
from .loops import breaks_loop, enclosing_loops, is_bounded_loop, loop_header, loop_level_nodes, loop_variables
from .scopes import Declaration, declarations, values_assigned_before
from .semantics import GoSemantics, GoType
from .syntax import (
    FUNCS, NAMED_FUNCS, bound_name, call_args, contains, descendants, enclosing, enclosing_function,
    enclosing_function_name, enclosing_functions, function_name, has_positional_elements, identifiers_in,
    import_specs, is_immediately_called, keyed, keyed_elements, literal_value, outermost_function, params,
    root_identifier, selector_parts, strip_pointer, string_value, text, unwrap, walk,
)

__all__ = [
    "FUNCS", "NAMED_FUNCS", "Declaration", "Duration", "GoSemantics", "GoType", "ImportTable",
    "assumed_package_name", "bound_name", "breaks_loop", "call_args", "contains", "declarations", "descendants",
    "enclosing", "enclosing_function", "enclosing_function_name", "enclosing_functions", "enclosing_loops",
    "format_duration", "function_name", "has_positional_elements", "identifiers_in", "import_specs",
    "is_bounded_loop", "is_immediately_called", "keyed", "keyed_elements", "literal_value", "loop_header",
    "loop_level_nodes", "loop_variables", "outermost_function", "params", "parse_duration", "root_identifier",
    "selector_parts", "strip_pointer", "string_value", "text", "unwrap", "values_assigned_before", "walk",
]
