"""K8S008 client-built-per-call: Kubernetes clients built in a loop or per request (Go, Python)."""

from __future__ import annotations

import os
import re
from typing import Optional

import libcst as cst
from libcst.metadata import ParentNodeProvider

from cnlint import PythonRule, Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code
from cnlint.golang import enclosing, enclosing_loops, text
from cnlint.python import is_k8s_name, is_none, walk

from .k8s008_go_helpers import (
    BUILDER_WORDS, Helper, builds, helper_key, is_config, lazy_init, package_helpers, per_iteration, receiver,
    running_function, same_every_time,
)
from .options import SKIP_TEST_FILES_OPTION

WHY_CONFIG = ("it re-reads and parses the kubeconfig (or the service-account token and CA files) every time, "
              "and every client built from the new config gets its own rate limiter")
WHY_CLIENT = ("each new client gets its own QPS/Burst rate limiter, so client-side throttling is not shared and "
              "the process can flood the API server, and it shares connections with earlier clients only "
              "through client-go's TLS transport cache, which does not cover exec or auth-provider "
              "credentials or a custom Dial, Proxy or WrapTransport (then each client opens new TCP and TLS "
              "connections)")
WHY_DISCOVERY = "; nothing it discovers is kept for the next call"


def _why_go(what: str) -> str:
    if is_config(what):
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
- **Through the project's own helpers**, in a loop or a handler as above:
  in Go, a call of a package-level function of the same package (in any of
  its non-test files), or of a method on the caller's own receiver
  (`s.client()` in a method of the same type), that builds a client or
  config every time it runs and returns a client-go or controller-runtime type
  (`GenerateK8sClient().CoreV1()...`, `func GenerateK8sClient()
  *kubernetes.Clientset { cfg, _ := rest.InClusterConfig(); return
  kubernetes.NewForConfigOrDie(cfg) }`); in Python, a call of a function of
  the same module that builds one every time (`config.load_incluster_config()`
  then `client.CoreV1Api()`), of a class whose `__init__` does, or of such a
  method of the class the call is in (`self.core()`). Helpers that call such
  helpers count too (three deep).

Not reported: loops that build one client per item (the arguments depend on
the loop variable: one client per cluster or kubeconfig context), retry loops
(a counting loop `for i := 0; i < 5; i++` / `for attempt in range(5)`, or a
loop that `break`s or `return`s the client once built), lazy initialisation
guarded by `if c.client == nil` / `if self.api is None`, `sync.Once`, and
test files (option `skip-test-files`). A helper is not reported when it keeps
what it built (`if client != nil { return client }`, `once.Do`, a package
variable, field or map it stores the client in, `@functools.lru_cache`,
`global _api`), when it is called once (from `main`, `init`, module level or
a constructor), when the call passes it per-request or per-item values that
reach its builder (`clientFor(r.URL.Query().Get("cluster"))`,
`api_for(context)` per kubeconfig context), or when a Go function returns
the program's own type (`newPodService() *podService`: the constructor of a
long-lived value). Helpers declared in other modules (Python) or other
packages (Go) are not followed.

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
use. A helper that hands out the client can keep it: `sync.OnceValues` (Go
1.21) or `sync.Once`, `@functools.cache` in Python. In Python, share one `ApiClient` and pass it to every API class:
`client.CoreV1Api(api_client)`. To reach several clusters, keep one client
per cluster in a map built at start-up.
"""


class ClientBuiltPerCallGo(ClientBuiltPerCall, TreeSitterRule):
    languages = ("go",)
    uses_project = True  # the package's other files declare helpers: their stamps are part of the cache key
    # a builder, or a file that uses a client a helper hands out (its calls take metav1 options)
    requires = (*(w.decode() for w in BUILDER_WORDS), "k8s.io/client-go", '"k8s.io/apimachinery/pkg/apis/meta/v1"')
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

    def begin_file(self, root) -> None:
        self._helpers_here: Optional[dict[str, Helper]] = None

    def on_match(self, captures):
        if skips_test_code(self):
            return
        call = captures["k8s008.call"][0]
        what = builds(self.ctx.go, call)
        if what is not None:
            self._check(call, f"`{text(call.child_by_field_name('function'))}`", what, "", None)

    def check_tree(self, root) -> None:
        """Calls of the package's helpers, found by name in the source (one pass
        per helper, not a callback per call of the file)."""
        if skips_test_code(self) or not self._helpers():
            return
        data = self.ctx.source.data
        for key, helper in self._helpers().items():
            name = key.rsplit(".", 1)[-1]
            for m in re.finditer(rb"\b%s\s*\(" % re.escape(name.encode()), data):
                call = self._call_of(root.descendant_for_byte_range(m.start(), m.start() + len(name)), key)
                if call is not None:
                    shown = text(call.child_by_field_name("function"))
                    self._check(call, f"`{shown}()`", helper.what,
                                f" (it calls `{helper.via}` every time, {self._where(helper)})",
                                None if helper.uses_params else [])  # arguments that never reach the builder

    def _check(self, call, shown: str, what: str, how: str, inputs) -> None:
        if lazy_init(call):
            return
        for loop in enclosing_loops(call):
            if per_iteration(self.ctx.go, loop, call, self._builds_value, inputs):
                self.report(call, f"{shown} builds {what} on every iteration of this loop{how}: {_why_go(what)}; "
                                  "build it once before the loop and reuse it",
                            related=[(loop.children[0], "the loop")])
                return
        fn = running_function(call)
        if fn is not None:
            kind = self.ctx.go.handler_kind(fn)
            if kind is not None and same_every_time(self.ctx.go, call, fn, self._builds_value, inputs=inputs):
                self.report(call, f"{shown} builds {what} on every request of this {kind}{how}: {_why_go(what)}; "
                                  "build it once at start-up and share it (clients are safe for concurrent use)")

    def _helpers(self) -> dict[str, Helper]:
        """The package's functions that build a client on every call (indexed once per directory)."""
        if self._helpers_here is None:
            root = self.ctx.tree.root_node
            package = next((text(n.named_children[0]) for n in root.named_children
                            if n.type == "package_clause" and n.named_children), None)
            self._helpers_here = {} if package is None else package_helpers(
                os.path.dirname(os.path.abspath(self.ctx.path)), package, self.ctx.project.go_mod)
        return self._helpers_here

    def _builds_value(self, node) -> bool:
        if builds(self.ctx.go, node) is not None:
            return True
        callee = node.child_by_field_name("function")
        return callee is not None and callee.type == "identifier" and text(callee) in self._helpers()

    @staticmethod
    def _call_of(name_node, key: str):
        """The call of helper ``key`` whose name is ``name_node``: ``helper(...)``, or
        ``s.method(...)`` on the receiver of a method of the same type; not a call in
        the helper's own declaration (recursion)."""
        fn = name_node if "." not in key else name_node.parent if name_node is not None else None
        call = fn.parent if fn is not None else None
        if call is None or call.type != "call_expression" or call.child_by_field_name("function") != fn:
            return None
        method = enclosing(call, ("function_declaration", "method_declaration"))
        if method is not None and helper_key(method) == key:
            return None
        if name_node.type == "identifier" and "." not in key:
            return call
        if fn.type != "selector_expression" or "." not in key or method is None or \
                method.type != "method_declaration":
            return None
        recv = receiver(method)
        operand = fn.child_by_field_name("operand")
        if recv is None or operand is None or text(operand) != recv[0] or f"{recv[1]}.{text(name_node)}" != key:
            return None
        return call

    def _where(self, helper: Helper) -> str:
        here = os.path.abspath(self.ctx.path)
        if os.path.abspath(helper.path) == here:
            return f"line {helper.line}"
        return f"{os.path.basename(helper.path)}:{helper.line}"


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
        self._defs = {} if self._skip else _module_functions(node)
        self._methods = {key.rsplit(".", 1)[1] for key in self._defs if "." in key}
        self._calls: list[tuple[cst.Call, list]] = []  # calls that may build a client, or call a function of ours

    def visit_Call(self, node: cst.Call) -> None:
        if self._skip:
            return
        last = _last_name(node.func)
        if last in self._defs or last in self._methods or last in PY_CONFIG_LOADERS or \
                last.endswith(("Api", "ApiClient", "Client")):
            chain = list(self._ancestors(node))
            self._calls.append((node, chain))  # cheap before resolving names: no builder is called anything else
            what = self._builds(node)
            if what is not None:
                self._check(node, chain, what)

    def leave_Module(self, original_node: cst.Module) -> None:
        """Calls of the module's helpers, once every function of the module is known."""
        if self._skip or not self._calls:
            return
        helpers = self._module_helpers()
        for call, chain in self._calls:
            key = _call_key(call, chain)
            helper = helpers.get(key)
            if helper is None or _defined_in(chain, key):
                continue
            what, via, uses_params = helper
            shown_via = _short(self.ctx.tree.code_for_node(via.func))
            name = key.rsplit(".", 1)[-1]
            self._check(call, chain, what, f" (`{name}` calls `{shown_via}()` every time)",
                        [(via, f"`{shown_via}()`, in `{name}`")],
                        call if uses_params else call.with_changes(args=()))  # arguments that never reach it

    def _check(self, node: cst.Call, chain: list, what: str, how: str = "", related=(), probe=None) -> None:
        """Report ``node`` if it runs again on every iteration of a loop or every request
        of a handler; ``probe`` stands for it when its inputs are judged (default: itself)."""
        probe = node if probe is None else probe
        shown = f"`{_short(self.ctx.tree.code_for_node(node.func))}()`"
        if self._lazy_init(chain):
            return
        for i, anc in enumerate(chain):
            if isinstance(anc, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                break
            if isinstance(anc, (cst.For, cst.While)) and (chain[i - 1] if i else node) is anc.body \
                    and self._per_iteration(anc, probe, chain):
                self.report(node, f"{shown} {what} on every iteration of this loop{how}: {WHY_PY}; "
                                  "build it once before the loop and reuse it", related=related)
                return
        fn = next((a for a in chain if isinstance(a, cst.FunctionDef)), None)
        if fn is not None:
            kind = self._handler_kind(fn, chain)
            if kind is not None and self._same_every_time(probe, fn, _param_names(fn)):
                self.report(node, f"{shown} {what} on every request of this {kind}{how}: {WHY_PY}; "
                                  "build the client once at start-up (module level or app setup) and share it",
                            related=related)

    # ---- the module's own helpers ----
    def _module_helpers(self) -> dict:
        """Module-level functions, classes (by their ``__init__``) and methods (called
        as ``self.method()``) that build a client on every call: name -> (what, the builder call inside, whether the
        function's parameters reach that call's arguments). Not those that keep
        it (``@lru_cache``, ``if _api is None``, ``global _api``)."""
        calls: dict[str, list] = {}  # function name -> its calls that may build a client
        for call, chain in self._calls:
            owner = _top_function(chain, self._defs)
            if owner is not None and _call_key(call, chain) != owner:
                calls.setdefault(owner, []).append((call, chain))
        helpers: dict[str, tuple[str, cst.Call, bool]] = {}
        for _ in range(3):  # helpers that call helpers, three deep
            grown = False
            for name, found in calls.items():
                if name not in helpers and not _keeps_global(self._defs[name]):
                    helper = self._builds_every_call(self._defs[name], found, helpers)
                    if helper is not None:
                        helpers[name] = helper
                        grown = True
            if not grown:
                break
        return helpers

    def _builds_every_call(self, fn: cst.FunctionDef, calls: list, helpers: dict):
        found = None
        for node, chain in calls:
            what = self._builds(node)
            key = _call_key(node, chain)
            if what is None and key in helpers:
                what = helpers[key][0]
            if what is None or self._lazy_init(chain):
                continue
            if found is None or found[0].startswith("loads"):
                found = (what, node, key)  # the client it builds tells more than the configuration it loads
        if found is None:
            return None
        what, call, key = found
        return what, call, (helpers[key][2] if key in helpers else _reaches(fn, call))

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


def _module_functions(module: cst.Module) -> dict[str, cst.FunctionDef]:
    """Module-level functions by name, classes by their ``__init__`` (``Kube``) and
    their other methods as ``Class.method``."""
    out = {}
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            out[stmt.name.value] = stmt
        elif isinstance(stmt, cst.ClassDef):
            for m in stmt.body.body:
                if isinstance(m, cst.FunctionDef):
                    init = m.name.value == "__init__"
                    out[stmt.name.value if init else f"{stmt.name.value}.{m.name.value}"] = m
    return out


def _top_function(chain: list, defs: dict) -> Optional[str]:
    """The name of the module-level function (or class, for its ``__init__``) whose
    every call runs the call with ancestors ``chain`` (not one nested in a closure)."""
    scopes = [a for a in chain if isinstance(a, (cst.FunctionDef, cst.ClassDef, cst.Lambda))]
    if not scopes or not isinstance(scopes[0], cst.FunctionDef) or len(scopes) > 2:
        return None
    top = scopes[-1]
    if len(scopes) == 2 and not isinstance(top, cst.ClassDef):
        return None
    key = top.name.value if len(scopes) == 1 or scopes[0].name.value == "__init__" else \
        f"{top.name.value}.{scopes[0].name.value}"
    return key if defs.get(key) is scopes[0] else None


def _call_key(call: cst.Call, chain: list) -> Optional[str]:
    """How ``_module_functions`` names what ``call`` calls: ``helper(...)``, ``Kube(...)``,
    or ``self.method(...)`` / ``cls.method(...)`` inside a method of ``Class``."""
    if isinstance(call.func, cst.Name):
        return call.func.value
    if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) and \
            call.func.value.value in ("self", "cls"):
        cls = next((a for a in chain if isinstance(a, cst.ClassDef)), None)
        return f"{cls.name.value}.{call.func.attr.value}" if cls is not None else None
    return None


def _defined_in(chain: list, key: str) -> bool:
    """A call inside the helper's own definition (recursion, its class, or for
    ``Class.method`` that method itself)."""
    names = key.split(".")
    scopes = [a.name.value for a in reversed(chain) if isinstance(a, (cst.FunctionDef, cst.ClassDef))]
    return scopes[:len(names)] == names or len(names) == 1 and names[0] in scopes


def _keeps_global(fn: cst.FunctionDef) -> bool:
    """``global _api`` (at the top level of its body, where it is written): it keeps
    what it builds in a module variable."""
    return any(isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(x, cst.Global) for x in stmt.body)
               for stmt in fn.body.body)


def _last_name(func) -> str:
    """``CoreV1Api`` of ``client.CoreV1Api``, ``get_api`` of ``get_api``."""
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


def _reaches(fn: cst.FunctionDef, call: cst.Call) -> bool:
    """Whether a parameter of ``fn`` reaches ``call``'s arguments, through the assignments in ``fn``."""
    names = set()
    for arg in call.args:
        names |= _root_names(arg.value)
    binds = [n for n in walk(fn.body) if isinstance(n, (cst.Assign, cst.AnnAssign, cst.AugAssign))]
    for _ in range(4):
        for n in binds:
            targets = [t.target for t in n.targets] if isinstance(n, cst.Assign) else [n.target]
            if n.value is not None and any(_root_names(t) & names for t in targets):
                names |= _root_names(n.value)
    return bool(names & _param_names(fn))


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
