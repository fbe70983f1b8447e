"""K8S006 cache-object-mutated: objects of an informer cache changed in place (Go).

Sources are found by one query (lister ``Get``/``List``, ``GetByKey``, store
``List``/``ByIndex``, controller-runtime ``List`` with ``UnsafeDisableDeepCopy``
and informer event handler functions); each function that holds one is then
read once in document order, following which variables hold a cache object
(``pod := obj.(*v1.Pod)``, ``p := pods[i]``, ``for _, p := range pods``) and
which assignments end that (``pod = pod.DeepCopy()``, any other reassignment).
"""

from __future__ import annotations

import re
from typing import Optional

from cnlint import Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code
from cnlint.golang import (
    FUNCS, call_args, descendants, enclosing_function, literal_value, params, root_identifier, selector_parts,
    text, unwrap,
)


from .import_paths import CACHE, META_V1
from .options import SKIP_TEST_FILES_OPTION

META = "k8s.io/apimachinery/pkg/api/meta"
UNSTRUCTURED = "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
CONTROLLERUTIL = "sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

#: metav1.Object / runtime.Object setters: calling one changes the object
SETTERS = {
    "SetLabels", "SetAnnotations", "SetFinalizers", "SetOwnerReferences", "SetResourceVersion",
    "SetGeneration", "SetName", "SetNamespace", "SetGenerateName", "SetUID", "SetManagedFields",
    "SetDeletionTimestamp", "SetDeletionGracePeriodSeconds", "SetCreationTimestamp", "SetSelfLink",
    "SetGroupVersionKind", "SetAPIVersion", "SetKind", "SetUnstructuredContent",
}
#: (package, function) -> index of the argument whose object is changed
MUTATING_HELPERS = {
    (META, "SetStatusCondition"): 0, (META, "RemoveStatusCondition"): 0,
    (CONTROLLERUTIL, "AddFinalizer"): 0, (CONTROLLERUTIL, "RemoveFinalizer"): 0,
    (CONTROLLERUTIL, "SetControllerReference"): 1, (CONTROLLERUTIL, "SetOwnerReference"): 1,
    (META_V1, "SetMetaDataAnnotation"): 0, (META_V1, "SetMetaDataLabel"): 0,
    **{(UNSTRUCTURED, f): 0 for f in ("SetNestedField", "SetNestedMap", "SetNestedSlice",
                                      "SetNestedStringMap", "SetNestedStringSlice", "RemoveNestedField")},
}
#: helpers that write through shared maps/slices, so they change the cache
#: even on a shallow copy (an element of an UnsafeDisableDeepCopy list)
DEEP_HELPERS = {(META, "SetStatusCondition"), (META, "RemoveStatusCondition")} | {
    k for k in MUTATING_HELPERS if k[0] == UNSTRUCTURED}
#: client calls that write the server's answer into their object argument
WRITE_BACK = {"Update", "UpdateStatus", "Patch"}

HANDLER_KEYS = ("AddFunc", "UpdateFunc", "DeleteFunc", "FilterFunc")
HANDLER_TYPES = ("ResourceEventHandlerFuncs", "ResourceEventHandlerDetailedFuncs", "FilteringResourceEventHandler")

_LISTER = re.compile(r"lister", re.I)
_STORE = re.compile(r"store|indexer|informer", re.I)

# kinds of values that come from the cache
PTR = "ptr"          # *T shared with the cache
IFACE = "iface"      # interface{} holding such a pointer
SLICE = "slice"      # []*T of shared pointers
ISLICE = "islice"    # []interface{} of shared pointers
CRLIST = "crlist"    # a list filled with UnsafeDisableDeepCopy: its Items are shallow copies
VALUE = "value"      # a shallow copy: maps, slices and pointers inside are shared


class Origin:
    """Where a cache object came from (one finding per origin at most)."""

    def __init__(self, node, what: str):
        self.node = node
        self.what = what
        self.reported = False


class CacheObjectMutated(Rule):
    id = "K8S006"
    name = "cache-object-mutated"
    summary = "An object from an informer/lister cache is modified without DeepCopy()"
    severity = "error"
    tags = ("kubernetes", "correctness", "concurrency", "client-go")
    precision = "high"
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports Go code that changes an object it got from a shared informer cache
without copying it first:

- objects from a lister: `pod, err := c.podLister.Pods(ns).Get(name)`, and
  the elements of `lister.List(selector)` (`for _, p := range pods`,
  `pods[i]`);
- objects from an informer store or indexer after a type assertion:
  `obj, exists, err := c.indexer.GetByKey(key)` then `pod := obj.(*v1.Pod)`,
  and the elements of `store.List()` / `indexer.ByIndex(...)`;
- the `obj`, `oldObj` and `newObj` arguments of `cache.ResourceEventHandlerFuncs`
  handlers (`AddFunc`, `UpdateFunc`, `DeleteFunc`, also when the handler is a
  method such as `AddFunc: c.addPod`) after a type assertion;
- elements of a controller-runtime `List(ctx, &list, client.UnsafeDisableDeepCopy)`
  (they share maps, slices and pointers with the cache).

A change is a field assignment (`pod.Spec.NodeName = n`, `pod.Labels[k] = v`,
`pod.Status.Conditions[i].Status = ...`, `*pod.Spec.Replicas = 3`,
`pod.Finalizers = append(pod.Finalizers, f)`), `delete(pod.Labels, k)`, a
setter (`pod.SetLabels(...)`, `obj.GetObjectKind().SetGroupVersionKind(...)`),
a helper that changes its argument (`meta.SetStatusCondition(&pod.Status.Conditions, ...)`,
`controllerutil.AddFinalizer(pod, f)`, `unstructured.SetNestedField(u.Object, ...)`)
or passing the object to `Update`/`UpdateStatus`/`Patch`, which write the
server's answer into it (controller-runtime) and mean it was changed before.
Nothing is reported once the variable has been replaced by a copy
(`pod = pod.DeepCopy()`, `pod := pod.DeepCopy()`) or by anything else.

Not reported: objects from a controller-runtime client's
`r.Get(ctx, key, &obj)` / `r.List(ctx, &list)` (the cache-backed client
returns deep copies unless `UnsafeDisableDeepCopy` is set), objects from a
clientset (`cs.CoreV1().Pods(ns).Get(ctx, ...)` returns a fresh object), and
test files (option `skip-test-files`).

## Why is this bad?
Listers and informer stores hand out pointers to the very objects in the
shared cache; nothing is copied. client-go says so in its API documentation
([`tools/cache`](https://pkg.go.dev/k8s.io/client-go/tools/cache#ResourceEventHandler)):
`ResourceEventHandler` "handlers MUST NOT modify the objects received; this
concerns not only the top level of structure but all the data structures
reachable from it", and of `ThreadSafeStore`: "you must not modify anything
returned by Get or List as it will break the indexing feature in addition to
not being thread safe". The
[sample-controller](https://github.com/kubernetes/sample-controller/blob/master/controller.go)
puts it as "NEVER modify objects from the store. It's a read-only, local
cache. You can use DeepCopy() to make a deep copy of original object and
modify this copy".

Changing one:

- corrupts what every other controller and event handler of the process
  sees: they act on labels, a node name or a status that the API server
  never stored, until the next event for that object replaces it;
- is a data race with the informer goroutine that replaces the object and
  with other workers reading it (`concurrent map read and map write`
  crashes when two workers touch `Labels`/`Annotations`);
- makes a later update compute no difference ("nothing changed") because the
  "old" object in the cache was changed too, so status updates are silently
  skipped;
- leaves the store's indexes stale: an object whose indexed field (a label,
  a node name) was changed in place is still filed under the old value.

## Example
```go
pod, err := c.podLister.Pods(ns).Get(name)
if err != nil {
    return err
}
pod.Labels["scheduled"] = "true" // changes the cache
_, err = c.kubeClient.CoreV1().Pods(ns).Update(ctx, pod, metav1.UpdateOptions{})
```

## Use instead
```go
cached, err := c.podLister.Pods(ns).Get(name)
if err != nil {
    return err
}
pod := cached.DeepCopy()
pod.Labels["scheduled"] = "true"
_, err = c.kubeClient.CoreV1().Pods(ns).Update(ctx, pod, metav1.UpdateOptions{})
```

## How to fix
Copy the object before the first change (`pod = pod.DeepCopy()`, or
`obj.DeepCopyObject()` for a `runtime.Object`), or send the change as a patch
built from the cached object without touching it. For controller-runtime,
drop `client.UnsafeDisableDeepCopy` from lists whose items you change.
"""


class CacheObjectMutatedGo(CacheObjectMutated, TreeSitterRule):
    languages = ("go",)
    requires = ("Lister", "lister", "GetByKey", "ByIndex", "AddFunc", "UpdateFunc", "DeleteFunc",
                "UnsafeDisableDeepCopy")
    query = """
    (call_expression
      function: (selector_expression field: (field_identifier) @k8s006.m)
      (#any-of? @k8s006.m "Get" "List" "GetByKey" "ByIndex")) @k8s006.call

    (keyed_element
      .
      [(literal_element [(identifier) (field_identifier)] @k8s006.key)
       (field_identifier) @k8s006.key]
      (#any-of? @k8s006.key "AddFunc" "UpdateFunc" "DeleteFunc" "FilterFunc")) @k8s006.handler
    """

    def __init__(self, options=None):
        super().__init__(options)
        self._for = None
        self._functions: dict[int, object] = {}
        self._handler_literals: set[int] = set()
        self._handler_names: set[str] = set()

    def _reset(self) -> None:
        if self._for is not self.ctx:
            self._for = self.ctx
            self._functions = {}
            self._handler_literals = set()
            self._handler_names = set()

    # ---- collecting candidates ----
    def on_match(self, captures):
        self._reset()
        if "k8s006.call" in captures:
            call = captures["k8s006.call"][0]
            if self._source_kind(call, {}) is not None or self._unsafe_list_target(call) is not None:
                self._add_function(call)
        elif "k8s006.handler" in captures:
            elem = captures["k8s006.handler"][0]
            body = elem.parent
            if body is None or body.type != "literal_value" or not self._is_handler_literal(body):
                return
            value = literal_value(elem.named_children[-1])
            if value is None:
                return
            if value.type == "func_literal":
                self._handler_literals.add(value.id)
                self._add_function(value)
            elif value.type in ("identifier", "selector_expression"):
                name = value if value.type == "identifier" else value.child_by_field_name("field")
                self._handler_names.add(text(name))

    def _is_handler_literal(self, body) -> bool:
        lit = body.parent
        if lit is None or lit.type != "composite_literal":
            return False
        t = lit.child_by_field_name("type")
        if t is not None and t.type == "qualified_type":
            pkg = self.ctx.go.imports.names.get(text(t.child_by_field_name("package")))
            return pkg == CACHE and text(t.child_by_field_name("name")) in HANDLER_TYPES
        return False

    def _add_function(self, node) -> None:
        """Remember the outermost function around ``node`` (closures share its variables)."""
        fn = node if node.type in FUNCS else enclosing_function(node)
        outer = fn
        while fn is not None:
            outer = fn
            fn = enclosing_function(fn)
        if outer is not None:
            self._functions[outer.id] = outer

    def check_tree(self, root):
        self._reset()
        if skips_test_code(self) or not any(
                p.startswith(("k8s.io/", "sigs.k8s.io/")) or "/listers/" in p or "/informers/" in p
                for p in self.ctx.go.imports.names.values()):
            self._functions = {}
            return  # not Kubernetes client code: a "lister" here is something else
        if self._handler_names:
            for decl in root.named_children:
                if decl.type in ("function_declaration", "method_declaration") and \
                        text(decl.child_by_field_name("name")) in self._handler_names:
                    self._functions[decl.id] = decl
        for fn in sorted(self._functions.values(), key=lambda n: n.start_byte):
            self._analyze(fn)
        self._functions = {}

    # ---- classifying expressions ----
    def _source_kind(self, call, state) -> Optional[tuple[str, str]]:
        """(kind, description) when ``call`` returns cache objects."""
        m = selector_parts(call)[1]
        recv = selector_parts(call)[0]
        if recv is None:
            return None
        rtext = text(recv)
        n = len(call_args(call))
        if m == "Get" and n == 1 and _LISTER.search(rtext):
            return PTR, "lister"
        if m == "List" and n == 1 and _LISTER.search(rtext):
            return SLICE, "lister"
        if m == "GetByKey" and n == 1:
            return IFACE, "informer store"
        if m == "Get" and n == 1 and _STORE.search(rtext) and not _LISTER.search(rtext):
            return IFACE, "informer store"
        if m == "List" and n == 0 and _STORE.search(rtext):
            return ISLICE, "informer store"
        if m == "ByIndex" and n == 2:
            return ISLICE, "informer indexer"
        return None

    def _unsafe_list_target(self, call) -> Optional[str]:
        """``list`` in ``c.List(ctx, &list, ..., client.UnsafeDisableDeepCopy)``."""
        if selector_parts(call)[1] != "List":
            return None
        args = call_args(call)
        if len(args) < 3:
            return None
        if not any("UnsafeDisableDeepCopy" in text(a) for a in args[2:]):
            return None
        target = unwrap(args[1])
        if target is None or target.type != "identifier":
            return None
        return text(target)

    def _kind_of(self, expr, state) -> Optional[tuple[str, Origin]]:
        """What a right-hand side holds: (kind, origin) or None (not from the cache)."""
        if expr is None:
            return None
        t = expr.type
        if t == "parenthesized_expression" and expr.named_child_count:
            return self._kind_of(expr.named_children[0], state)
        if t == "identifier":
            return state.get(text(expr))
        if t == "call_expression":
            src = self._source_kind(expr, state)
            if src is not None:
                return src[0], Origin(expr, src[1])
            target = self.ctx.go.package_function(expr)
            args = call_args(expr)
            if target == (META, "Accessor") and len(args) == 1:
                inner = self._kind_of(args[0], state)
                if inner is not None and inner[0] in (PTR, IFACE):
                    return PTR, inner[1]
            return None
        if t == "type_assertion_expression":
            inner = self._kind_of(expr.child_by_field_name("operand"), state)
            if inner is not None and inner[0] in (PTR, IFACE):
                return PTR, inner[1]
            return None
        if t == "index_expression":
            inner = self._kind_of(expr.child_by_field_name("operand"), state)
            if inner is not None:
                return {SLICE: (PTR, inner[1]), ISLICE: (IFACE, inner[1])}.get(inner[0])
            return None
        if t == "selector_expression":
            # tombstone.Obj of a cache.DeletedFinalStateUnknown
            field = text(expr.child_by_field_name("field"))
            inner = self._kind_of(expr.child_by_field_name("operand"), state)
            if inner is not None and field == "Obj" and inner[0] in (PTR, IFACE):
                return IFACE, inner[1]
            if inner is not None and field == "Items" and inner[0] == CRLIST:
                return CRLIST, inner[1]  # the Items slice itself
            return None
        if t == "unary_expression" and text(expr.child_by_field_name("operator")) == "&":
            operand = expr.child_by_field_name("operand")
            if operand is not None and operand.type == "index_expression":
                inner = self._kind_of(operand.child_by_field_name("operand"), state)
                if inner is not None and inner[0] == CRLIST:
                    return VALUE, inner[1]
            return None
        return None

    def _element_kind(self, collection, state) -> Optional[tuple[str, Origin]]:
        inner = self._kind_of(collection, state)
        if inner is None:
            # for _, rule := range ing.Spec.Rules: shallow copies of the cached elements
            root = root_identifier(collection) if collection is not None else None
            entry = state.get(text(root)) if root is not None and root.id != collection.id else None
            if entry is not None and entry[0] in (PTR, IFACE, VALUE) and _path_steps(collection, root):
                return VALUE, entry[1]
            return None
        return {SLICE: (PTR, inner[1]), ISLICE: (IFACE, inner[1]), CRLIST: (VALUE, inner[1])}.get(inner[0])

    # ---- the walk ----
    def _analyze(self, fn) -> None:
        state: dict[str, tuple[str, Origin]] = {}
        self._enter_function(fn, state)
        for node in descendants(fn):
            t = node.type
            if t == "func_literal":
                self._enter_function(node, state)
            elif t == "short_var_declaration" or (
                    t == "assignment_statement" and text(node.child_by_field_name("operator")) == "="):
                self._check_assignment_sink(node, state)
                self._define(node, state)
            elif t == "assignment_statement":  # +=, |=, ...
                self._check_assignment_sink(node, state)
            elif t in ("inc_statement", "dec_statement"):
                if node.named_child_count:
                    self._check_target(node.named_children[0], node, state)
            elif t == "range_clause":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None:
                    names = [x for x in left.named_children if x.type == "identifier"]
                    for i, x in enumerate(names):
                        kind = self._element_kind(right, state) if i == 1 else None
                        self._set(state, text(x), kind)
            elif t == "type_switch_statement":
                alias = node.child_by_field_name("alias")
                value = node.child_by_field_name("value")
                if alias is not None:
                    kind = self._kind_of(value, state)
                    kind = (PTR, kind[1]) if kind is not None and kind[0] in (PTR, IFACE) else None
                    for x in alias.named_children:
                        self._set(state, text(x), kind)
            elif t == "var_spec":
                value = node.child_by_field_name("value")
                vals = value.named_children if value is not None else []
                names = node.children_by_field_name("name")
                for i, x in enumerate(names):
                    kind = self._kind_of(vals[i], state) if len(vals) == len(names) else None
                    self._set(state, text(x), kind)
            elif t == "call_expression":
                self._check_call_sink(node, state)
                target = self._unsafe_list_target(node)
                if target is not None:
                    state[target] = (CRLIST, Origin(node, "controller-runtime List with UnsafeDisableDeepCopy"))

    def _enter_function(self, fn, state) -> None:
        handler = fn.id in self._handler_literals or (
            fn.type in ("function_declaration", "method_declaration")
            and text(fn.child_by_field_name("name")) in self._handler_names)
        for names, typ in params(fn):
            is_any = typ is not None and text(typ).replace(" ", "") in ("interface{}", "any")
            for name in names:
                kind = (IFACE, Origin(fn, "event handler argument")) if handler and is_any else None
                self._set(state, name, kind)

    @staticmethod
    def _set(state, name: str, kind) -> None:
        if name == "_":
            return
        if kind is None:
            state.pop(name, None)
        else:
            state[name] = kind

    def _define(self, stmt, state) -> None:
        left, right = stmt.child_by_field_name("left"), stmt.child_by_field_name("right")
        if left is None or right is None:
            return
        ls, rs = left.named_children, right.named_children
        for i, target in enumerate(ls):
            if target.type != "identifier":
                continue
            if len(rs) == len(ls):
                kind = self._kind_of(rs[i], state)
            elif len(rs) == 1 and i == 0:  # pod, err := lister.Get(name)
                kind = self._kind_of(rs[0], state)
            else:
                kind = None
            self._set(state, text(target), kind)

    # ---- sinks ----
    def _check_assignment_sink(self, stmt, state) -> None:
        left = stmt.child_by_field_name("left")
        if left is None:
            return
        for target in left.named_children:
            self._check_target(target, stmt, state)

    def _check_target(self, target, stmt, state) -> None:
        if target.type == "identifier":
            return  # rebinding the variable itself
        root = root_identifier(target)
        if root is None:
            return
        entry = state.get(text(root))
        if entry is None:
            return
        kind, origin = entry
        steps = _path_steps(target, root)
        if not steps:
            return
        if kind in (SLICE, ISLICE):
            if not (steps[0] == "index" and len(steps) > 1):
                return
        elif kind == CRLIST:
            # list.Items[i].Labels[k] = v: the element is a shallow copy, only
            # writes through its maps, slices and pointers reach the cache
            if not (len(steps) > 2 and steps[0] == "field" and steps[1] == "index"
                    and any(s in ("index", "deref") for s in steps[2:])):
                return
        elif kind == VALUE:
            if not any(s in ("index", "deref") for s in steps):
                return
        what = " ".join(text(stmt).split())
        self._emit(stmt, text(root), origin, f"`{_short(what)}` modifies it in place", kind)

    def _check_call_sink(self, call, state) -> None:
        fn = call.child_by_field_name("function")
        args = call_args(call)
        if fn is None:
            return
        # delete(pod.Labels, k)
        if fn.type == "identifier" and text(fn) == "delete" and args:
            self._check_target(args[0], call, state)
            return
        if fn.type == "selector_expression":
            name = text(fn.child_by_field_name("field"))
            operand = fn.child_by_field_name("operand")
            # pod.SetLabels(...), obj.GetObjectKind().SetGroupVersionKind(...)
            if name in SETTERS and operand is not None:
                base = operand
                if base.type == "call_expression" and selector_parts(base)[1] == "GetObjectKind":
                    base = selector_parts(base)[0]
                if base is not None and base.type == "identifier":
                    entry = state.get(text(base))
                    if entry is not None and entry[0] in (PTR, IFACE):
                        self._emit(call, text(base), entry[1], f"`{_short(text(call))}` modifies it in place")
                        return
            target = self.ctx.go.package_function(call)
            if target in MUTATING_HELPERS:
                idx = MUTATING_HELPERS[target]
                if idx < len(args):
                    arg = args[idx]
                    root = root_identifier(arg)
                    entry = state.get(text(root)) if root is not None else None
                    if entry is not None and (entry[0] in (PTR, IFACE) or (
                            entry[0] in (VALUE, CRLIST) and target in DEEP_HELPERS)):
                        self._emit(call, text(root), entry[1], f"`{_short(text(call))}` modifies it in place",
                                   entry[0])
                return
            if name in WRITE_BACK and len(args) >= 2 and _is_context(args[0]):
                obj = unwrap(args[1])
                if obj is not None and obj.type == "identifier":
                    entry = state.get(text(obj))
                    if entry is not None and entry[0] in (PTR, IFACE):
                        self._emit(call, text(obj), entry[1],
                                   f"is passed to `{name}` without `DeepCopy()`: whatever was changed on it "
                                   "before (here or in a helper) was changed in the cache")

    def _emit(self, node, var: str, origin: Origin, what: str, kind: str = PTR) -> None:
        if origin.reported:
            return
        origin.reported = True
        src = origin.node
        if src.type in FUNCS:
            where = f"`{var}` is a shared object of the informer cache ({origin.what})"
            related = []
        else:
            noun = "is a shared object" if kind in (PTR, IFACE) else "holds shared objects"
            where = (f"`{var}` {noun} of the informer cache "
                     f"({origin.what} `{_short(' '.join(text(src).split()), 60)}`)")
            related = [(src, "the object comes from the shared cache here")]
        if kind in (PTR, IFACE):
            advice = f"copy it first (`{var} = {var}.DeepCopy()`)"
        else:
            advice = "copy the element first (`.DeepCopy()`)"
        self.report(node, f"{where} and {what}: other readers of the cache see the change and race "
                          f"with it; {advice}", related=related)


def _path_steps(target, root) -> list[str]:
    """The access path from ``root`` to ``target``, outermost last: "field",
    "index" or "deref" per step (``*pod.Spec.Replicas`` -> field, field, deref)."""
    steps: list[str] = []
    node = target
    while node is not None and node.id != root.id:
        t = node.type
        if t == "selector_expression":
            steps.append("field")
            node = node.child_by_field_name("operand")
        elif t in ("index_expression", "slice_expression"):
            steps.append("index")
            node = node.child_by_field_name("operand")
        elif t == "unary_expression":
            steps.append("deref")
            node = node.child_by_field_name("operand")
        elif t == "parenthesized_expression" and node.named_child_count:
            node = node.named_children[0]
        else:
            return []
    return list(reversed(steps))


def _is_context(arg) -> bool:
    """``ctx``, ``c.ctx``, ``context.TODO()``: the first argument of a client call."""
    t = text(arg)
    return "ctx" in t.lower() or "context" in t.lower()


def _short(code: str, n: int = 70) -> str:
    return code if len(code) <= n else code[: n - 1] + "…"
