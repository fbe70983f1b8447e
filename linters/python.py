"""The Python semantic helpers every Python rule shares (``from cnlint.python import ...``).

What a name refers to comes from ``PythonRule.qualified_names(node)`` (imports
and aliases resolved, locals shadowing them); this module adds what rules ask
next: is that name part of a Kubernetes client, which argument of a call is
``timeout``, is this literal ``False``, and what is ``self.session`` bound to.
All work on libcst nodes.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from .backends.python_names import dotted_name

__all__ = [
    "K8S_CLIENT_PACKAGES", "ScopeTracker", "argument", "bool_value", "dotted_name", "full_name", "has_star_args",
    "is_k8s_name", "is_none", "k8s_client_member", "keyword_arg", "positional_args", "short",
    "string_value", "walk",
]

# ---------------------------------------------------------------- Kubernetes clients

#: Packages of the Kubernetes Python clients, longest first. They share one API
#: layout (``client.CoreV1Api``, ``watch.Watch``, ``config.load_kube_config``),
#: so rules name members relative to the package and every client is covered.
K8S_CLIENT_PACKAGES = ("kubernetes_asyncio", "kubernetes.aio", "kubernetes")


def k8s_client_member(qname: str) -> Optional[str]:
    """``qname`` relative to its Kubernetes client package (``kubernetes.aio.watch.Watch``
    -> ``watch.Watch``; the package itself -> ``""``), or None for other names."""
    for package in K8S_CLIENT_PACKAGES:
        if qname == package:
            return ""
        if qname.startswith(package + "."):
            return qname[len(package) + 1:]
    return None


def is_k8s_name(qname: str) -> bool:
    """Whether ``qname`` is a member of a Kubernetes Python client."""
    return bool(k8s_client_member(qname))


# ---------------------------------------------------------------- names

def full_name(node: cst.CSTNode) -> Optional[str]:
    """Like ``dotted_name`` (``a.b.c`` for a Name/Attribute chain, else None),
    but seeing through calls and subscripts: ``a.b().c[0]`` -> ``a.b.c``."""
    return get_full_name_for_node(node)


# ---------------------------------------------------------------- call arguments

def keyword_arg(call: cst.Call, name: str) -> Optional[cst.Arg]:
    """The ``name=...`` argument of ``call``."""
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def positional_args(call: cst.Call) -> list[cst.Arg]:
    """The positional arguments, without ``*args`` / ``**kwargs``."""
    return [a for a in call.args if a.keyword is None and not a.star]


def argument(call: cst.Call, name: str, position: Optional[int] = None) -> Optional[cst.Arg]:
    """The parameter ``name`` as the call passes it: by keyword, else at ``position``."""
    found = keyword_arg(call, name)
    if found is None and position is not None:
        args = positional_args(call)
        found = args[position] if position < len(args) else None
    return found


def has_star_args(call: cst.Call, star: str = "") -> bool:
    """Whether the call unpacks ``*args`` or ``**kwargs`` (only that one if ``star``
    is ``"*"`` or ``"**"``): any parameter may hide in them."""
    return any(a.star and (not star or a.star == star) for a in call.args)


# ---------------------------------------------------------------- literals

def string_value(node: Optional[cst.CSTNode]) -> Optional[str]:
    """The value of a str literal (``"a"``, ``'a' "b"``), not bytes, not f-strings."""
    if isinstance(node, cst.SimpleString) and "b" not in node.prefix.lower():
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        return left + right if left is not None and right is not None else None
    return None


def bool_value(node: Optional[cst.CSTNode], *, numbers: bool = False) -> Optional[bool]:
    """``True`` / ``False`` for those literals; with ``numbers``, an integer
    literal too (``verify=0``); None for anything else."""
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    if numbers and isinstance(node, cst.Integer):
        return node.evaluated_value != 0
    return None


def is_none(node: Optional[cst.CSTNode]) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def walk(node: cst.CSTNode):
    """``node`` and every node below it, in no particular order (cheaper than a
    libcst visitor for "is there a ``return`` in this loop")."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)


def short(module: cst.Module, node: cst.CSTNode, n: int = 60) -> str:
    """The node's code on one line, cut to ``n`` characters, for messages."""
    code = " ".join(module.code_for_node(node).split())
    return code if len(code) <= n else code[: n - 1] + "…"


# ---------------------------------------------------------------- what names are bound to

#: What a name is bound to when it is bound to something untracked: it hides a
#: binding of the same name in an outer scope (a parameter named like a module
#: level session is not that session).
_OTHER = object()


class ScopeTracker:
    """Mixin for a PythonRule that asks what a dotted name (``s``,
    ``self.session``) was bound to in the innermost function, the class (for
    ``self.x`` / ``cls.x``) or the module. Call ``scope_reset`` in
    ``visit_Module``, ``scope_push`` / ``scope_pop`` around functions and
    classes, ``bind`` on assignments and ``scope_finish`` in ``leave_Module``.
    Questions asked before the binding was seen (a method above ``__init__``)
    are answered once the whole module has been visited."""

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
        name = full_name(target)
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
