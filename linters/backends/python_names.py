"""Qualified names of Python expressions, resolved from the imports in scope.

libcst's ``QualifiedNameProvider`` runs a full scope analysis of the module
before the first rule callback: on real files it costs more than parsing and
all the rules together. Rules only ask "which imported thing does this
``a.b.c`` refer to", so this module keeps, for the scopes the walk is in, the
names each one binds: imports map to what they import, other bindings
(assignments, parameters, ``def``/``class``, ``for``/``with``/``except``
targets) shadow outer imports. Names nobody binds resolve to ``builtins.<name>``
when they are builtins, else to nothing, as with libcst.

Bindings of a scope are collected when the walk enters it, from its statements
(not from nested functions), so an import below its use still counts, as it
does at run time for module-level names.
"""

from __future__ import annotations

import builtins
from typing import Iterable, Optional

import libcst as cst

_BUILTINS = frozenset(dir(builtins))
_LOCAL = ""  # marks a binding that is not an import


def dotted_name(node: cst.CSTNode) -> Optional[str]:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = dotted_name(node.value)
        return f"{inner}.{node.attr.value}" if inner else None
    return None


class _Scope:
    __slots__ = ("bindings", "is_class", "declared_global")

    def __init__(self, is_class: bool = False):
        self.bindings: dict[str, set[str]] = {}
        self.is_class = is_class
        self.declared_global: set[str] = set()

    def bind(self, name: str, target: str = _LOCAL) -> None:
        if name not in self.declared_global:
            self.bindings.setdefault(name, set()).add(target)


_IMPORTING = _Scope()  # on top of the stack inside import statements


class Scopes:
    """The scope stack of one walk over one module."""

    #: the node types ``enter`` pushes a scope for (the walker asks only for these)
    KINDS = frozenset({cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.Import, cst.ImportFrom})

    def __init__(self, module: cst.Module):
        top = _Scope()
        _collect(module.body, top)
        self.stack = [top]

    # called by the walker around every node
    def enter(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef):
            scope = _Scope()
            _bind_params(node.params, scope)
            _collect(node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,), scope)
        elif isinstance(node, cst.Lambda):
            scope = _Scope()
            _bind_params(node.params, scope)
        elif isinstance(node, cst.ClassDef):
            scope = _Scope(is_class=True)
            _collect(node.body.body if isinstance(node.body, cst.IndentedBlock) else (node.body,), scope)
        else:  # Import, ImportFrom
            scope = _IMPORTING
        self.stack.append(scope)
        return True

    def exit(self) -> None:
        self.stack.pop()

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        dotted = dotted_name(node)
        if dotted is None or self.stack[-1] is _IMPORTING:
            return set()  # names in an import statement are bound there, not read
        head, _, rest = dotted.partition(".")
        tail = "." + rest if rest else ""
        innermost = len(self.stack) - 1
        for i in range(innermost, -1, -1):
            scope = self.stack[i]
            if scope.is_class and i != innermost:
                continue  # class bodies are not enclosing scopes of their methods
            targets = scope.bindings.get(head)
            if targets:
                # a module-level variable is named by itself (as with libcst); one
                # local to a function or class names nothing a rule looks for
                return {(t or head) + tail for t in targets if t or i == 0}
        return {"builtins." + dotted} if head in _BUILTINS else set()


def _import_from_module(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    mod = dotted_name(node.module) if node.module is not None else ""
    return dots + (mod or "")


def _bind_target(target: cst.CSTNode, scope: _Scope) -> None:
    if isinstance(target, cst.Name):
        scope.bind(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            _bind_target(el.value, scope)
    elif isinstance(target, cst.StarredElement):
        _bind_target(target.value, scope)


def _bind_params(params: cst.Parameters, scope: _Scope) -> None:
    for p in (*params.posonly_params, *params.params, *params.kwonly_params):
        scope.bind(p.name.value)
    for p in (params.star_arg, params.star_kwarg):
        if isinstance(p, cst.Param):
            scope.bind(p.name.value)


def _collect(statements: Iterable[cst.CSTNode], scope: _Scope) -> None:
    """Bindings made by ``statements`` and the blocks nested in them, but not
    inside nested functions or classes (those only bind their own name)."""
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                _collect_small(small, scope)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            scope.bind(stmt.name.value)
        else:
            if isinstance(stmt, cst.For):
                _bind_target(stmt.target, scope)
            elif isinstance(stmt, cst.With):
                for item in stmt.items:
                    if item.asname is not None:
                        _bind_target(item.asname.name, scope)
            for handler in getattr(stmt, "handlers", ()):
                if handler.name is not None:
                    _bind_target(handler.name.name, scope)
            for block in _blocks(stmt):
                if isinstance(block, cst.SimpleStatementSuite):
                    for small in block.body:
                        _collect_small(small, scope)
                else:
                    _collect(block.body, scope)


def _blocks(stmt: cst.CSTNode):
    """The suites of a compound statement (body, else, handlers, finally, elif chain)."""
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield body
    for handler in getattr(stmt, "handlers", ()):
        yield handler.body
    orelse = getattr(stmt, "orelse", None)
    while orelse is not None:
        if isinstance(orelse, cst.If):
            yield orelse.body
            orelse = orelse.orelse
        else:
            yield orelse.body
            break
    final = getattr(stmt, "finalbody", None)
    if final is not None:
        yield final.body
    for case in getattr(stmt, "cases", ()):
        yield case.body


def _collect_small(small: cst.CSTNode, scope: _Scope) -> None:
    if isinstance(small, cst.Import):
        for alias in small.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                scope.bind(alias.asname.name.value, full)
            else:
                head = full.split(".", 1)[0]
                scope.bind(head, head)
    elif isinstance(small, cst.ImportFrom):
        if isinstance(small.names, cst.ImportStar):
            return
        mod = _import_from_module(small)
        sep = "" if mod.endswith(".") or not mod else "."
        for alias in small.names:
            name = dotted_name(alias.name) or ""
            local = alias.asname.name.value if alias.asname is not None and isinstance(
                alias.asname.name, cst.Name) else name
            scope.bind(local, mod + sep + name)
    elif isinstance(small, cst.Assign):
        for t in small.targets:
            _bind_target(t.target, scope)
    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        _bind_target(small.target, scope)
    elif isinstance(small, (cst.Global, cst.Nonlocal)):
        for n in small.names:
            scope.declared_global.add(n.name.value)
            scope.bindings.pop(n.name.value, None)
