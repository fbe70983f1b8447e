"""K8S001 for Python: ``delete_namespaced_pod`` where the pod should be evicted.

Every Kubernetes Python client (``cnlint.python.K8S_CLIENT_PACKAGES``:
``kubernetes``, ``kubernetes.aio``, ``kubernetes_asyncio``, with the same
method names) deletes a pod with ``CoreV1Api.delete_namespaced_pod`` and
evicts it with ``CoreV1Api.create_namespaced_pod_eviction``. A delete is reported in a
function whose name says it drains/evicts/moves pods, or in a loop (``for`` or
comprehension, not over a watch stream) of a function that selects the pods of
a node (``k8s001_pod_eviction_nodes_py``) or cordons the node, or in a one-pod
helper that such a function calls; finished-pod clean-up stays quiet.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst
from libcst.metadata import ParentNodeProvider

from cnlint import PythonRule
from cnlint.code_kinds import skips_test_code
from cnlint.python import argument, dotted_name, k8s_client_member, keyword_arg

from .k8s001_pod_eviction import (
    ADVICE_PY, IMPACT, PodDeleteInsteadOfEviction, drain_like, drain_verb, empties_node, selects_finished, words,
)
from .k8s001_pod_eviction_nodes_py import NodeScope

DELETE = "delete_namespaced_pod"
DELETE_COLLECTION = "delete_collection_namespaced_pod"
EVICT = "create_namespaced_pod_eviction"
FINISHED = re.compile(r"\bFailed\b|\bSucceeded\b|\bEvicted\b|terminal|finished|completed|evicted",
                      re.IGNORECASE)
FINISHED_SELECTOR = re.compile(r"status\.phase\s*==?\s*(Failed|Succeeded)")
#: keyword arguments of delete_namespaced_pod that belong in the eviction's V1DeleteOptions
DELETE_OPTION_KWARGS = ("grace_period_seconds", "propagation_policy", "orphan_dependents", "preconditions")
#: keyword arguments create_namespaced_pod_eviction takes too
PASS_KWARGS = ("dry_run", "pretty", "field_manager")

_LOOPS = (cst.For, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_FUNCS = (cst.FunctionDef, cst.Lambda)


class PodDeleteInsteadOfEvictionPython(PodDeleteInsteadOfEviction, PythonRule):
    requires = (DELETE, DELETE_COLLECTION)
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._skip = skips_test_code(self)
        self._client = _client_module_name(node)
        self._nodes: Optional[NodeScope] = None

    @property
    def nodes(self) -> NodeScope:
        if self._nodes is None:
            self._nodes = NodeScope(self._module)
        return self._nodes

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self._skip or not isinstance(func, cst.Attribute) or func.attr.value not in (DELETE, DELETE_COLLECTION):
            return
        method = func.attr.value
        chain = self._ancestors(node)
        function = next((a for a in chain if isinstance(a, cst.FunctionDef)), None)
        scope = function if function is not None else self._module
        context = self._context(node, method, chain, function, scope)
        if context is None and method == DELETE and function is not None:
            context = self._through_helper(function)
        if context is None or self._finished_only(node, chain, scope) or _calls(scope, EVICT):
            return
        what = f"`{self._code(func)}`"
        if method == DELETE_COLLECTION:
            msg = f"{what} {context} deletes pods directly, {IMPACT}; list them and evict each one: {ADVICE_PY}"
            self.report(node, msg)
            return
        msg = f"{what} {context} deletes a pod directly, {IMPACT}; {ADVICE_PY}"
        replacement = self._eviction_call(node, func)
        fix = None
        if replacement is not None:
            fix = self.fix("Evict the pod with `create_namespaced_pod_eviction` (retry on 429)",
                           self.edit(node, self._module.code_for_node(replacement)), applicability="suggestion")
        self.report(node, msg, fix=fix)

    # ---- where ----
    def _ancestors(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        out = []
        parent = self.get_metadata(ParentNodeProvider, node, None)
        while parent is not None:
            out.append(parent)
            parent = self.get_metadata(ParentNodeProvider, parent, None)
        return out

    def _context(self, call, method, chain, function, scope) -> Optional[str]:
        for a in chain:
            if isinstance(a, cst.FunctionDef):
                word = drain_like(a.name.value)
                if word is not None:
                    return f"in `{a.name.value}()` (which {drain_verb(word)} pods)"
        loop = self._loop(chain)
        if method != DELETE_COLLECTION and loop is None:
            return None
        iters = [] if loop is None else [loop.iter] if isinstance(loop, cst.For) else _comprehension_iters(loop)
        why = self.nodes.node_loop(scope, iters)
        if why is not None:
            if method == DELETE_COLLECTION:
                return "in a function that selects pods by node (`spec.nodeName` field selector)"
            return why
        if _mentions(scope, "unschedulable") or any(words(c)[:1] == ["cordon"] for c in _find(scope).calls) \
                or "unschedulable" in _find(scope).keywords:
            return "in a function that cordons a node (marks it unschedulable)"
        why = self.nodes.picks_node_pods(scope)
        if why is not None and method != DELETE_COLLECTION:
            return why
        if function is not None and empties_node(function.name.value):
            return f"in `{function.name.value}()` (which empties a node)"
        return None

    def _through_helper(self, helper: cst.FunctionDef) -> Optional[str]:
        """Why a function that deletes one pod is a drain: a function of this
        module calls it in a drain-like place (for each pod of a node)."""
        for site in self.nodes.call_sites(helper):
            chain = self._ancestors(site)
            function = next((a for a in chain if isinstance(a, cst.FunctionDef)), None)
            scope = function if function is not None else self._module
            why = self._context(site, DELETE, chain, function, scope)
            if why is None or self._finished_only(site, chain, scope) or _calls(scope, EVICT):
                continue
            caller = function.name.value if function is not None else "the module"
            return f"in `{helper.name.value}()`, which `{caller}` calls {why},"
        return None

    def _loop(self, chain) -> Optional[cst.CSTNode]:
        """The innermost loop around the call in its function, unless it iterates a watch stream."""
        for a in chain:
            if isinstance(a, _FUNCS):
                return None
            if isinstance(a, _LOOPS):
                iters = [a.iter] if isinstance(a, cst.For) else _comprehension_iters(a)
                if any(_is_stream(i) for i in iters):
                    return None
                return a
        return None

    def _finished_only(self, call, chain, scope) -> bool:
        prev = call
        for a in chain:
            if isinstance(a, _FUNCS):
                break
            if isinstance(a, cst.If) and prev is a.body and _positive(self._code(a.test)):
                return True
            if isinstance(a, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
                for comp in _comprehensions(a):
                    if any(_positive(self._code(cond.test)) for cond in comp.ifs):
                        return True
            if isinstance(a, cst.For) and self._skips_unfinished(a, call):
                return True
            prev = a
        return any(FINISHED_SELECTOR.search(s) for s in _strings(scope))

    def _skips_unfinished(self, loop: cst.For, call) -> bool:
        """``if pod.status.phase not in ("Failed", "Succeeded"): continue`` before the delete."""
        body = loop.body.body if isinstance(loop.body, cst.IndentedBlock) else ()
        for stmt in body:
            if _contains(stmt, call):
                break
            if isinstance(stmt, cst.If) and _has_continue(stmt.body):
                test = self._code(stmt.test)
                if FINISHED.search(test) and not _positive(test):
                    return True
        return False

    # ---- the fix ----
    def _eviction_call(self, call: cst.Call, func: cst.Attribute) -> Optional[cst.CSTNode]:
        name, namespace = argument(call, "name", 0), argument(call, "namespace", 1)
        if name is None or namespace is None:
            return None
        code = self._code
        c = self._client
        n, ns = code(name.value), code(namespace.value)
        eviction_args = [f"metadata={c}.V1ObjectMeta(name={n}, namespace={ns})"]
        body = keyword_arg(call, "body")
        if body is not None:
            eviction_args.append(f"delete_options={code(body.value)}")
        else:
            opts = [f"{a.keyword.value}={code(a.value)}" for a in call.args
                    if a.keyword is not None and a.keyword.value in DELETE_OPTION_KWARGS]
            if opts:
                eviction_args.append(f"delete_options={c}.V1DeleteOptions({', '.join(opts)})")
        extra = [f"{a.keyword.value}={code(a.value)}" for a in call.args
                 if a.keyword is not None and (a.keyword.value in PASS_KWARGS or a.keyword.value.startswith("_"))]
        args = [n, ns, f"{c}.V1Eviction({', '.join(eviction_args)})", *extra]
        try:
            return cst.parse_expression(f"{code(func.value)}.{EVICT}({', '.join(args)})")
        except cst.ParserSyntaxError:  # pragma: no cover - built from parsed pieces
            return None

    def _code(self, node: cst.CSTNode) -> str:
        return self._module.code_for_node(node)


# ---- helpers ----
def _client_module_name(module: cst.Module) -> str:
    """How this module names ``kubernetes.client`` (``client``, ``k8s.client``...)."""
    for stmt in module.body:
        for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
            if isinstance(small, cst.ImportFrom) and small.module is not None and \
                    not isinstance(small.names, cst.ImportStar):
                if k8s_client_member(_dotted(small.module)) == "":  # from kubernetes import client
                    for alias in small.names:
                        if _dotted(alias.name) == "client":
                            return alias.asname.name.value if alias.asname is not None else "client"
            if isinstance(small, cst.Import):
                for alias in small.names:
                    full = _dotted(alias.name)
                    member = k8s_client_member(full)
                    if member == "":  # import kubernetes
                        base = alias.asname.name.value if alias.asname is not None else full
                        return base + ".client"
                    if member == "client":  # import kubernetes.client
                        return alias.asname.name.value if alias.asname is not None else full
    return "client"


def _dotted(node) -> str:
    """``a.b.c`` of an import's module or alias name ("" for anything else)."""
    return dotted_name(node) or ""


def _comprehensions(node):
    comp = getattr(node, "for_in", None)
    while comp is not None:
        yield comp
        comp = comp.inner_for_in


def _comprehension_iters(node):
    return [c.iter for c in _comprehensions(node)]


def _is_stream(expr) -> bool:
    """``w.stream(...)``: a watch loop reacting to one event at a time."""
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "stream"


class _Finder(cst.CSTVisitor):
    def __init__(self):
        self.strings: list[str] = []
        self.calls: set[str] = set()
        self.keywords: set[str] = set()
        self.has_continue = False

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.keywords.add(node.keyword.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        try:
            value = node.evaluated_value
        except Exception:  # pragma: no cover
            return
        if isinstance(value, str):
            self.strings.append(value)

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        self.strings.append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute):
            self.calls.add(node.func.attr.value)
        elif isinstance(node.func, cst.Name):
            self.calls.add(node.func.value)

    def visit_Continue(self, node: cst.Continue) -> None:
        self.has_continue = True


def _find(node: cst.CSTNode) -> _Finder:
    f = _Finder()
    node.visit(f)
    return f


def _strings(node) -> list[str]:
    return _find(node).strings


def _mentions(node, needle: str) -> bool:
    return any(needle in s for s in _strings(node))


def _calls(node, name: str) -> bool:
    return name in _find(node).calls


def _has_continue(node) -> bool:
    return _find(node).has_continue


def _contains(outer: cst.CSTNode, inner: cst.CSTNode) -> bool:
    class _Is(cst.CSTVisitor):
        found = False

        def on_visit(self, node):
            if node is inner:
                self.found = True
            return not self.found

    v = _Is()
    outer.visit(v)
    return v.found


def _positive(test: str) -> bool:
    """A condition that selects finished pods (``==``/``in``, not ``!=``/``not``)."""
    return selects_finished(" ".join(test.split()), FINISHED, "python")
