"""Helpers for the libcst rules of the network pack (and SEC002).

``ScopeTracker`` remembers what a dotted name (``s``, ``self.session``) was
bound to in the innermost function, the class (for ``self.x``/``cls.x``) or
the module, so a rule can ask "is ``s`` a requests session here?". Questions
asked before the binding was seen (a method above ``__init__``) are answered
once the whole module has been visited.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional(call: cst.Call) -> list[cst.Arg]:
    return [a for a in call.args if a.keyword is None and not a.star]


def has_star(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def string_value(node) -> Optional[str]:
    if isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower():
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover - libcst evaluates any valid literal
            return None
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return left + right if left is not None and right is not None else None
    return None


def is_none(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def is_false(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "False" or \
        isinstance(node, cst.Integer) and node.value == "0"


def is_true(node) -> bool:
    return isinstance(node, cst.Name) and node.value == "True" or \
        isinstance(node, cst.Integer) and node.value not in ("0",)


def dotted(node) -> Optional[str]:
    try:
        return get_full_name_for_node(node)
    except Exception:  # pragma: no cover - defensive
        return None


def short(module: cst.Module, node, n: int = 60) -> str:
    code = " ".join(module.code_for_node(node).split())
    return code if len(code) <= n else code[: n - 1] + "…"


#: What a name is bound to when it is bound to something untracked: it hides a
#: binding of the same name in an outer scope (a parameter named like a module
#: level session is not that session).
_OTHER = object()


class ScopeTracker:
    """Mixin for a PythonRule: call ``scope_*`` from the visitor hooks."""

    def scope_reset(self, module: cst.Module) -> None:
        self._module = module
        self._scopes: list[cst.CSTNode] = [module]
        self._bound: dict[tuple[int, str], Any] = {}
        self._pending: list[tuple[list, Callable[[Any], None]]] = []

    def scope_push(self, node) -> None:
        self._scopes.append(node)

    def scope_pop(self) -> None:
        self._scopes.pop()

    def current_function(self) -> Optional[cst.FunctionDef]:
        return next((s for s in reversed(self._scopes) if isinstance(s, cst.FunctionDef)), None)

    def functions(self) -> list[cst.FunctionDef]:
        """Enclosing functions, innermost first."""
        return [s for s in reversed(self._scopes) if isinstance(s, cst.FunctionDef)]

    def keys(self, name: str) -> list[tuple[int, str]]:
        """Where a binding of ``name`` may live, innermost first."""
        if name.split(".", 1)[0] in ("self", "cls"):
            cls = next((s for s in reversed(self._scopes) if isinstance(s, cst.ClassDef)), None)
            return [(id(cls), name)] if cls is not None else []
        fn = self.current_function()
        out = [(id(fn), name)] if fn is not None else []
        return out + [(id(self._module), name)]

    def bind(self, target, value: Any) -> None:
        """Bind ``target`` (a Name/Attribute node) to ``value`` (None: untracked)."""
        name = dotted(target)
        keys = self.keys(name) if name else []
        if keys:
            self._bound[keys[0]] = _OTHER if value is None else value

    def _find(self, keys) -> Any:
        value = next((self._bound[k] for k in keys if k in self._bound), None)
        return None if value is _OTHER else value

    def lookup(self, name: Optional[str]) -> Any:
        return self._find(self.keys(name)) if name else None

    def when_bound(self, name: Optional[str], then: Callable[[Any], None]) -> None:
        """Call ``then(value)`` now if ``name`` is bound, else at the end of the module
        (for ``self.x``, which a later method such as ``__init__`` may bind)."""
        if not name:
            return
        keys = self.keys(name)
        if any(k in self._bound for k in keys):
            value = self._find(keys)
            if value is not None:
                then(value)
        elif keys and keys[0][1].split(".", 1)[0] in ("self", "cls"):
            self._pending.append((keys, then))

    def scope_finish(self) -> None:
        for keys, then in self._pending:
            value = self._find(keys)
            if value is not None:
                then(value)
        self._pending = []
