"""Questions about tree-sitter-go syntax that need no other facts: node text,
walks, the function around a node, call arguments and selectors, keyed
elements of composite literals (in both grammar shapes)."""

from __future__ import annotations

from typing import Iterator, Optional

FUNCS = ("function_declaration", "method_declaration", "func_literal")
NAMED_FUNCS = ("function_declaration", "method_declaration")


def text(node) -> str:
    """The source text of ``node`` ("" for None)."""
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def string_value(node) -> Optional[str]:
    """The value of a Go string literal (simple escapes only), else None."""
    if node is None:
        return None
    raw = text(node)
    if node.type == "raw_string_literal":
        return raw[1:-1]
    if node.type == "interpreted_string_literal":
        body = raw[1:-1]
        if "\\" in body:
            body = body.replace('\\"', '"').replace("\\\\", "\\")
        return body
    return None


def import_specs(decl) -> Iterator:
    """The ``import_spec`` nodes of an ``import_declaration`` (single or grouped)."""
    for child in decl.named_children:
        if child.type == "import_spec":
            yield child
        elif child.type == "import_spec_list":
            yield from (c for c in child.named_children if c.type == "import_spec")


def unwrap(node, *, deref: bool = False):
    """Strip parentheses and ``&`` (and ``*`` with ``deref``) from an expression."""
    ops = ("&", "*") if deref else ("&",)
    while node is not None:
        if node.type == "parenthesized_expression" and node.named_child_count:
            node = node.named_children[0]
        elif node.type == "unary_expression" and text(node.child_by_field_name("operator")) in ops:
            node = node.child_by_field_name("operand")
        else:
            return node
    return None


def strip_pointer(node):
    """The type under pointers and parentheses: ``T`` of ``*T``, ``(*T)``."""
    while node is not None and node.type in ("pointer_type", "parenthesized_type") and node.named_child_count:
        node = node.named_children[-1]
    return node


def literal_value(node):
    """The expression inside a ``literal_element`` (tree-sitter-go >= 0.21 wraps
    composite literal keys and values in one); other nodes unchanged."""
    if node is not None and node.type == "literal_element" and node.named_child_count:
        return node.named_children[0]
    return node


# ---- walks and enclosing nodes ----
def walk(node, *, into_funcs: bool = True) -> Iterator:
    """Pre-order walk of ``node`` and its named descendants; with
    ``into_funcs=False`` nested function literals are yielded but not entered."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if not into_funcs and n is not node and n.type in FUNCS:
            continue
        stack.extend(reversed(n.named_children))


def descendants(node, *, into_funcs: bool = True) -> Iterator:
    """Like ``walk`` without ``node`` itself."""
    it = walk(node, into_funcs=into_funcs)
    next(it)
    return it


def enclosing(node, types) -> Optional[object]:
    """The nearest ancestor of ``node`` whose type is one of ``types``."""
    node = node.parent if node is not None else None
    while node is not None and node.type not in types:
        node = node.parent
    return node


def enclosing_function(node):
    """The innermost function (declaration, method or literal) around ``node``."""
    return enclosing(node, FUNCS)


def enclosing_functions(node) -> list:
    """The functions around ``node``, innermost first."""
    out, fn = [], enclosing(node, FUNCS)
    while fn is not None:
        out.append(fn)
        fn = enclosing(fn, FUNCS)
    return out


def outermost_function(node):
    """The outermost function around ``node`` (closures included)."""
    functions = enclosing_functions(node)
    return functions[-1] if functions else None


def function_name(fn) -> str:
    """The name of a function or method declaration ("" for a literal or None)."""
    return text(fn.child_by_field_name("name")) if fn is not None and fn.type in NAMED_FUNCS else ""


def enclosing_function_name(node) -> str:
    """The name of the nearest named function around ``node`` ("" at file level)."""
    return function_name(enclosing(node, NAMED_FUNCS))


def contains(outer, inner) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


def identifiers_in(node) -> set[str]:
    """The names of all identifiers in ``node`` (itself included)."""
    if node is None:
        return set()
    return {text(n) for n in walk(node) if n.type == "identifier"}


def root_identifier(expr):
    """``pod`` for ``pod.Spec.Containers[0].Image``, ``*pod.Spec.Replicas``, ``(pod).X``."""
    node = expr
    while node is not None:
        t = node.type
        if t == "identifier":
            return node
        if t in ("selector_expression", "index_expression", "slice_expression"):
            node = node.child_by_field_name("operand")
        elif t == "parenthesized_expression" and node.named_child_count:
            node = node.named_children[0]
        elif t == "unary_expression" and text(node.child_by_field_name("operator")) in ("*", "&"):
            node = node.child_by_field_name("operand")
        else:
            return None
    return None


def bound_name(expr) -> Optional[object]:
    """The variable or field an expression is assigned to (``x := expr``,
    ``x = expr``, ``var x = expr``, ``s.f = expr``), else None."""
    node, parent = expr, expr.parent
    while parent is not None and parent.type in ("parenthesized_expression", "unary_expression"):
        node, parent = parent, parent.parent
    if parent is None or parent.type != "expression_list":
        return None
    stmt = parent.parent
    if stmt is None:
        return None
    if stmt.type in ("short_var_declaration", "assignment_statement"):
        left, right = stmt.child_by_field_name("left"), stmt.child_by_field_name("right")
        if right is None or right.id != parent.id or left is None:
            return None
        idx = [c.id for c in right.named_children].index(node.id)
        lefts = left.named_children
        return lefts[idx] if idx < len(lefts) and len(lefts) == len(right.named_children) else None
    if stmt.type == "var_spec":
        names = stmt.children_by_field_name("name")
        idx = [c.id for c in parent.named_children].index(node.id)
        return names[idx] if idx < len(names) else None
    return None


# ---- calls ----
def call_args(call) -> list:
    """The argument expressions of a call (comments left out)."""
    args = call.child_by_field_name("arguments") if call is not None else None
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def selector_parts(call) -> tuple[object, str]:
    """(operand, field name) of a call ``operand.Field(...)``, else (None, "")."""
    fn = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
    if fn is None or fn.type != "selector_expression":
        return None, ""
    return fn.child_by_field_name("operand"), text(fn.child_by_field_name("field"))


def is_immediately_called(func_literal) -> bool:
    """``func(){...}()`` and ``go func(){...}()``: the literal runs where it stands."""
    parent = func_literal.parent
    fn = parent.child_by_field_name("function") if parent is not None and parent.type == "call_expression" else None
    return fn is not None and fn.id == func_literal.id


def params(fn) -> list[tuple[list[str], object]]:
    """``[(names, type node)]`` of a function's parameters."""
    plist = fn.child_by_field_name("parameters") if fn is not None else None
    if plist is None:
        return []
    return [([text(n) for n in p.children_by_field_name("name")], p.child_by_field_name("type"))
            for p in plist.named_children
            if p.type in ("parameter_declaration", "variadic_parameter_declaration")]


# ---- composite literals ----
def keyed(elem) -> tuple[str, object]:
    """(key text, value node) of a ``keyed_element`` in both grammar shapes:
    ``literal_element (identifier)`` (tree-sitter-go >= 0.21) and a bare
    ``field_identifier`` (older grammars); ("", None) for anything else."""
    if elem is None or elem.type != "keyed_element" or elem.named_child_count < 2:
        return "", None
    return text(literal_value(elem.named_children[0])), literal_value(elem.named_children[-1])


def keyed_elements(body) -> dict[str, tuple]:
    """``{key: (keyed_element, value node)}`` of a ``literal_value``, in source order."""
    out: dict[str, tuple] = {}
    for el in body.named_children if body is not None else ():
        key, value = keyed(el)
        if value is not None:
            out[key] = (el, value)
    return out


def has_positional_elements(body) -> bool:
    """Whether a ``literal_value`` has unkeyed elements (``T{a, b}``)."""
    return body is not None and any(el.type == "literal_element" for el in body.named_children)
