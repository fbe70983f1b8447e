"""K8S009 api-polling-loop: API reads in an unbounded loop with a sleep (Go, Python)."""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst
from libcst.metadata import ParentNodeProvider

from cnlint import PythonRule, Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code
from cnlint.golang import (
    call_args, descendants, enclosing_function, enclosing_loops, is_bounded_loop, loop_header, loop_level_nodes,
    selector_parts, text,
)
from cnlint.python import bool_value, dotted_name, is_k8s_name, keyword_arg, walk


from .import_paths import META_V1, TIME
from .options import SKIP_TEST_FILES_OPTION

#: CoreV1(), AppsV1(), NetworkingV1beta1(), ... on a typed clientset
_GROUP_VERSION = re.compile(r"^[A-Z][A-Za-z0-9]*V[0-9]+((alpha|beta)[0-9]+)?$")


class ApiPollingLoop(Rule):
    id = "K8S009"
    name = "api-polling-loop"
    summary = "The API server is polled in a loop with a sleep instead of watched"
    severity = "warning"
    tags = ("kubernetes", "performance", "reliability", "client-go")
    precision = "high"
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports reads from the Kubernetes API repeated by hand in an unbounded loop
that sleeps between rounds:

- **Go**: a clientset `List(ctx, metav1.ListOptions{...})` or
  `Get(ctx, name, metav1.GetOptions{})` (a typed clientset,
  `cs.CoreV1().Pods(ns).List(...)`, or the dynamic client,
  `dyn.Resource(gvr).Namespace(ns).List(...)`) inside a `for {}` or
  `for condition {}` loop whose body also calls `time.Sleep(...)` or waits on
  `<-time.After(...)`.
- **Python**: a `list_*` / `read_*` call of a kubernetes client API object
  (`CoreV1Api`, `AppsV1Api`, `BatchV1Api`, `CustomObjectsApi` including its
  `get_namespaced_custom_object`, ...) inside `while True:` /
  `while not done:` / `while self.running:` whose body calls `time.sleep()`
  (or `asyncio.sleep()`).

Not reported, by design:

- retry loops: a counting loop (`for i := 0; i < 5; i++`, `for range 3`,
  `for attempt in range(5)`, `while retries < 5`), a sleep that only runs
  on the error path (`if err != nil { time.Sleep(...); continue }`,
  `except ApiException: time.sleep(...)`), and a loop that leaves as soon as
  the call succeeds (`if err == nil { break }`): they wait for one call to
  succeed, they do not poll;
- waits bounded by a deadline: `for time.Now().Before(deadline)`,
  `if time.Since(start) > timeout { return ... }` in the loop,
  `select { ... case <-waitCtx.Done(): return ... }` with `waitCtx` from
  `context.WithTimeout` / `context.WithDeadline` in the same function,
  `while time.time() < deadline:` (any `while` whose condition is a
  comparison) and `if time.monotonic() - start > timeout: raise ...`. They
  are what `wait.PollUntilContextTimeout` does, and it is not reported
  either: its closure runs in a function literal, not in a loop of yours
  (the same for `wait.PollImmediate`, `wait.Until` and friends);
- paginated lists (`ListOptions{Continue: token}`, `_continue=token`): each
  round reads the next page;
- loops over a collection (`for _, ns := range namespaces`), where the sleep
  spaces out different requests;
- `for range ticker.C` and `select` on a ticker (only `time.Sleep` and
  `<-time.After` count as the loop's sleep);
- controller-runtime client reads (served from the informer cache) and test
  files (option `skip-test-files`).

A wait that can last forever (`while True:` ... `if pod.status.phase !=
"Pending": break` ... `time.sleep(1)`) is reported: it polls without bound.

## Why is this bad?
Every round of a polling loop is a full request to the API server, and a
`List` is the most expensive one it serves (every object of the type, from
etcd unless a resourceVersion allows the watch cache). Multiply by the
replicas of the component and the number of clusters: polling is a classic
source of API server overload and of 429 throttling for everyone else. It
also reacts late (up to one interval) and misses changes between two polls,
and `time.Sleep` ignores cancellation, so shutdown hangs for up to one
interval.

The Kubernetes API is built to be watched: a shared informer lists once and
then receives changes as they happen, from a cache shared by all
controllers of the process
([client-go informers](https://pkg.go.dev/k8s.io/client-go/informers),
[Efficient detection of changes](https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)).
When polling really is what you want (waiting for one condition),
[`wait.PollUntilContextTimeout`](https://pkg.go.dev/k8s.io/apimachinery/pkg/util/wait#PollUntilContextTimeout)
bounds it and honours the context.

## Example
```go
for {
    pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
    if err == nil {
        reconcile(pods.Items)
    }
    time.Sleep(10 * time.Second)
}
```

```python
while True:
    pods = v1.list_namespaced_pod("default", label_selector="app=web")
    reconcile(pods.items)
    time.sleep(10)
```

## Use instead
```go
factory := informers.NewSharedInformerFactoryWithOptions(cs, 10*time.Minute, informers.WithNamespace(ns))
factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
    AddFunc:    func(obj interface{}) { enqueue(obj) },
    UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
})
factory.Start(ctx.Done())

// or, to wait for one condition:
err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 5*time.Minute, true,
    func(ctx context.Context) (bool, error) {
        pod, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
        return err == nil && pod.Status.Phase == corev1.PodRunning, nil
    })
```

```python
w = watch.Watch()
for event in w.stream(v1.list_namespaced_pod, "default", label_selector="app=web",
                      timeout_seconds=300):
    reconcile_one(event["type"], event["object"])
```

## How to fix
Replace the loop by a shared informer (Go) or a watch (Python
`watch.Watch().stream(...)` in a loop that resumes from the last
`resource_version`); to wait for one state, use
`wait.PollUntilContextTimeout(ctx, ...)` in Go or a loop bounded by a
deadline. If a periodic full resync is really needed, use a long interval
and `wait.UntilWithContext(ctx, ...)` so that it stops with the context.
"""


class ApiPollingLoopGo(ApiPollingLoop, TreeSitterRule):
    languages = ("go",)
    requires = ("Sleep", "time.After")
    query = """
    (call_expression
      function: (selector_expression field: (field_identifier) @k8s009.m)
      (#any-of? @k8s009.m "List" "Get")) @k8s009.call
    """

    def on_match(self, captures):
        call = captures["k8s009.call"][0]
        if not self._is_api_read(call) or skips_test_code(self):
            return
        if "Continue" in text(call_args(call)[-1]):
            return  # paginating (ListOptions{Continue: token}): each round reads the next page
        for loop in enclosing_loops(call):
            kind, _ = loop_header(loop)
            if kind == "range" or is_bounded_loop(loop):
                # a counted retry loop or iteration over items: not a poll (but an
                # outer unbounded loop may still be one)
                continue
            sleep = self._sleep_in(loop)
            if sleep is None or self._only_on_error(call, loop):
                continue
            if _has_deadline(loop) or self._ends_with_timeout_context(loop) or self._breaks_on_success(loop):
                return  # a bounded wait (a deadline), or a retry until the call succeeds
            if self._reported.get(loop.id) is self.ctx:
                return  # one finding per loop: its first read
            self._reported[loop.id] = self.ctx
            verb = selector_parts(call)[1]
            self.report(call, f"`{_short(text(call))}` is polled in a loop that sleeps between rounds: every "
                              f"round is a full {verb.upper()} on the API server (times every replica), "
                              "changes between rounds are missed and the sleep ignores cancellation; use a "
                              "shared informer or a watch, or `wait.PollUntilContextTimeout(ctx, ...)` to "
                              "wait for one condition",
                        related=[(sleep, "the loop sleeps here")])
            return

    def __init__(self, options=None):
        super().__init__(options)
        self._reported: dict[int, object] = {}

    def check_tree(self, root):
        self._reported = {}

    def _is_api_read(self, call) -> bool:
        args = call_args(call)
        verb = selector_parts(call)[1]
        if verb == "List" and len(args) != 2 or verb == "Get" and len(args) != 3:
            return False
        last = args[-1]
        if last.type == "composite_literal" and \
                self.ctx.go.qualified(last.child_by_field_name("type")) in ((META_V1, "ListOptions"),
                                                                            (META_V1, "GetOptions")):
            return True
        # the receiver chain: cs.CoreV1().Pods(ns) / dyn.Resource(gvr).Namespace(ns)
        node = selector_parts(call)[0]
        while node is not None and node.type in ("call_expression", "selector_expression"):
            if node.type == "call_expression":
                name = selector_parts(node)[1]
                if _GROUP_VERSION.match(name) or name == "Resource":
                    return True
                node = selector_parts(node)[0]
            else:
                node = node.child_by_field_name("operand")
        return False

    def _sleep_in(self, loop):
        """A ``time.Sleep(...)`` / ``<-time.After(...)`` run on every round of ``loop``."""
        for n in loop_level_nodes(loop):
            if n.type == "call_expression" and self.ctx.go.package_function(n) in ((TIME, "Sleep"), (TIME, "After")):
                if self.ctx.go.package_function(n) == (TIME, "After") and not _received(n):
                    continue
                if not self._under_error_check(n, loop):
                    return n
        return None

    def _ends_with_timeout_context(self, loop) -> bool:
        """``select { ... case <-waitCtx.Done(): return ... }`` in the loop, where
        ``waitCtx`` comes from ``context.WithTimeout`` / ``WithDeadline`` in this
        function: a wait bounded by a deadline, as ``wait.PollUntilContextTimeout``."""
        fn = enclosing_function(loop)
        if fn is None:
            return False
        timed = set()
        for n in descendants(fn, into_funcs=False):
            if n.type == "short_var_declaration":
                right = n.child_by_field_name("right")
                value = right.named_children[0] if right is not None and right.named_children else None
                if value is not None and self.ctx.go.package_call(value, "context") in _TIMEOUT_CONTEXTS:
                    timed.add(text(n.child_by_field_name("left").named_children[0]))
        if not timed:
            return False
        for n in loop_level_nodes(loop):
            if n.type != "communication_case" or not n.named_children:
                continue
            done = n.named_children[0]
            while done is not None and done.type in ("receive_statement", "unary_expression"):
                done = done.named_children[-1] if done.named_children else None
            if done is None or done.type != "call_expression":
                continue
            receiver, method = selector_parts(done)
            if method == "Done" and receiver is not None and text(receiver) in timed and any(
                    x.type == "return_statement" for x in descendants(n, into_funcs=False)):
                return True  # (a ``break`` there leaves only the select)
        return False

    @staticmethod
    def _breaks_on_success(loop) -> bool:
        """``if err == nil { break }`` (or ``return``): the loop retries one call."""
        for n in loop_level_nodes(loop):
            if n.type != "if_statement":
                continue
            cond = n.child_by_field_name("condition")
            if cond is None or not re.fullmatch(r"\s*err\w*\s*==\s*nil\s*", text(cond)):
                continue
            body = n.child_by_field_name("consequence")
            if body is not None and any(x.type in ("break_statement", "return_statement")
                                        for x in descendants(body, into_funcs=False)):
                return True
        return False

    @staticmethod
    def _under_error_check(node, loop) -> bool:
        """Inside ``if err != nil { ... }`` (or any ``if`` testing an error) below ``loop``."""
        child, cur = node, node.parent
        while cur is not None and cur.id != loop.id:
            if cur.type == "if_statement":
                cond = cur.child_by_field_name("condition")
                branch = _error_branch(cur, cond)
                if branch is not None and branch.id == child.id:
                    return True
            child, cur = cur, cur.parent
        return False

    def _only_on_error(self, call, loop) -> bool:
        return self._under_error_check(call, loop)


_TIMEOUT_CONTEXTS = ("WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause")
_DEADLINE = re.compile(r"time\.(Since|Until|Now)\(|deadline|timeout|Deadline|Timeout|expire")


def _has_deadline(loop) -> bool:
    """The loop ends at a deadline: ``for time.Now().Before(deadline)``, or
    ``if time.Since(start) > timeout { return ... }`` / ``break`` in its body."""
    kind, clause = loop_header(loop)
    if kind == "cond" and _DEADLINE.search(text(clause)):
        return True
    for n in loop_level_nodes(loop):
        if n.type != "if_statement":
            continue
        cond = n.child_by_field_name("condition")
        body = n.child_by_field_name("consequence")
        if cond is not None and body is not None and _DEADLINE.search(text(cond)) and \
                any(x.type in ("break_statement", "return_statement") for x in descendants(body, into_funcs=False)):
            return True
    return False


def _error_branch(if_stmt, cond):
    """The branch of ``if`` that runs when an error happened: the consequence of
    ``err != nil`` / ``apierrors.IsNotFound(err)``, the alternative of ``err == nil``."""
    if cond is None or not re.search(r"\berr\w*\b", text(cond)):
        return None
    if cond.type == "binary_expression" and text(cond.child_by_field_name("operator")) == "==" and \
            text(cond.child_by_field_name("right")) == "nil":
        return if_stmt.child_by_field_name("alternative")
    if cond.type == "binary_expression" and text(cond.child_by_field_name("operator")) == "&&" and \
            re.search(r"\berr\w*\s*==\s*nil", text(cond)):
        return if_stmt.child_by_field_name("alternative")
    return if_stmt.child_by_field_name("consequence")


def _received(after_call) -> bool:
    parent = after_call.parent
    return parent is not None and parent.type == "unary_expression" and \
        text(parent.child_by_field_name("operator")) == "<-"


def _short(code: str, n: int = 60) -> str:
    code = " ".join(code.split())
    return code if len(code) <= n else code[: n - 1] + "…"


# ------------------------------------------------------------------ Python

_GENERATED = re.compile(r"^(list|read)_\w+$|^(get|list)_(namespaced|cluster)_custom_object\w*$")
_STRONG = re.compile(r"namespaced|for_all_namespaces|custom_object")
SLEEPS = {"time.sleep", "asyncio.sleep"}


class ApiPollingLoopPython(ApiPollingLoop, PythonRule):
    requires = ("kubernetes",)
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def visit_Module(self, node: cst.Module) -> None:
        self._skip = skips_test_code(self)
        self._apis: set[str] = set()  # dotted names bound to a kubernetes client API object
        self._reported: set[int] = set()  # loops already reported (one finding per loop)

    # ---- which names hold an API object ----
    def _is_api_ctor(self, value) -> bool:
        if not isinstance(value, cst.Call):
            return False
        for q in self.qualified_names(value.func):
            last = q.rsplit(".", 1)[-1]
            if is_k8s_name(q) and ".client" in q and last.endswith("Api") and last[:1].isupper():
                return True
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._is_api_ctor(node.value):
            for t in node.targets:
                name = dotted_name(t.target)
                if name:
                    self._apis.add(name)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and self._is_api_ctor(node.value) or self._is_api_annotation(node.annotation):
            name = dotted_name(node.target)
            if name:
                self._apis.add(name)

    def visit_Param(self, node: cst.Param) -> None:
        if node.annotation is not None and self._is_api_annotation(node.annotation):
            self._apis.add(node.name.value)

    def _is_api_annotation(self, ann: cst.Annotation) -> bool:
        for q in self.qualified_names(ann.annotation):
            last = q.rsplit(".", 1)[-1]
            if is_k8s_name(q) and last.endswith("Api") and last[:1].isupper():
                return True
        return False

    # ---- the calls ----
    def visit_Call(self, node: cst.Call) -> None:
        if self._skip or not isinstance(node.func, cst.Attribute):
            return
        method = node.func.attr.value
        if keyword_arg(node, "_continue") is not None:
            return  # paginating: each round reads the next page
        watch = keyword_arg(node, "watch")
        if not _GENERATED.match(method) or watch is not None and bool_value(watch.value) is not False:
            return  # list_x(watch=True) is a watch
        recv = node.func.value
        if not (self._is_api_ctor(recv) or dotted_name(recv) in self._apis or (
                _STRONG.search(method) and not dotted_name(recv) in ("self", "cls"))):
            return
        chain = list(self._ancestors(node))
        for i, anc in enumerate(chain):
            if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return
            if isinstance(anc, cst.While) and (chain[i - 1] if i else node) is anc.body:
                if isinstance(anc.test, (cst.Comparison, cst.BooleanOperation)):
                    continue  # while time.time() < deadline / while n < 5: bounded
                if self._in_except(chain[:i]) or self._has_deadline(anc):
                    return
                sleep = self._sleep_in(anc)
                if sleep is not None and id(anc) not in self._reported:
                    self._reported.add(id(anc))
                    code = " ".join(self.ctx.tree.code_for_node(node.func).split()) + "(...)"
                    self.report(node, f"`{code}` is polled in a `while` loop that sleeps between rounds: "
                                      "every round is a full request to the API server (times every "
                                      "replica) and changes between rounds are missed; use a watch "
                                      "(`watch.Watch().stream(...)`), or bound the loop with a deadline "
                                      "if it waits for one condition",
                                related=[(sleep, "the loop sleeps here")])
                return

    def _ancestors(self, node):
        cur = node
        while True:
            parent = self.get_metadata(ParentNodeProvider, cur, None)
            if parent is None:
                return
            yield parent
            cur = parent

    @staticmethod
    def _in_except(chain) -> bool:
        return any(isinstance(a, cst.ExceptHandler) for a in chain)

    def _has_deadline(self, loop: cst.While) -> bool:
        """``if time.time() > deadline: raise ...`` (or ``return``/``break``) in the loop:
        a wait bounded by a deadline."""
        code = self.ctx.tree.code_for_node
        stack = list(loop.body.children)
        while stack:
            n = stack.pop()
            if isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.For, cst.While)):
                continue
            if isinstance(n, cst.If) and _PY_DEADLINE.search(code(n.test)) and any(
                    isinstance(x, (cst.Raise, cst.Return, cst.Break)) for x in walk(n.body)):
                return True
            stack.extend(n.children)
        return False

    def _sleep_in(self, loop: cst.While) -> Optional[cst.Call]:
        """A sleep run on every round (not in an ``except`` handler, a nested loop or function)."""
        stack = list(loop.body.children)
        while stack:
            n = stack.pop()
            if isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef, cst.For, cst.While, cst.ExceptHandler)):
                continue
            if isinstance(n, cst.Call) and self.qualified_names(n.func) & SLEEPS:
                return n
            stack.extend(n.children)
        return None


_PY_DEADLINE = re.compile(r"time\.(time|monotonic|perf_counter)\(|datetime\.|deadline|timeout|expire", re.I)
