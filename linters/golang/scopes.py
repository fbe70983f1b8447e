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
    return (decl for n, decl in _all_declarations(scope) if n == name)


def _all_declarations(scope) -> Iterator[tuple[str, Declaration]]:
    """(name, declaration) of every name declared directly in ``scope``, in source order."""
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
                if n.type == "identifier":
                    if len(rs) == len(ls):
                        yield text(n), Declaration("value", rs[i], node.start_byte, node, index=i)
                    elif len(rs) == 1:
                        yield text(n), Declaration("multi", rs[0], node.start_byte, node, index=i)
        elif t in ("var_spec", "const_spec"):
            names = node.children_by_field_name("name")
            typ = node.child_by_field_name("type")
            value = node.child_by_field_name("value")
            vals = value.named_children if value is not None else []
            for i, n in enumerate(names):
                if len(vals) == len(names):
                    yield text(n), Declaration("value", vals[i], node.start_byte, node, typ, i)
                elif len(vals) == 1:
                    yield text(n), Declaration("multi", vals[0], node.start_byte, node, typ, i)
                elif typ is not None:
                    yield text(n), Declaration("type", typ, node.start_byte, node, typ, i)
        elif t in ("parameter_declaration", "variadic_parameter_declaration"):
            typ = node.child_by_field_name("type")
            for n in node.children_by_field_name("name"):
                yield text(n), Declaration("param", typ, node.start_byte, node, typ)
        elif t == "range_clause":
            left = node.child_by_field_name("left")
            idents = left.named_children if left is not None else []
            for i, n in enumerate(idents):
                kind = "range" if i == len(idents) - 1 and len(idents) == 2 else "range-key"
                yield text(n), Declaration(kind, node.child_by_field_name("right"), node.start_byte, node, index=i)
        elif t in ("type_switch_statement", "receive_statement"):
            left = node.child_by_field_name("alias") or node.child_by_field_name("left")
            for n in left.named_children if left is not None else ():
                yield text(n), Declaration("bound", None, node.start_byte, node)
        stack.extend(reversed(node.named_children))


class ScopeIndex:
    """One walk of a scope (a function, or the file), answering every later
    question about it: which declarations each name has, and where each name
    is changed (assigned, incremented or decremented, or its address passed to
    a call, anywhere in the scope including closures). Without it, a function
    that mentions one variable a thousand times was walked a thousand times."""

    def __init__(self, scope):
        self.declared: dict[str, list[Declaration]] = {}
        for name, decl in _all_declarations(scope):
            self.declared.setdefault(name, []).append(decl)
        self.changes: dict[str, list[tuple[int, int]]] = {}  # name -> (start byte, node id)
        for n in walk(scope):
            t = n.type
            if t == "assignment_statement":
                left = n.child_by_field_name("left")
                for x in left.named_children if left is not None else ():
                    if x.type == "identifier":
                        self._changed(text(x), n)
            elif t in ("inc_statement", "dec_statement"):
                if n.named_child_count:
                    self._changed(text(n.named_children[0]), n)
            elif t == "unary_expression" and n.parent is not None and n.parent.type == "argument_list" \
                    and text(n.child_by_field_name("operator")) == "&":
                operand = n.child_by_field_name("operand")
                if operand is not None and operand.type == "identifier":
                    self._changed(text(operand), n)

    def _changed(self, name: str, node) -> None:
        self.changes.setdefault(name, []).append((node.start_byte, node.id))


def scope_of(node):
    """The innermost function around ``node``, else the file."""
    return enclosing(node, FUNCS) or file_root(node)


def file_root(node):
    while node.parent is not None:
        node = node.parent
    return node


def resolve(node, name: Optional[str] = None, index=ScopeIndex) -> Optional[Declaration]:
    """The declaration ``name`` (default: the identifier ``node``) refers to at
    ``node``: the last one before it in the innermost enclosing function that
    declares it, else the first at file level; None when unknown (a package
    name, another file's declaration). ``index(scope)`` gives a scope's
    ``ScopeIndex`` (``GoSemantics`` passes one that builds each once per file)."""
    name = text(node) if name is None else name
    scope = enclosing(node, FUNCS)
    while scope is not None:
        found = None
        for decl in index(scope).declared.get(name, ()):
            if decl.start < node.start_byte and (found is None or decl.start >= found.start):
                found = decl
        if found is not None:
            return found
        scope = enclosing(scope, FUNCS)
    decls = index(file_root(node)).declared.get(name)
    return decls[0] if decls else None


def mutated(decl: Declaration, name: str, allowed=None, index=ScopeIndex) -> bool:
    """Whether the variable ``decl`` declares is changed after its declaration,
    anywhere in its scope including closures: assigned, incremented or
    decremented, or its address passed to a call (``flag.DurationVar(&d, ...)``
    writes it). Nothing inside the node ``allowed`` counts."""
    for start, node_id in index(scope_of(decl.stmt)).changes.get(name, ()):
        if node_id == decl.stmt.id or (allowed is not None and allowed.start_byte <= start < allowed.end_byte):
            continue
        return True
    return False


def constant_value(ident, allowed=None, index=ScopeIndex):
    """The initial value of the constant, or never-changed variable, that
    ``ident`` names; None when it is unknown or may change."""
    decl = resolve(ident, index=index)
    if decl is None or decl.kind != "value" or decl.stmt.type == "assignment_statement":
        return None
    if decl.stmt.type != "const_spec" and mutated(decl, text(ident), allowed, index):
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
