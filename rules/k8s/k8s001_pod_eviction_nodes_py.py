"""K8S001 for Python: which loops go over the pods of one node, and which
functions delete a pod for each of them through a helper.

A loop deletes "the pods of a node" when the function around it

- mentions ``spec.nodeName`` (a field selector), directly or through a
  module constant (``NODE_SELECTOR = "spec.nodeName={}"``);
- calls a function of the module that lists pods with such a selector
  (``pods_on(api, node)``, ``self._node_pods(node)``);
- iterates what a function named after a node's pods returns
  (``for pod in get_pods_on_node(node)``, ``list_node_pods(...).items``);
- compares a pod's ``spec.node_name`` with a node (not with ``""`` or ``None``,
  which select unscheduled pods).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from .k8s001_pod_eviction import words

NODE_FIELD = "spec.nodeName"
_EMPTY = {'""', "''", "None"}


def lists_node_pods(name: str) -> bool:
    """A function named after the pods of a node: ``get_pods_on_node``, ``node_pods``."""
    ws = set(words(name))
    return bool(ws & {"pod", "pods"}) and bool(ws & {"node", "nodes"}) and \
        not ws & {"delete", "evict", "drain", "kill", "remove", "count", "has", "is"}


def callee(call: cst.Call) -> str:
    """``f`` of ``f(...)``, ``obj.f(...)``."""
    if isinstance(call.func, cst.Name):
        return call.func.value
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value
    return ""


class _Collect(cst.CSTVisitor):
    def __init__(self):
        self.functions: dict[str, list[cst.FunctionDef]] = {}
        self.calls: list[cst.Call] = []
        self.strings: list[str] = []
        self.names: set[str] = set()
        self.comparisons: list[cst.Comparison] = []
        self.assigns: list[cst.Assign] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.setdefault(node.name.value, []).append(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str):
            self.strings.append(value)

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        self.strings.append(node.value)

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self.comparisons.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.assigns.append(node)


def collect(node: cst.CSTNode) -> _Collect:
    c = _Collect()
    node.visit(c)
    return c


class NodeScope:
    """What one module says about node selection."""

    def __init__(self, module: cst.Module):
        self.module = module
        found = collect(module)
        self.functions = found.functions
        self.calls = found.calls
        self.node_consts = {
            t.target.value
            for stmt in module.body if isinstance(stmt, cst.SimpleStatementLine)
            for small in stmt.body if isinstance(small, cst.Assign)
            for t in small.targets if isinstance(t.target, cst.Name) and NODE_FIELD in "".join(collect(small).strings)
        }
        self._field: dict[int, Optional[str]] = {}

    def node_field(self, scope: cst.CSTNode, depth: int = 0) -> Optional[str]:
        """How ``scope`` selects pods by node: "" for a ``spec.nodeName`` string or
        constant, the name of a module function that does, or None."""
        key = id(scope)
        if key in self._field:
            return self._field[key]
        self._field[key] = None  # recursion guard
        found = collect(scope)
        result = None
        if any(NODE_FIELD in s for s in found.strings) or found.names & self.node_consts:
            result = ""
        elif depth == 0:
            for call in found.calls:
                name = callee(call)
                if any(self.node_field(f, depth + 1) is not None for f in self.functions.get(name, ())):
                    result = name
                    break
        self._field[key] = result
        return result

    def node_loop(self, scope: cst.CSTNode, iters: list) -> Optional[str]:
        """Why the loop over ``iters`` in ``scope`` goes over the pods of a node, or None."""
        field = self.node_field(scope)
        if field == "":
            return "in a function that loops over the pods of a node (`spec.nodeName` field selector)"
        if field:
            return (f"in a function that loops over the pods of a node (`{field}()` selects them with a "
                    "`spec.nodeName` field selector)")
        for it in iters:
            source = self._node_pods_call(it, scope)
            if source is not None:
                return f"in a loop over the pods of a node (`{source}`)"
        return None

    def picks_node_pods(self, scope: cst.CSTNode) -> Optional[str]:
        """Why ``scope`` keeps only the pods of a node (a ``spec.node_name`` comparison), or None."""
        cmp = node_name_comparison(scope, self.module)
        if cmp is None or _lists_own_pods(scope):
            return None  # a literal label selector: one workload's own pods, not a drain
        return f"in a function that picks the pods of a node (`{cmp}`)"

    def _node_pods_call(self, expr, scope, depth: int = 0) -> Optional[str]:
        while isinstance(expr, cst.Attribute) and expr.attr.value == "items":
            expr = expr.value
        if isinstance(expr, cst.Call):
            name = callee(expr)
            return name if lists_node_pods(name) else None
        if isinstance(expr, cst.Name) and depth < 2:
            for a in collect(scope).assigns:
                if any(isinstance(t.target, cst.Name) and t.target.value == expr.value for t in a.targets):
                    found = self._node_pods_call(a.value, scope, depth + 1)
                    if found is not None:
                        return found
        return None

    def call_sites(self, fn: cst.FunctionDef):
        """Calls of ``fn`` (by name) elsewhere in the module; none for a wrapper
        named like the client's method, whose calls cannot be told apart."""
        name = fn.name.value
        if name.startswith(("delete_namespaced_pod", "delete_collection_namespaced_pod")):
            return []
        inner = {id(c) for c in collect(fn).calls}
        return [c for c in self.calls if callee(c) == name and id(c) not in inner]


def _lists_own_pods(scope: cst.CSTNode) -> bool:
    """``label_selector="app=agent"`` (or an f-string) in ``scope``."""
    return any(a.keyword is not None and a.keyword.value == "label_selector" and collect(a.value).strings
               for call in collect(scope).calls for a in call.args)


def node_name_comparison(scope: cst.CSTNode, module: cst.Module) -> Optional[str]:
    """``pod.spec.node_name == node`` / ``!=`` in ``scope`` (not against ``""``/``None``)."""
    for cmp in collect(scope).comparisons:
        sides = [module.code_for_node(cmp.left)] + [module.code_for_node(t.comparator) for t in cmp.comparisons]
        ops = [t.operator for t in cmp.comparisons]
        if any(isinstance(o, (cst.Equal, cst.NotEqual)) for o in ops) and \
                any(s.endswith(".spec.node_name") for s in sides) and not any(s in _EMPTY for s in sides):
            return " ".join(module.code_for_node(cmp).split())
    return None
