"""``GoSemantics``: the facts about one Go file that rules ask for, built once
per file and shared by every rule (``self.ctx.go``)."""

from __future__ import annotations

from functools import cached_property
from typing import Optional

from . import constants, scopes
from .imports import ImportTable, assumed_package_name
from .syntax import FUNCS, call_args, enclosing, params, strip_pointer, text, unwrap

#: A type is (import path, type name); a type declared in this file is ("", name).
GoType = tuple[str, str]

NET_HTTP = "net/http"
FRAMEWORK_CONTEXTS = ("github.com/gin-gonic/gin", "github.com/labstack/echo", "github.com/gofiber/fiber")
CTRL = "sigs.k8s.io/controller-runtime"
CTRL_RECONCILE = "sigs.k8s.io/controller-runtime/pkg/reconcile"


class GoSemantics:
    """Import table, call targets, types of local expressions, declarations and
    constant durations of one tree-sitter-go tree."""

    def __init__(self, tree, go_mod=None):
        self.root = tree.root_node
        self._go_mod = go_mod
        self._scopes: dict[int, scopes.ScopeIndex] = {}  # scope node id -> its index, for this tree

    def scope_index(self, scope) -> scopes.ScopeIndex:
        """The declarations and changes of ``scope`` (built once per file)."""
        index = self._scopes.get(scope.id)
        if index is None:
            index = self._scopes[scope.id] = scopes.ScopeIndex(scope)
        return index

    @cached_property
    def imports(self) -> ImportTable:
        return ImportTable(self.root, self._go_mod)

    # ---- names through the import table ----
    def qualified(self, node) -> Optional[GoType]:
        """(import path, name) of ``pkg.Name``: a selector on an imported
        package, a qualified type, or either with type arguments."""
        if node is None:
            return None
        if node.type == "selector_expression":
            pkg, name = node.child_by_field_name("operand"), node.child_by_field_name("field")
            if pkg is None or pkg.type != "identifier":
                return None
        elif node.type == "qualified_type":
            pkg, name = node.child_by_field_name("package"), node.child_by_field_name("name")
        elif node.type == "generic_type":
            return self.qualified(node.child_by_field_name("type"))
        else:
            return None
        path = self.imports.path_of(text(pkg))
        return (path, text(name)) if path is not None else None

    def package_function(self, call) -> Optional[GoType]:
        """``(import path, Func)`` of a call ``pkg.Func(...)`` (type arguments
        allowed), else None. Cheaper than ``call_target``: no receiver typing."""
        if call is None or call.type != "call_expression":
            return None
        fn = call.child_by_field_name("function")
        if fn is not None and fn.type == "generic_type":  # ptr.To[T](x) in some grammar versions
            fn = fn.child_by_field_name("type")
        return self.qualified(fn)

    def call_target(self, call) -> Optional[GoType]:
        """What a call calls: ``(import path, Func)`` for ``pkg.Func(...)``,
        ``(import path, "Type.Method")`` for a method on a receiver whose type
        this file shows (``c := &http.Client{}``; ``c.Do(req)``), ``("",
        "Type.Method")`` for a type declared in this package; else None."""
        found = self.package_function(call)
        fn = call.child_by_field_name("function") if call is not None else None
        if found is not None or fn is None or fn.type != "selector_expression":
            return found
        typ = self.type_of(fn.child_by_field_name("operand"))
        return (typ[0], f"{typ[1]}.{text(fn.child_by_field_name('field'))}") if typ is not None else None

    def package_call(self, call, *paths: str) -> str:
        """``Func`` when ``call`` is ``pkg.Func(...)`` with ``pkg`` one of ``paths``, else ""."""
        target = self.package_function(call)
        return target[1] if target is not None and target[0] in paths else ""

    # ---- types ----
    def type_ref(self, type_node) -> Optional[GoType]:
        """The named type under pointers and type arguments: (import path, name),
        ("", name) for a type of this file or package, None for other types."""
        t = strip_pointer(type_node)
        if t is not None and t.type == "generic_type":
            t = t.child_by_field_name("type")
        if t is not None and t.type == "qualified_type":
            return self.qualified(t)
        if t is not None and t.type == "type_identifier":
            return "", text(t)
        return None

    def literal_type(self, lit) -> GoType:
        """(import path, type name) of a composite literal ``pkg.T{...}``; ("", name)
        for a type of this package, ("", "") for anything else."""
        typ = lit.child_by_field_name("type") if lit is not None else None
        return self.type_ref(typ) or ("", "")

    def type_of(self, expr, results: Optional[dict] = None, depth: int = 0) -> Optional[GoType]:
        """The named type of an expression, from what the file shows: composite
        literals, ``new(T)``, and the declarations of local and package
        variables. ``results`` maps (import path, function) to the type a call
        of it returns, for calls the rule knows about."""
        expr = unwrap(expr, deref=True)
        if expr is None or depth > 4:
            return None
        if expr.type == "composite_literal":
            return self.type_ref(expr.child_by_field_name("type"))
        if expr.type == "call_expression":
            fn = expr.child_by_field_name("function")
            args = call_args(expr)
            if fn is not None and fn.type == "identifier" and text(fn) == "new" and len(args) == 1:
                return self.type_ref(args[0])
            return (results or {}).get(self.qualified(fn))
        if expr.type == "identifier":
            decl = self.resolve(expr)
            if decl is None:
                return None
            if decl.type is not None:
                return self.type_ref(decl.type)
            if decl.kind == "value" or (decl.kind == "multi" and decl.index == 0):
                return self.type_of(decl.node, results, depth + 1)
        return None

    # ---- declarations and constants ----
    def resolve(self, node, name: Optional[str] = None) -> Optional[scopes.Declaration]:
        """The declaration an identifier refers to (see ``scopes.resolve``)."""
        return scopes.resolve(node, name, self.scope_index)

    def constant_value(self, ident, allowed=None):
        """The value of the constant or never-changed variable ``ident`` names (see ``scopes.constant_value``)."""
        return scopes.constant_value(ident, allowed, self.scope_index)

    def duration(self, node, allowed=None) -> Optional[constants.Duration]:
        """The constant ``time.Duration`` value of an expression (see ``constants.duration``)."""
        return constants.duration(self, node, allowed)

    # ---- functions ----
    def handler_kind(self, fn) -> Optional[str]:
        """A description if ``fn`` serves one request per call: an HTTP handler
        ``(w http.ResponseWriter, r *http.Request)``, a gin/echo/fiber handler, or a
        controller-runtime ``Reconcile(ctx, req)``."""
        types = [self.type_ref(t) for _, t in params(fn)]
        if (NET_HTTP, "ResponseWriter") in types and (NET_HTTP, "Request") in types:
            return "HTTP handler"
        for t in types:
            if t is not None and t[0].startswith(FRAMEWORK_CONTEXTS) and t[1] in ("Context", "Ctx"):
                return f"{assumed_package_name(t[0])} handler"  # gin, echo, fiber
        if fn.type == "method_declaration" and text(fn.child_by_field_name("name")) == "Reconcile" \
                and len(types) == 2:
            t = types[1]
            if t is not None and t[1] == "Request" and t[0] in (CTRL, CTRL_RECONCILE):
                return "controller-runtime Reconcile (called once per event)"
        return None

    def enclosing_handler(self, node) -> tuple[Optional[object], Optional[str]]:
        """The innermost function around ``node`` that serves requests, and what kind."""
        fn = enclosing(node, FUNCS)
        while fn is not None:
            kind = self.handler_kind(fn)
            if kind is not None:
                return fn, kind
            fn = enclosing(fn, FUNCS)
        return None, None

    # ---- edits ----
    def ensure_import(self, rule, path: str, preferred: str):
        """The name to use for package ``path`` and an edit adding its import
        when the file lacks it (None when present)."""
        have = self.imports.alias_for(path)
        if have is not None:
            return have, None
        byte, prefix, suffix = self.imports.edit_point(stdlib="." not in path.split("/")[0])
        spec = f'"{path}"' if preferred == assumed_package_name(path) else f'{preferred} "{path}"'
        return preferred, rule.insert(byte, prefix + spec + suffix)
