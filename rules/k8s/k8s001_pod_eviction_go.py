"""K8S001 for Go: pods deleted (client-go, controller-runtime) where they should be evicted.

Each ``X.Delete(...)``/``X.DeleteCollection(...)`` call is typed as a pod
delete (a ``Pods(ns)`` client, or a controller-runtime delete of a
``corev1.Pod``), then placed: the enclosing function's name (drain, evict,
move...), and for a delete in a loop or a ``DeleteCollection``, a selection of
the pods of one node (``k8s001_pod_eviction_nodes_go``) or a cordon in the
function; a one-pod helper is placed by its callers in the file; guards that make
it a clean-up of finished pods, and an Eviction call in the same function (a
deliberate fallback), keep it quiet.
"""

from __future__ import annotations

import re

from cnlint import TreeSitterRule
from cnlint.code_kinds import skips_test_code
from cnlint.golang import (
    FUNCS, call_args, contains, enclosing, enclosing_function_name, selector_parts, strip_pointer, text,
    unwrap, walk,
)

from .import_paths import CORE_V1, CTRL, META_V1, POLICY_V1
from .k8s001_pod_eviction import (
    ADVICE_CTRL, ADVICE_GO, IMPACT, PodDeleteInsteadOfEviction, drain_like, drain_verb, empties_node,
    selects_finished, words,
)
from .k8s001_pod_eviction_nodes_go import (
    NAMED_FUNCS, NodeScope, enclosing_loop, function_name, named_function, picks_node_pods,
)

#: A condition that selects finished pods (``==`` checks; negations are handled apart).
FINISHED = re.compile(r"PodFailed|PodSucceeded|\"Failed\"|\"Succeeded\"|\"Evicted\"|"
                      r"[Tt]erminal|[Ff]inished|[Cc]ompleted|[Ee]victed\b")
FINISHED_SELECTOR = re.compile(r"status\.phase\"?\s*[:=,]+\s*[^,)}\n]*?(Failed|Succeeded)")
EVICTION_CALLS = {"Evict", "EvictV1", "EvictV1beta1", "EvictPod", "evictPod", "EvictPods", "evictPods"}


class PodDeleteInsteadOfEvictionGo(PodDeleteInsteadOfEviction, TreeSitterRule):
    languages = ("go",)
    requires = ("Delete",)

    def begin_file(self, root) -> None:
        self._scope = None

    @property
    def scope(self) -> NodeScope:
        if self._scope is None:
            self._scope = NodeScope(self.ctx.go, self.ctx.tree.root_node)
        return self._scope

    def visit_call_expression(self, call) -> None:
        operand, method = selector_parts(call)
        if method not in ("Delete", "DeleteCollection") or skips_test_code(self):
            return
        pods_call = self._pods_client(operand, call)
        pod_arg = None
        if pods_call is None:
            if method != "Delete" or not self.ctx.go.imports.imports_prefix(CTRL):
                return
            args = call_args(call)
            if len(args) < 2 or not self._is_pod(args[1]):
                return
            pod_arg = args[1]
        fn = enclosing(call, FUNCS)
        if fn is None:
            return
        context = self._context(call, method)
        if context is None and method == "Delete":
            context = self._through_helper(call)
        if context is None or self._finished_only(call, named_function(call)) or self._also_evicts(call):
            return
        why, related = context
        what = f"`{_short(text(call.child_by_field_name('function')))}`"
        if method == "DeleteCollection":
            msg = f"{what} {why} deletes pods directly, {IMPACT}; list them and evict each one: {ADVICE_GO}"
        else:
            advice = ADVICE_GO if pods_call is not None else ADVICE_CTRL
            msg = f"{what} {why} deletes a pod directly, {IMPACT}; {advice}"
        fix = None
        if method == "Delete":
            fix = self._fix_typed(call, pods_call) if pods_call is not None else self._fix_ctrl(call, operand, pod_arg)
        self.report(call, msg, fix=fix, related=related)

    # ---- what is deleted ----
    def _pods_client(self, operand, at):
        """The ``X.Pods(ns)`` call the receiver is (directly or through a local variable)."""
        operand = unwrap(operand, deref=True)
        if operand is None:
            return None
        if operand.type == "call_expression":
            _, name = selector_parts(operand)
            return operand if name == "Pods" else None
        if operand.type == "identifier":
            decl = self.ctx.go.resolve(at, text(operand))
            if decl is not None and decl[0] == "value" and decl[1].type == "call_expression":
                _, name = selector_parts(decl[1])
                return decl[1] if name == "Pods" else None
        return None

    def _is_pod(self, expr, depth: int = 0) -> bool:
        """Whether a controller-runtime Delete argument is a ``corev1.Pod``."""
        node = unwrap(expr, deref=True)
        if node is None or depth > 3:
            return False
        if node.type == "composite_literal":
            return self._is_type(node.child_by_field_name("type"), "Pod")
        if node.type == "index_expression":  # &podList.Items[i]
            return self._is_pod_slice(node.child_by_field_name("operand"), node, depth + 1)
        if node.type == "identifier":
            decl = self.ctx.go.resolve(expr, text(node))
            if decl is None:
                return False
            kind, value = decl[0], decl[1]
            if kind in ("type", "param"):
                return self._is_type(value, "Pod")
            if kind == "value":
                return self._is_pod(value, depth + 1)
            if kind == "range":
                return self._is_pod_slice(value, node, depth + 1)
        return False

    def _is_pod_slice(self, node, at, depth: int) -> bool:
        """``podList.Items`` (a PodList), or a ``[]corev1.Pod``/``[]*corev1.Pod``."""
        node = unwrap(node, deref=True)
        if node is None or depth > 4:
            return False
        if node.type == "selector_expression" and text(node.child_by_field_name("field")) == "Items":
            holder = unwrap(node.child_by_field_name("operand"), deref=True)
            if holder is not None and holder.type == "identifier":
                decl = self.ctx.go.resolve(at, text(holder))
                if decl is None:
                    return False
                if decl[0] in ("type", "param"):
                    return self._is_type(decl[1], "PodList")
                if decl[0] == "value":
                    v = unwrap(decl[1], deref=True)
                    if v is not None and v.type == "composite_literal":
                        return self._is_type(v.child_by_field_name("type"), "PodList")
                    if v is not None and v.type == "call_expression":
                        fn = v.child_by_field_name("function")
                        return fn is not None and fn.type == "identifier" and text(fn) == "new" and \
                            any(self._is_type(a, "PodList") for a in call_args(v))
            return False
        if node.type == "identifier":
            decl = self.ctx.go.resolve(at, text(node))
            if decl is not None and decl[0] in ("type", "param") and decl[1] is not None:
                typ = decl[1]
                if typ.type == "slice_type":
                    return self._is_type(typ.child_by_field_name("element"), "Pod")
        return False

    def _is_type(self, typ, name: str) -> bool:
        typ = strip_pointer(typ)
        return typ is not None and self.ctx.go.qualified(typ) == (CORE_V1, name)

    # ---- where it is deleted ----
    def _context(self, call, method: str):
        """(why, related) when the delete happens in a drain-like place, else None."""
        name = enclosing_function_name(call)
        word = drain_like(name) if name else None
        if word is not None:
            return f"in `{name}` (which {drain_verb(word)} pods)", ()
        loop = enclosing_loop(call)
        if method != "DeleteCollection" and loop is None:
            return None
        found = self.scope.node_loop(call, loop, named_function(call))
        if found is not None:
            why, where = found
            if method == "DeleteCollection":
                why = "in a function that selects pods by node (`spec.nodeName` field selector)"
            return why, [(where, "pods are selected by node here: this is a node drain")]
        cordon = self._cordon(call)
        if cordon is not None:
            return ("in a function that cordons a node (marks it unschedulable)",
                    [(cordon, "the node is cordoned here: this is a node drain")])
        picks = picks_node_pods(named_function(call)) if method != "DeleteCollection" else None
        if picks is not None:
            return picks[0], [(picks[1], "only the pods of one node are kept here: this is a node drain")]
        if name and empties_node(name):
            return f"in `{name}` (which empties a node)", ()
        return None

    def _cordon(self, call):
        """Where the named function around ``call`` marks a node unschedulable (or calls a cordon helper)."""
        outer = enclosing(call, ("function_declaration", "method_declaration")) or enclosing(call, FUNCS)
        for n in walk(outer):
            if n.type in ("field_identifier", "identifier") and text(n) == "Unschedulable":
                return n
            if n.type in ("interpreted_string_literal", "raw_string_literal") and "unschedulable" in text(n).lower():
                return n
            if n.type == "call_expression":
                fn = n.child_by_field_name("function")
                name = text(fn.child_by_field_name("field")) if fn is not None and fn.type == "selector_expression" \
                    else text(fn)
                if words(name)[:1] == ["cordon"]:
                    return n
        return None

    def _through_helper(self, call):
        """(why, related) when the function around ``call`` deletes one pod and a
        function of this file calls it in a drain-like place (for each pod of a node)."""
        helper = named_function(call)
        if helper is None or helper.type not in NAMED_FUNCS:
            return None
        for site in self.scope.call_sites(helper):
            found = self._context(site, "Delete")
            if found is None or self._finished_only(site, named_function(site)) or self._also_evicts(site):
                continue
            why, related = found
            caller = function_name(named_function(site)) or "a function literal"
            return (f"in `{function_name(helper)}()`, which `{caller}` calls {why},",
                    [(site, "called here for each pod"), *related])
        return None

    def _finished_only(self, call, fn) -> bool:
        """The delete only removes finished (Failed/Succeeded/Evicted) pods."""
        node = call
        while node is not None and node.id != fn.id:
            parent = node.parent
            if parent is None:
                break
            if parent.type == "if_statement":
                cond = parent.child_by_field_name("condition")
                cons = parent.child_by_field_name("consequence")
                if cons is not None and contains(cons, call) and cond is not None and _positive(text(cond)):
                    return True
            if parent.type == "expression_case":  # switch pod.Status.Phase { case v1.PodFailed: ... }
                values = parent.child_by_field_name("value")
                if values is not None and FINISHED.search(text(values)):
                    return True
            if parent.type == "block" and parent.parent is not None and parent.parent.type == "for_statement":
                if self._skips_unfinished(parent, call):
                    return True
            node = parent
        outer = enclosing(call, ("function_declaration", "method_declaration")) or fn
        return bool(FINISHED_SELECTOR.search(text(outer)))

    @staticmethod
    def _skips_unfinished(block, call) -> bool:
        """``if pod.Status.Phase != v1.PodFailed { continue }`` before the delete."""
        for stmt in walk(block, into_funcs=False):
            if stmt.start_byte >= call.start_byte:
                break
            if stmt.type != "if_statement":
                continue
            cond = text(stmt.child_by_field_name("condition"))
            cons = stmt.child_by_field_name("consequence")
            if cons is None or not FINISHED.search(cond) or _positive(cond):
                continue
            if any(n.type == "continue_statement" for n in walk(cons, into_funcs=False)):
                return True
        return False

    def _also_evicts(self, call) -> bool:
        """The function also calls the Eviction API: the delete is a deliberate fallback."""
        outer = enclosing(call, ("function_declaration", "method_declaration")) or enclosing(call, FUNCS)
        for n in walk(outer):
            if n.type == "call_expression":
                _, name = selector_parts(n)
                fn = n.child_by_field_name("function")
                if name in EVICTION_CALLS or (fn is not None and fn.type == "identifier"
                                              and text(fn) in EVICTION_CALLS):
                    return True
                if name == "SubResource" and '"eviction"' in text(n.child_by_field_name("arguments")):
                    return True
        return False

    # ---- fixes ----
    def _eviction_literal(self, name: str, namespace: str, options):
        policy, e1 = self.ctx.go.ensure_import(self, POLICY_V1, "policyv1")
        meta, e2 = self.ctx.go.ensure_import(self, META_V1, "metav1")
        fields = f"ObjectMeta: {meta}.ObjectMeta{{Name: {name}, Namespace: {namespace}}}"
        opts = _delete_options(options, meta)
        if opts:
            fields += f", DeleteOptions: {opts}"
        return f"&{policy}.Eviction{{{fields}}}", [e for e in (e1, e2) if e is not None]

    def _fix_typed(self, call, pods_call):
        args = call_args(call)
        pods_args = call_args(pods_call)
        if len(args) < 2:
            return None
        ctx, name = text(args[0]), text(args[1])
        namespace = text(pods_args[0]) if pods_args else '""'
        literal, imports = self._eviction_literal(name, namespace, args[2] if len(args) > 2 else None)
        client, method = selector_parts(pods_call)
        client = unwrap(client, deref=True)
        operand = call.child_by_field_name("function").child_by_field_name("operand")
        if client is not None and client.type == "call_expression" and selector_parts(client)[1] == "CoreV1" \
                and unwrap(operand, deref=True).id == pods_call.id:
            cs = text(selector_parts(client)[0])
            code = f"{cs}.PolicyV1().Evictions({namespace}).Evict({ctx}, {literal})"
            desc = f"Evict the pod with `{cs}.PolicyV1().Evictions({_short(namespace, 20)}).Evict` (retry on 429)"
        else:
            code = f"{text(operand)}.EvictV1({ctx}, {literal})"
            desc = f"Evict the pod with `{_short(text(operand), 30)}.EvictV1` (retry on 429)"
        return self.fix(desc, self.edit(call, code), *imports, applicability="suggestion")

    def _fix_ctrl(self, call, client, pod_arg):
        args = call_args(call)
        pod = unwrap(pod_arg, deref=True)
        pod_txt = text(pod)
        if pod.type not in ("identifier", "selector_expression", "index_expression"):
            return None
        obj = text(pod_arg)
        literal, imports = self._eviction_literal(f"{pod_txt}.Name", f"{pod_txt}.Namespace", None)
        code = f'{text(client)}.SubResource("eviction").Create({text(args[0])}, {obj}, {literal})'
        return self.fix("Evict the pod through the `eviction` subresource (retry on 429)",
                        self.edit(call, code), *imports, applicability="suggestion")


def _positive(cond: str) -> bool:
    """A condition that selects finished pods (not ``!=`` / ``!isTerminal(...)``)."""
    return selects_finished(cond, FINISHED, "go")


def _delete_options(options, meta: str) -> str:
    """The Eviction's ``DeleteOptions`` for a Delete's options argument ("" for defaults)."""
    if options is None:
        return ""
    code = text(options)
    inner = unwrap(options, deref=True)
    if inner is not None and inner.type == "composite_literal":
        body = inner.child_by_field_name("body")
        if body is not None and body.named_child_count == 0:
            return ""
        return "&" + text(inner)
    if options.type == "unary_expression" and text(options.child_by_field_name("operator")) == "*":
        return text(options.child_by_field_name("operand"))  # *metav1.NewDeleteOptions(0)
    if options.type == "identifier":
        return "&" + code
    return ""


def _short(code: str, n: int = 60) -> str:
    code = " ".join(code.split())
    return code if len(code) <= n else code[: n - 1] + "…"
