"""K8S001 for Go: which loops go over the pods of one node, and which functions
delete a pod for each of them through a helper.

A loop deletes "the pods of a node" when the function around it

- mentions ``spec.nodeName`` (a field selector), directly or through a
  constant of the file (``const nodeNameField = "spec.nodeName"``);
- calls a function of the file that lists pods with such a selector
  (``podsOnNode(ctx, cs, node)``);
- ranges over what a function named after a node's pods returns
  (``for _, p := range getPodsOnNode(node)``, ``util.ListPodsForNode``);
- compares a pod's ``Spec.NodeName`` with a node (not with ``""``, which
  selects unscheduled pods).
"""

from __future__ import annotations

from cnlint.golang import FUNCS, enclosing, enclosing_loops, keyed, text, unwrap, walk

from .k8s001_pod_eviction import words

NAMED_FUNCS = ("function_declaration", "method_declaration")
STRINGS = ("interpreted_string_literal", "raw_string_literal")
NODE_FIELD = "spec.nodeName"
#: method names every client has: a method named so is not told apart from them by name
API_VERBS = {"Delete", "DeleteCollection", "Create", "Update", "Patch", "Get", "List"}


def enclosing_loop(node):
    """The innermost ``for`` around ``node`` in its named function, through the
    function literals that run once per iteration (goroutines, errgroup, retry)."""
    return next(enclosing_loops(node, through_callbacks=True), None)


def named_function(node):
    """The function or method declaration around ``node`` (or its outermost literal)."""
    return enclosing(node, NAMED_FUNCS) or enclosing(node, FUNCS)


def function_name(fn) -> str:
    name = fn.child_by_field_name("name") if fn is not None else None
    return text(name) if name is not None else ""


def lists_node_pods(name: str) -> bool:
    """A function named after the pods of a node: ``getPodsOnNode``, ``ListPodsForNode``, ``nodePods``."""
    ws = set(words(name))
    return bool(ws & {"pod", "pods"}) and bool(ws & {"node", "nodes"}) and \
        not ws & {"delete", "evict", "drain", "kill", "remove", "count", "has", "is"}


class NodeScope:
    """What one file says about node selection: its functions by name, the
    constants holding ``spec.nodeName``, which functions select pods by node."""

    def __init__(self, go, root):
        self.go = go
        self.functions: dict[str, list] = {}
        self.node_consts: dict[str, object] = {}
        for top in root.named_children:
            if top.type in NAMED_FUNCS:
                self.functions.setdefault(function_name(top), []).append(top)
            elif top.type in ("const_declaration", "var_declaration"):
                for n in walk(top):
                    if n.type in ("const_spec", "var_spec") and any(
                            s.type in STRINGS and NODE_FIELD in text(s) for s in walk(n)):
                        for name in n.children_by_field_name("name"):
                            self.node_consts[text(name)] = n
        self._selects: dict[int, object] = {}

    # ---- a function that selects pods by node ----
    def node_field(self, fn, depth: int = 0):
        """The ``spec.nodeName`` literal (or constant use) in ``fn``, or in a
        function of this file that ``fn`` calls; None if there is none."""
        if fn is None:
            return None
        if fn.id in self._selects:
            return self._selects[fn.id]
        self._selects[fn.id] = None  # recursion guard
        found = None
        for n in walk(fn):
            if n.type in STRINGS and NODE_FIELD in text(n):
                found = n
                break
            if n.type == "identifier" and text(n) in self.node_consts and self._is_file_const(n):
                found = n
                break
        if found is None and depth == 0:
            for n in walk(fn):
                if n.type == "call_expression" and self._helper_selects(n, depth):
                    found = n
                    break
        self._selects[fn.id] = found
        return found

    def _is_file_const(self, ident) -> bool:
        decl = self.go.resolve(ident, text(ident))
        return decl is not None and decl.stmt is not None and decl.stmt.id == self.node_consts[text(ident)].id

    def _helper_selects(self, call, depth: int) -> bool:
        name = self.callee(call)
        return any(self.node_field(f, depth + 1) is not None for f in self.functions.get(name, ()))

    @staticmethod
    def callee(call) -> str:
        fn = call.child_by_field_name("function")
        if fn is None:
            return ""
        if fn.type == "identifier":
            return text(fn)
        if fn.type == "selector_expression":
            return text(fn.child_by_field_name("field"))
        return ""

    # ---- a loop over the pods of a node ----
    def node_loop(self, call, loop, outer):
        """(why, where) when ``loop`` (around ``call``, in ``outer``) goes over the pods of a node."""
        field = self.node_field(outer)
        if field is not None:
            if field.type == "call_expression":
                return (f"in a function that loops over the pods of a node (`{self.callee(field)}()` selects them "
                        "with a `spec.nodeName` field selector)", field)
            return "in a function that loops over the pods of a node (`spec.nodeName` field selector)", field
        source = self._range_source(loop, call)
        if source is not None:
            return f"in a loop over the pods of a node (`{self.callee(source)}`)", source
        return None


    def _range_source(self, loop, at):
        """The call whose result ``loop`` ranges over, when it is named after a node's pods."""
        clause = next((c for c in loop.named_children if c.type == "range_clause"), None) if loop is not None else None
        expr = clause.child_by_field_name("right") if clause is not None else None
        return self._node_pods_call(expr, at)

    def _node_pods_call(self, expr, at, depth: int = 0):
        node = unwrap(expr, deref=True)
        while node is not None and node.type == "selector_expression" and \
                text(node.child_by_field_name("field")) == "Items":
            node = unwrap(node.child_by_field_name("operand"), deref=True)
        if node is None or depth > 2:
            return None
        if node.type == "call_expression":
            return node if lists_node_pods(self.callee(node)) else None
        if node.type == "identifier":
            decl = self.go.resolve(at, text(node))
            if decl is not None and decl.kind in ("value", "multi"):
                return self._node_pods_call(decl.node, at, depth + 1)
        return None

    # ---- a per-pod helper called for each pod of a node ----
    def call_sites(self, fn):
        """Calls of the named function ``fn`` in this file: ``kill(...)`` for a
        function, ``x.kill(...)`` for a method (not ``Delete``, which is every
        client's verb and would match calls of other types)."""
        name = function_name(fn)
        method = fn.type == "method_declaration"
        if not name or (method and name in API_VERBS):
            return
        for n in walk(fn.parent):
            if n.type != "call_expression" or self.callee(n) != name or _inside(n, fn):
                continue
            if (n.child_by_field_name("function").type == "selector_expression") == method:
                yield n


def picks_node_pods(fn):
    """(why, where) when ``fn`` keeps only the pods of a node (a ``Spec.NodeName``
    comparison), unless it lists one workload's pods (a literal label selector):
    a controller restarting its own agent on a node is not draining it."""
    cmp = node_name_comparison(fn)
    if cmp is None or _lists_own_pods(fn):
        return None
    return f"in a function that picks the pods of a node (`{' '.join(text(cmp).split())}`)", cmp


def _lists_own_pods(fn) -> bool:
    """``LabelSelector: "app=agent"`` (or built from a literal) in ``fn``."""
    for n in walk(fn):
        if n.type == "keyed_element":
            key, value = keyed(n)
            if key == "LabelSelector" and any(c.type in STRINGS for c in walk(value)):
                return True
    return False


def node_name_comparison(fn):
    """``pod.Spec.NodeName == node`` / ``!= node`` in ``fn`` (not against ``""``)."""
    for n in walk(fn):
        if n.type != "binary_expression" or text(n.child_by_field_name("operator")) not in ("==", "!="):
            continue
        left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
        sides = [text(left), text(right)]
        if any(s.endswith(".Spec.NodeName") for s in sides) and not any(s in ('""', "``") for s in sides):
            return n
    return None


def _inside(node, outer) -> bool:
    return outer.start_byte <= node.start_byte and node.end_byte <= outer.end_byte

