"""Declarations and name resolution inside one Go file.

A function's scope is its parameters, receiver, named results and body
(blocks are not told apart: a declaration anywhere in the body counts); nested
function literals are scopes of their own; the file scope holds top-level
``var`` and ``const`` declarations.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple, Optional

from .syntax import FUNCS, enclosing, outermost_function, text, walk


class Declaration(NamedTuple):
    """One declaration of a name.

    ``kind``: "value" (``node`` is the initial value), "multi" (``a, b := f()``:
    ``node`` is the call, ``index`` the name's position), "type" (a ``var``
    without a value: ``node`` is the declared type), "param" (``node`` is the
    type), "range" / "range-key" (``node`` is the ranged expression) or
    "bound" (a type switch or receive binds it: value unknown).
    ``type`` is the declared type when the statement spells one."""

    kind: str
    node: object
    start: int
    stmt: object
    type: object = None
    index: int = 0


def declarations(scope, name: str) -> Iterator[Declaration]:
    """Declarations of ``name`` directly in ``scope`` (a function or the file)."""
    if scope.type == "source_file":
        stack = [n for n in reversed(scope.named_children) if n.type in ("var_declaration", "const_declaration")]
    else:
        stack = [scope.child_by_field_name(f) for f in ("body", "result", "parameters", "receiver")]
        stack = [n for n in stack if n is not None]
    while stack:
        node = stack.pop()
        t = node.type
        if t in FUNCS:
            continue
        if t == "short_var_declaration" or (t == "assignment_statement"
                                            and text(node.child_by_field_name("operator")) == "="):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            ls = left.named_children if left is not None else []
            rs = right.named_children if right is not None else []
            for i, n in enumerate(ls):
                if n.type == "identifier" and text(n) == name:
                    if len(rs) == len(ls):
                        yield Declaration("value", rs[i], node.start_byte, node, index=i)
                    elif len(rs) == 1:
                        yield Declaration("multi", rs[0], node.start_byte, node, index=i)
        elif t in ("var_spec", "const_spec"):
            names = node.children_by_field_name("name")
            typ = node.child_by_field_name("type")
            value = node.child_by_field_name("value")
            vals = value.named_children if value is not None else []
            for i, n in enumerate(names):
                if text(n) == name:
                    if len(vals) == len(names):
                        yield Declaration("value", vals[i], node.start_byte, node, typ, i)
                    elif len(vals) == 1:
                        yield Declaration("multi", vals[0], node.start_byte, node, typ, i)
                    elif typ is not None:
                        yield Declaration("type", typ, node.start_byte, node, typ, i)
        elif t in ("parameter_declaration", "variadic_parameter_declaration"):
            if any(text(n) == name for n in node.children_by_field_name("name")):
                typ = node.child_by_field_name("type")
                yield Declaration("param", typ, node.start_byte, node, typ)
        elif t == "range_clause":
            left = node.child_by_field_name("left")
            idents = left.named_children if left is not None else []
            for i, n in enumerate(idents):
                if text(n) == name:
                    kind = "range" if i == len(idents) - 1 and len(idents) == 2 else "range-key"
                    yield Declaration(kind, node.child_by_field_name("right"), node.start_byte, node, index=i)
        elif t in ("type_switch_statement", "receive_statement"):
            left = node.child_by_field_name("alias") or node.child_by_field_name("left")
            if left is not None and any(text(n) == name for n in left.named_children):
                yield Declaration("bound", None, node.start_byte, node)
        stack.extend(reversed(node.named_children))


def file_root(node):
    while node.parent is not None:
        node = node.parent
    return node


def resolve(node, name: Optional[str] = None) -> Optional[Declaration]:
    """The declaration ``name`` (default: the identifier ``node``) refers to at
    ``node``: the last one before it in the innermost enclosing function that
    declares it, else the first at file level; None when unknown (a package
    name, another file's declaration)."""
    name = text(node) if name is None else name
    scope = enclosing(node, FUNCS)
    while scope is not None:
        found = None
        for decl in declarations(scope, name):
            if decl.start < node.start_byte and (found is None or decl.start >= found.start):
                found = decl
        if found is not None:
            return found
        scope = enclosing(scope, FUNCS)
    return next(declarations(file_root(node), name), None)


def mutated(decl: Declaration, name: str, allowed=None) -> bool:
    """Whether the variable ``decl`` declares is changed after its declaration,
    anywhere in its scope including closures: assigned, incremented or
    decremented, or its address passed to a call (``flag.DurationVar(&d, ...)``
    writes it). Nothing inside the node ``allowed`` counts."""
    scope = enclosing(decl.stmt, FUNCS) or file_root(decl.stmt)
    for n in walk(scope):
        if n.id == decl.stmt.id or (allowed is not None and allowed.start_byte <= n.start_byte < allowed.end_byte):
            continue
        if n.type == "assignment_statement":
            left = n.child_by_field_name("left")
            if left is not None and any(x.type == "identifier" and text(x) == name for x in left.named_children):
                return True
        elif n.type in ("inc_statement", "dec_statement"):
            if n.named_child_count and text(n.named_children[0]) == name:
                return True
        elif n.type == "unary_expression" and text(n.child_by_field_name("operator")) == "&":
            operand = n.child_by_field_name("operand")
            if operand is not None and operand.type == "identifier" and text(operand) == name \
                    and n.parent is not None and n.parent.type == "argument_list":
                return True
    return False


def constant_value(ident, allowed=None):
    """The initial value of the constant, or never-changed variable, that
    ``ident`` names; None when it is unknown or may change."""
    decl = resolve(ident)
    if decl is None or decl.kind != "value" or decl.stmt.type == "assignment_statement":
        return None
    if decl.stmt.type != "const_spec" and mutated(decl, text(ident), allowed):
        return None
    return decl.node


def values_assigned_before(at, name: str) -> Iterator:
    """The values given to ``name`` (declarations and assignments) before
    ``at`` in the outermost function around it, closures included, in source
    order; for ``a, b := f()`` the call."""
    fn = outermost_function(at)
    for node in walk(fn) if fn is not None else ():
        if node.start_byte >= at.start_byte:
            break
        if node.type in ("short_var_declaration", "var_spec", "assignment_statement"):
            left = node.child_by_field_name("left")
            names = left.named_children if left is not None else node.children_by_field_name("name")
            right = node.child_by_field_name("right") or node.child_by_field_name("value")
            values = right.named_children if right is not None else []
            for i, n in enumerate(names):
                if text(n) == name and (len(values) == len(names) or len(values) == 1):
                    yield values[i] if len(values) == len(names) else values[0]
