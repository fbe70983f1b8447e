"""Small helpers for the Go rules of the network pack (and SEC002).

Everything here works on one tree-sitter Go tree; per-file facts (the import
table) are cached on the ``FileContext``, so every rule of a file shares them.
"""

from __future__ import annotations

from typing import Iterator, Optional

from cnlint.golang import import_specs as _import_specs
from cnlint.golang import literal_value as _element
from cnlint.golang import text, unwrap  # noqa: F401 - the network rules use them from here

FUNCS = ("function_declaration", "method_declaration", "func_literal")
HTTP = "net/http"
TIME = "time"
CONTEXT = "context"


# ---- imports ----
def imports(ctx) -> dict[str, str]:
    """Package name used in this file -> import path (dot and blank imports left out)."""
    cached = getattr(ctx, "_cnlint_go_imports", None)
    if cached is not None and cached[0] is ctx.tree:
        return cached[1]
    table: dict[str, str] = {}
    for decl in ctx.tree.root_node.named_children:
        if decl.type != "import_declaration":
            continue
        for spec in _import_specs(decl):
            path = string_value(spec.child_by_field_name("path")) or ""
            name = spec.child_by_field_name("name")
            if name is None:
                table[default_name(path)] = path
            elif name.type == "package_identifier":
                table[text(name)] = path
    ctx._cnlint_go_imports = (ctx.tree, table)
    return table


def names_for(ctx, *paths: str) -> set[str]:
    """The local names under which any of ``paths`` is imported."""
    return {n for n, p in imports(ctx).items() if p in paths}


def default_name(path: str) -> str:
    parts = path.split("/")
    last = parts[-1]
    # "gopkg.in/yaml.v3" -> yaml; ".../v2" -> the element before it
    if len(parts) > 1 and last.startswith("v") and last[1:].isdigit():
        last = parts[-2]
    last = last.split(".")[0]
    # the Go convention for repositories named go-foo / foo-go: package foo
    # (github.com/coreos/go-oidc is package oidc, dgrijalva/jwt-go is package jwt)
    if last.startswith("go-"):
        last = last[3:]
    elif last.endswith("-go"):
        last = last[:-3]
    return last.replace("-", "")


# ---- expressions ----
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


def selector_call(call) -> tuple[Optional[object], str]:
    """``(operand, method)`` of a call ``operand.method(...)``, else ``(None, "")``."""
    fn = call.child_by_field_name("function") if call is not None and call.type == "call_expression" else None
    if fn is None or fn.type != "selector_expression":
        return None, ""
    return fn.child_by_field_name("operand"), text(fn.child_by_field_name("field"))


def package_call(ctx, call, paths: tuple[str, ...]) -> str:
    """``Name`` when ``call`` is ``pkg.Name(...)`` with ``pkg`` one of ``paths``, else ""."""
    operand, name = selector_call(call)
    if operand is None or operand.type != "identifier":
        return ""
    return name if imports(ctx).get(text(operand)) in paths else ""


def arguments(call) -> list:
    args = call.child_by_field_name("arguments")
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def literal_type(ctx, lit) -> tuple[str, str]:
    """``(import path, type name)`` of a composite literal ``pkg.T{...}`` (else ("", ""))."""
    typ = lit.child_by_field_name("type") if lit is not None else None
    while typ is not None and typ.type in ("pointer_type", "generic_type") and typ.named_child_count:
        typ = typ.child_by_field_name("type") or typ.named_children[-1]
    if typ is None or typ.type != "qualified_type":
        return "", ""
    pkg = text(typ.child_by_field_name("package"))
    return imports(ctx).get(pkg, ""), text(typ.child_by_field_name("name"))


def keyed_elements(body) -> tuple[dict[str, tuple], bool]:
    """``{key: (keyed_element, value node)}`` of a ``literal_value``, and whether
    it has unkeyed (positional) elements."""
    out: dict[str, tuple] = {}
    positional = False
    if body is None:
        return out, positional
    for el in body.named_children:
        if el.type == "keyed_element" and el.named_child_count >= 2:
            key = _element(el.named_children[0])
            out[text(key)] = (el, _element(el.named_children[-1]))
        elif el.type == "literal_element":
            positional = True
    return out, positional


# ---- structure ----
def enclosing(node, types) -> Optional[object]:
    node = node.parent if node is not None else None
    while node is not None and node.type not in types:
        node = node.parent
    return node


def outermost_function(node):
    """The top-level function or method declaration around ``node`` (closures included)."""
    found = None
    node = node.parent if node is not None else None
    while node is not None:
        if node.type in FUNCS:
            found = node
        node = node.parent
    return found


def walk(node, skip_funcs: bool = False) -> Iterator:
    """Named descendants of ``node``, in document order (``node`` included)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        children = [c for c in n.named_children if not (skip_funcs and c.type == "func_literal")]
        stack.extend(reversed(children))


def function_name(fn) -> str:
    if fn is None or fn.type == "func_literal":
        return ""
    return text(fn.child_by_field_name("name"))


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


def is_test_file(ctx) -> bool:
    return ctx.is_test_file
