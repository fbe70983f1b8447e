"""K8S008 client-built-per-call: Kubernetes clients built in a loop or per request (Go, Python)."""

from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst.metadata import ParentNodeProvider

from cnlint import PythonRule, Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code
from cnlint.golang import (
    breaks_loop, call_args, descendants, enclosing_loops, is_bounded_loop, is_immediately_called,
    loop_level_nodes, loop_variables, params, root_identifier, text,
)
from cnlint.python import is_k8s_name, is_none, walk


from .import_paths import CTRL, CTRL_CLIENT
from .options import SKIP_TEST_FILES_OPTION

CLIENTSET = "k8s.io/client-go/kubernetes"
#: (import path, function) -> what it builds
GO_BUILDERS = {
    (CLIENTSET, "NewForConfig"): "a clientset",
    (CLIENTSET, "NewForConfigOrDie"): "a clientset",
    (CLIENTSET, "NewForConfigAndClient"): "a clientset",
    ("k8s.io/client-go/rest", "InClusterConfig"): "the in-cluster config",
    ("k8s.io/client-go/tools/clientcmd", "BuildConfigFromFlags"): "a config from the kubeconfig file",
    ("k8s.io/client-go/tools/clientcmd", "BuildConfigFromKubeconfigGetter"): "a config from a kubeconfig",
    ("k8s.io/client-go/dynamic", "NewForConfig"): "a dynamic client",
    ("k8s.io/client-go/dynamic", "NewForConfigOrDie"): "a dynamic client",
    ("k8s.io/client-go/discovery", "NewDiscoveryClientForConfig"): "a discovery client",
    ("k8s.io/client-go/discovery", "NewDiscoveryClientForConfigOrDie"): "a discovery client",
    ("k8s.io/client-go/metadata", "NewForConfig"): "a metadata client",
    ("k8s.io/client-go/metadata", "NewForConfigOrDie"): "a metadata client",
    (CTRL_CLIENT, "New"): "a controller-runtime client",
    (CTRL_CLIENT, "NewWithWatch"): "a controller-runtime client",
    (CTRL, "GetConfig"): "a config from the kubeconfig",
    (CTRL, "GetConfigOrDie"): "a config from the kubeconfig",
    ("sigs.k8s.io/controller-runtime/pkg/client/config", "GetConfig"): "a config from the kubeconfig",
    ("sigs.k8s.io/controller-runtime/pkg/client/config", "GetConfigOrDie"): "a config from the kubeconfig",
}
WHY_CONFIG = ("it re-reads and parses the kubeconfig (or the service-account token and CA files) every time, "
              "and every client built from the new config gets its own rate limiter")
WHY_CLIENT = ("each new client gets its own QPS/Burst rate limiter, so client-side throttling is not shared and "
              "the process can flood the API server, and it shares connections with earlier clients only "
              "through client-go's TLS transport cache, which does not cover exec or auth-provider "
              "credentials or a custom Dial, Proxy or WrapTransport (then each client opens new TCP and TLS "
              "connections)")
WHY_DISCOVERY = "; nothing it discovers is kept for the next call"


def _why_go(what: str) -> str:
    if what.startswith(("the in-cluster config", "a config")):
        return WHY_CONFIG
    return WHY_CLIENT + (WHY_DISCOVERY if "discovery" in what else "")


class ClientBuiltPerCall(Rule):
    id = "K8S008"
    name = "client-built-per-call"
    summary = "A Kubernetes client or config is built in a loop or per request"
    severity = "warning"
    tags = ("kubernetes", "performance", "reliability", "client-go")
    precision = "high"
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports code that builds a Kubernetes client, or loads its configuration,
again and again:

- **Go**: `kubernetes.NewForConfig[OrDie]`, `rest.InClusterConfig`,
  `clientcmd.BuildConfigFromFlags`, `dynamic.NewForConfig`,
  `discovery.NewDiscoveryClientForConfig`, `metadata.NewForConfig`,
  controller-runtime's `client.New` and `ctrl.GetConfig[OrDie]` (import
  aliases resolved) called in a `for` loop, in an HTTP handler (a function
  with `(w http.ResponseWriter, r *http.Request)`, including a literal passed
  to `http.HandleFunc`), a gin/echo/fiber handler (`func(c *gin.Context)`) or
  a controller-runtime `Reconcile(ctx, req)` method.
- **Python** (imports and aliases resolved): `config.load_kube_config()`,
  `config.load_incluster_config()`, `config.new_client_from_config()`,
  `client.ApiClient(...)`, `dynamic.DynamicClient(...)` and any
  `client.XxxApi()` built without an `api_client` argument (it creates its
  own `ApiClient`), called in a `for`/`while` loop, or in a request handler:
  a function decorated with `@app.route`, `@app.get/post/put/patch/delete`,
  `@router.get...`, `@api_view`, or a view whose first parameter (after
  `self`) is `request`.

Not reported: loops that build one client per item (the arguments depend on
the loop variable: one client per cluster or kubeconfig context), retry loops
(a counting loop `for i := 0; i < 5; i++` / `for attempt in range(5)`, or a
loop that `break`s or `return`s the client once built), lazy initialisation
guarded by `if c.client == nil` / `if self.api is None`, `sync.Once`, and
test files (option `skip-test-files`).

## Why is this bad?
A client is meant to be built once at start-up and shared. Building one per
iteration or per request:

- re-reads and re-parses the kubeconfig (or the service-account token and
  CA files) every time;
- opens new connections: every new Python `ApiClient` has its own urllib3
  pool, so each one starts with new TCP and TLS handshakes; client-go shares
  transports between clients built from equal TLS settings, but not for
  configs with exec or auth-provider credentials, a custom `Dial`, `Proxy`
  or `WrapTransport`, where every client opens its own connections; either
  way latency and API server load go up;
- gets a fresh client-side rate limiter (client-go's QPS/Burst), so the
  process no longer throttles itself and can flood the API server (which then
  answers 429 and API Priority and Fairness queues other clients);
- for a Python `DynamicClient`, loads and parses its discovery cache file
  again (and fetches `/version` and `/apis` when that file is missing or
  stale), and starts with an empty in-memory resource map; for a client-go
  discovery client, the discovery answers are not cached between calls;
- leaks: un-closed `ApiClient`s keep their thread pools and sockets.

See client-go's [`rest.Config`](https://pkg.go.dev/k8s.io/client-go/rest#Config)
(`QPS`/`Burst` are per client) and the
[kubernetes-client/python](https://github.com/kubernetes-client/python/blob/master/examples/multiple_clusters.py)
examples, which build each `ApiClient` once.

## Example
```go
func podsHandler(w http.ResponseWriter, r *http.Request) {
    cfg, _ := rest.InClusterConfig()
    cs, _ := kubernetes.NewForConfig(cfg)
    pods, _ := cs.CoreV1().Pods("default").List(r.Context(), metav1.ListOptions{})
    json.NewEncoder(w).Encode(pods)
}
```

```python
@app.get("/pods")
def pods():
    config.load_incluster_config()
    v1 = client.CoreV1Api()
    return [p.metadata.name for p in v1.list_namespaced_pod("default").items]
```

## Use instead
```go
type server struct{ cs kubernetes.Interface }

func (s *server) podsHandler(w http.ResponseWriter, r *http.Request) {
    pods, _ := s.cs.CoreV1().Pods("default").List(r.Context(), metav1.ListOptions{})
    json.NewEncoder(w).Encode(pods)
}
```

```python
config.load_incluster_config()
v1 = client.CoreV1Api()

@app.get("/pods")
def pods():
    return [p.metadata.name for p in v1.list_namespaced_pod("default").items]
```

## How to fix
Build the config and the client once (in `main`, a constructor or at module
level) and pass it to the loop or handler; clients are safe for concurrent
use. In Python, share one `ApiClient` and pass it to every API class:
`client.CoreV1Api(api_client)`. To reach several clusters, keep one client
per cluster in a map built at start-up.
"""


class ClientBuiltPerCallGo(ClientBuiltPerCall, TreeSitterRule):
    languages = ("go",)
    requires = ("NewForConfig", "InClusterConfig", "BuildConfigFromFlags", "BuildConfigFromKubeconfigGetter",
                "NewDiscoveryClientForConfig", "controller-runtime")
    query = """
    (call_expression
      function: (selector_expression
        operand: (identifier)
        field: (field_identifier) @k8s008.fn)
      (#any-of? @k8s008.fn "NewForConfig" "NewForConfigOrDie" "NewForConfigAndClient" "InClusterConfig"
                           "BuildConfigFromFlags" "BuildConfigFromKubeconfigGetter" "NewDiscoveryClientForConfig"
                           "NewDiscoveryClientForConfigOrDie" "New" "NewWithWatch" "GetConfig"
                           "GetConfigOrDie")) @k8s008.call
    """

    def on_match(self, captures):
        call = captures["k8s008.call"][0]
        target = self.ctx.go.package_function(call)
        what = GO_BUILDERS.get(target) if target is not None else None
        if what is None and target is not None and target[1] in ("NewForConfig", "NewForConfigOrDie") \
                and "/clientset/" in target[0] + "/":
            what = "a generated clientset"
        if what is None or skips_test_code(self):
            return
        shown = f"`{text(call.child_by_field_name('function'))}`"
        if self._lazy_init(call):
            return
        for loop in enclosing_loops(call):
            if self._per_iteration(loop, call):
                self.report(call, f"{shown} builds {what} on every iteration of this loop: {_why_go(what)}; "
                                  "build it once before the loop and reuse it",
                            related=[(loop.children[0], "the loop")])
                return
        fn = self._function(call)
        if fn is not None:
            kind = self.ctx.go.handler_kind(fn)
            if kind is not None and self._same_every_time(call, fn):
                self.report(call, f"{shown} builds {what} on every request of this {kind}: {_why_go(what)}; "
                                  "build it once at start-up and share it (clients are safe for concurrent use)")

    @staticmethod
    def _function(call):
        node = call.parent
        while node is not None:
            if node.type in ("function_declaration", "method_declaration"):
                return node
            if node.type == "func_literal":
                return node if not is_immediately_called(node) else _outer(node)
            node = node.parent
        return None

    def _per_iteration(self, loop, call) -> bool:
        if is_bounded_loop(loop) or breaks_loop(loop):
            return False
        if not self._same_every_time(call, loop):
            return False  # one client per item (cluster, context, kubeconfig), or a new config
        if self._returns_result(loop, call):
            return False
        return True

    def _same_every_time(self, call, scope, depth: int = 0) -> bool:
        """Whether the builder's inputs are the same on every run of ``scope`` (a
        loop or a handler): they come from outside it, or from other builders
        called with such inputs. An input declared in ``scope`` any other way
        varies: a loop item, a value received from a channel, a handler's
        request, per-request credentials (``cfg.BearerToken = token``,
        ``rest.CopyConfig(base)``, ``&rest.Config{...}`` built in place)."""
        if depth > 4:
            return False
        imports = self.ctx.go.imports.names
        names = set()
        for arg in call_args(call):
            names |= {text(n) for n in _identifiers(arg)}
        names -= set(imports)
        names -= {"nil", "true", "false", "_"}
        varying = loop_variables(scope) if scope.type == "for_statement" else {
            n for ns, _ in params(scope) for n in ns}
        if names & varying:
            return False
        body = scope.child_by_field_name("body")
        if body is None:
            return True
        for n in descendants(body, into_funcs=False):
            if n.start_byte >= call.start_byte:
                break
            t = n.type
            if t in ("short_var_declaration", "assignment_statement", "var_spec", "receive_statement",
                     "range_clause"):
                left = n.child_by_field_name("left") if t != "var_spec" else None
                targets = left.named_children if left is not None else n.children_by_field_name("name")
                for i, target in enumerate(targets):
                    root = root_identifier(target)
                    if root is None or text(root) not in names:
                        continue
                    if target.type != "identifier":
                        return False  # cfg.BearerToken = token: the config is changed here
                    if t in ("receive_statement", "range_clause"):
                        return False
                    right = n.child_by_field_name("right") if t != "var_spec" else n.child_by_field_name("value")
                    values = right.named_children if right is not None else []
                    value = values[i] if len(values) == len(targets) else values[0] if values else None
                    if value is None or value.type != "call_expression" or \
                            self.ctx.go.package_function(value) not in GO_BUILDERS:
                        return False
                    if not self._same_every_time(value, scope, depth + 1):
                        return False
        return True

    def _returns_result(self, loop, call) -> bool:
        """``for { cfg, err := rest.InClusterConfig(); if err == nil { return cfg, nil } ... }``."""
        stmt = call.parent
        while stmt is not None and stmt.type not in ("short_var_declaration", "assignment_statement",
                                                      "return_statement", "var_spec"):
            if stmt.type in ("block", "for_statement"):
                return False
            stmt = stmt.parent
        if stmt is None:
            return False
        if stmt.type == "return_statement":
            return True
        left = stmt.child_by_field_name("left")
        names = {text(n) for n in (left.named_children if left is not None else stmt.children_by_field_name("name"))}
        names.discard("_")
        names.discard("err")
        for n in loop_level_nodes(loop):
            if n.type == "return_statement" and any(text(x) in names for x in _identifiers(n)):
                return True
        return False

    def _lazy_init(self, call) -> bool:
        """Inside ``if c.cs == nil { c.cs, err = kubernetes.NewForConfig(cfg) }`` or ``once.Do(func() {...})``."""
        assigned = set()
        stmt = call.parent
        if stmt is not None and stmt.type == "expression_list":
            stmt = stmt.parent
        if stmt is not None and stmt.type == "assignment_statement":
            left = stmt.child_by_field_name("left")
            assigned = {text(n) for n in left.named_children} if left is not None else set()
        node = call.parent
        while node is not None and node.type not in ("function_declaration", "method_declaration"):
            if node.type == "if_statement":
                cond = node.child_by_field_name("condition")
                if cond is not None and cond.type == "binary_expression" and \
                        text(cond.child_by_field_name("operator")) == "==" and \
                        text(cond.child_by_field_name("right")) == "nil" and \
                        text(cond.child_by_field_name("left")) in assigned:
                    return True
            if node.type == "func_literal" and node.parent is not None and node.parent.type == "argument_list":
                outer_call = node.parent.parent
                fn = outer_call.child_by_field_name("function") if outer_call is not None else None
                if fn is not None and fn.type == "selector_expression" and \
                        text(fn.child_by_field_name("field")) == "Do":
                    return True
            node = node.parent
        return False


def _outer(func_literal):
    node = func_literal.parent
    while node is not None:
        if node.type in ("function_declaration", "method_declaration"):
            return node
        if node.type == "func_literal" and not is_immediately_called(node):
            return node
        node = node.parent
    return None


def _identifiers(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type == "identifier":
            yield n
        stack.extend(n.named_children)


# ------------------------------------------------------------------ Python

PY_CONFIG_LOADERS = {"load_kube_config", "load_incluster_config", "new_client_from_config", "load_config",
                     "new_client_from_config_dict", "load_kube_config_from_dict"}
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete", "head", "options", "api_route",
                    "websocket", "view"}
WHY_PY = ("every call re-reads the kubeconfig or service-account files, and each new `ApiClient` has its "
          "own urllib3 connection pool (new TCP and TLS handshakes, no connection reuse) and thread pool")


def _decorator_name(dec: cst.Decorator) -> str:
    node = dec.decorator
    if isinstance(node, cst.Call):
        node = node.func
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Name):
        return node.value
    return ""


class ClientBuiltPerCallPython(ClientBuiltPerCall, PythonRule):
    requires = ("kubernetes",)
    METADATA_DEPENDENCIES = (ParentNodeProvider,)

    def visit_Module(self, node: cst.Module) -> None:
        self._skip = skips_test_code(self)

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip:
            return
        what = self._builds(node)
        if what is None:
            return
        shown = f"`{_short(self.ctx.tree.code_for_node(node.func))}()`"
        chain = list(self._ancestors(node))
        if self._lazy_init(chain):
            return
        for i, anc in enumerate(chain):
            if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                break
            if isinstance(anc, (cst.For, cst.While)) and (chain[i - 1] if i else node) is anc.body \
                    and self._per_iteration(anc, node, chain):
                self.report(node, f"{shown} {what} on every iteration of this loop: {WHY_PY}; "
                                  "build it once before the loop and reuse it")
                return
        fn = next((a for a in chain if isinstance(a, cst.FunctionDef)), None)
        if fn is not None:
            kind = self._handler_kind(fn, chain)
            if kind is not None and self._same_every_time(node, fn, _param_names(fn)):
                self.report(node, f"{shown} {what} on every request of this {kind}: {WHY_PY}; "
                                  "build the client once at start-up (module level or app setup) and share it")

    # ---- what the call builds ----
    def _builds(self, call: cst.Call) -> Optional[str]:
        for q in self.qualified_names(call.func):
            if not is_k8s_name(q):
                continue
            last = q.rsplit(".", 1)[-1]
            if ".config" in q and last in PY_CONFIG_LOADERS:
                return "loads the configuration again" if last.startswith("load") else "builds a new `ApiClient`"
            if ".client" in q and last == "ApiClient":
                return "builds a new `ApiClient`"
            if ".dynamic" in q and last == "DynamicClient":
                return "builds a dynamic client (its API discovery cache is loaded again)"
            if ".client" in q and last.endswith("Api") and last[:1].isupper() and not call.args:
                return f"builds a `{last}` with its own new `ApiClient`"
            if ".client" in q and last.endswith("Api") and last[:1].isupper():
                arg = call.args[0]
                if is_none(arg.value):
                    return f"builds a `{last}` with its own new `ApiClient`"
        return None

    # ---- context ----
    def _ancestors(self, node):
        cur = node
        while True:
            parent = self.get_metadata(ParentNodeProvider, cur, None)
            if parent is None:
                return
            yield parent
            cur = parent

    def _per_iteration(self, loop, call: cst.Call, chain) -> bool:
        if isinstance(loop, cst.For):
            it = loop.iter
            if isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "range" \
                    and len(it.args) == 1 and isinstance(it.args[0].value, (cst.Integer, cst.Name)):
                return False  # for attempt in range(5): a retry budget
            if not self._same_every_time(call, loop, _names(loop.target)):
                return False  # one client per item (context, cluster)
        elif isinstance(loop.test, cst.Comparison):
            return False  # while attempts < 5: bounded
        if _has_break(loop.body, self._assigned_names(call, chain)):
            return False  # retry until it works
        return True

    @staticmethod
    def _assigned_names(call, chain) -> set[str]:
        """Names the call's result is bound to (``cfg = ...``, ``self.api = ...``)."""
        for anc in chain:
            if isinstance(anc, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in anc.targets] if isinstance(anc, cst.Assign) else [anc.target]
                out = set()
                for t in targets:
                    out |= _names(t)
                return out
            if isinstance(anc, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
                return set()
        return set()

    def _same_every_time(self, call: cst.Call, scope, varying: set[str], depth: int = 0) -> bool:
        """Whether the call's inputs are the same on every run of ``scope`` (a loop
        or a handler): names from outside it, or built in it by other client
        builders. A loop item, a request parameter or a configuration assembled
        in place (``cfg.api_key = {...}`` with the caller's token) varies."""
        if depth > 4:
            return False
        names = set()
        for arg in call.args:
            names |= _root_names(arg.value)
        if names & varying:
            return False
        if not names:
            return True
        for stmt in walk(scope.body):
            if isinstance(stmt, cst.Assign):
                targets = [t.target for t in stmt.targets]
                value = stmt.value
            elif isinstance(stmt, (cst.AnnAssign, cst.AugAssign)):
                targets, value = [stmt.target], stmt.value
            else:
                continue
            for target in targets:
                roots = _root_names(target)
                if not roots & names:
                    continue
                if not isinstance(target, cst.Name) or value is None:
                    return False  # cfg.api_key = ...: assembled here
                if not isinstance(value, cst.Call) or self._builds(value) is None and not any(
                        is_k8s_name(q) for q in self.qualified_names(value.func)):
                    return False
                if not self._same_every_time(value, scope, varying, depth + 1):
                    return False
        return True

    def _lazy_init(self, chain) -> bool:
        """``if self.api is None: self.api = client.CoreV1Api()``, ``@lru_cache`` builders."""
        code = self.ctx.tree.code_for_node
        for anc in chain:
            if isinstance(anc, (cst.FunctionDef, cst.ClassDef)):
                return isinstance(anc, cst.FunctionDef) and any(
                    _decorator_name(d) in ("lru_cache", "cache", "cached_property", "cached", "once")
                    for d in anc.decorators)
            if isinstance(anc, cst.If):
                test = anc.test
                checked = None
                if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and \
                        isinstance(test.comparisons[0].operator, (cst.Is, cst.Equal)) and \
                        is_none(test.comparisons[0].comparator):
                    checked = code(test.left)
                elif isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
                    checked = code(test.expression)
                if checked is not None and any(
                        isinstance(n, cst.AssignTarget) and code(n.target) == checked for n in walk(anc.body)):
                    return True
        return False

    def _handler_kind(self, fn: cst.FunctionDef, chain) -> Optional[str]:
        names = {_decorator_name(d) for d in fn.decorators}
        if "fixture" in names:
            return None  # pytest fixtures take `request` too
        for dec in fn.decorators:
            name = _decorator_name(dec)
            if name in ROUTE_DECORATORS and isinstance(dec.decorator, cst.Call) and \
                    isinstance(dec.decorator.func, cst.Attribute):
                return "request handler"
            if name in ("api_view", "require_http_methods", "require_GET", "require_POST", "action"):
                return "Django view"
        ps = list(fn.params.params)
        at = chain.index(fn)
        is_method = len(chain) > at + 2 and isinstance(chain[at + 2], cst.ClassDef)
        if is_method and ps and ps[0].name.value in ("self", "cls"):
            ps = ps[1:]
        if ps and ps[0].name.value == "request":
            return "view (request handler)"
        return None


def _root_names(node) -> set[str]:
    """Names an expression reads, by their roots (``self.cfg.host`` -> ``self``)."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.add(n.value)
        elif isinstance(n, cst.Attribute):
            stack.append(n.value)
        else:
            stack.extend(n.children)
    return out


def _param_names(fn: cst.FunctionDef) -> set[str]:
    ps = fn.params
    out = {p.name.value for p in (*ps.posonly_params, *ps.params, *ps.kwonly_params)}
    for star in (ps.star_arg, ps.star_kwarg):
        if isinstance(star, cst.Param):
            out.add(star.name.value)
    return out - {"self", "cls"}


def _names(node) -> set[str]:
    return {n.value for n in walk(node) if isinstance(n, cst.Name)}


def _has_break(body, result: set[str]) -> bool:
    """A ``break`` of this loop (not of a nested loop), or a ``return`` of the built client."""
    stack = list(body.children)
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Break):
            return True
        if isinstance(n, cst.Return) and (n.value is None or _names(n.value) & result):
            return True
        if isinstance(n, (cst.For, cst.While, cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        stack.extend(n.children)
    return False


def _short(code: str, n: int = 50) -> str:
    code = " ".join(code.split())
    return code if len(code) <= n else code[: n - 1] + "…"
