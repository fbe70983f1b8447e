"""K8S010 watch-without-timeout: Python watches that can block forever."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from cnlint import Option, PythonRule, Rule
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code
from cnlint.python import argument, dotted_name, has_star_args, k8s_client_member, keyword_arg


from .options import SKIP_TEST_FILES_OPTION

TIMEOUT_SECONDS = "timeout-seconds"
REQUEST_TIMEOUT = "request-timeout"
#: in every Kubernetes client package (cnlint.python.K8S_CLIENT_PACKAGES)
WATCH_CLASSES = {"watch.Watch", "watch.watch.Watch"}
DYNAMIC_CLIENTS = {"dynamic.DynamicClient", "dynamic.client.DynamicClient"}
#: API functions streamed without a watch=True parameter (no timeout_seconds)
LOG_FUNCTIONS = ("read_namespaced_pod_log",)


class WatchWithoutTimeout(Rule):
    id = "K8S010"
    name = "watch-without-timeout"
    summary = "A Kubernetes watch has no timeout and can hang forever"
    severity = "warning"
    tags = ("kubernetes", "reliability", "python")
    precision = "high"
    fixable = "unsafe"
    options = {
        TIMEOUT_SECONDS: Option(300, "the `timeout_seconds=` value the fix adds"),
        REQUEST_TIMEOUT: Option(0, "when > 0, the fix also adds `_request_timeout=` with this many "
                                   "seconds (a client-side socket timeout; keep it above timeout-seconds)"),
        SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION,
    }
    help = """\
## What it does
Reports Kubernetes watches in Python started without any timeout:

- `watch.Watch().stream(func, ...)`, also through a variable
  (`w = watch.Watch()` ... `w.stream(...)`, `self.w.stream(...)`,
  `async with watch.Watch() as w`, a parameter `w: watch.Watch`), for the
  `kubernetes` client and the asyncio clients `kubernetes.aio` and
  `kubernetes_asyncio` (`async for event in w.stream(...)`), with neither
  `timeout_seconds=` (server side) nor `_request_timeout=` (client side);
- the dynamic client's `watch(...)` (`dyn.resources.get(...).watch(...)`,
  `dyn.watch(resource, ...)`) without `timeout=`.

A call that passes `**kwargs` is not reported (the timeout may be in them),
nor are test files (option `skip-test-files`).

## Why is this bad?
A watch is a long-lived HTTP response that the client reads line by line.
Without a client-side timeout the read blocks as long as the TCP connection
looks open, and after a network failure that drops packets without a reset
(a node or NAT/conntrack entry lost, a load balancer or API server failover)
it looks open forever: the loop never gets another event and never raises,
so the controller silently stops reacting while its process stays healthy
([kubernetes-client/python#1148](https://github.com/kubernetes-client/python/issues/1148),
[timeout settings](https://github.com/kubernetes-client/python/blob/master/examples/watch/timeout-settings.md)).
Without `timeout_seconds` the server picks a random 30-60 minute timeout
and `Watch.stream()` silently reconnects, so nothing bounds how long a
stalled watch goes unnoticed. The asyncio clients are no different: their
aiohttp requests have no timeout unless `_request_timeout` gives one
(`kubernetes.aio`, and `kubernetes_asyncio` since 32.0; before that release
`kubernetes_asyncio` cut every request after 5 minutes and its watch
reconnected, so on those old versions a finding is a matter of style).

`timeout_seconds=N` makes the API server end the watch after N seconds, so
the stream returns and your loop re-lists or re-watches on a schedule you
chose; `_request_timeout` is the client-side socket timeout that turns a
dead connection into an exception (set it above `timeout_seconds` so that an
idle but healthy watch does not time out). Use both in long-running code.

## Example
```python
w = watch.Watch()
for event in w.stream(v1.list_namespaced_pod, namespace="default"):
    handle(event)
```

## Use instead
```python
resource_version = None
while True:
    w = watch.Watch()
    try:
        for event in w.stream(v1.list_namespaced_pod, namespace="default",
                              resource_version=resource_version,
                              timeout_seconds=300, _request_timeout=330):
            resource_version = event["object"].metadata.resource_version
            handle(event)
    except ApiException as e:
        if e.status == 410:  # expired: list again
            resource_version = None
        else:
            raise
    except urllib3.exceptions.ReadTimeoutError:
        pass  # the connection died: watch again
```

## How to fix
Pass `timeout_seconds=` (and `_request_timeout=` above it) to `stream()`,
or `timeout=` to the dynamic client's `watch()`, and run the watch in a loop
that resumes from the last `resource_version` when the stream ends. The
offered fix adds `timeout_seconds=` (the option `timeout-seconds`, default
300; with the option `request-timeout` also `_request_timeout=`). It is
unsafe: with a timeout `stream()` ends after that many seconds instead of
reconnecting by itself, so code that expects the `for` loop to run forever
must be wrapped in a loop. Log streams (`stream(v1.read_namespaced_pod_log,
...)`) have no `timeout_seconds` parameter: they are reported without a
fix; pass `_request_timeout`.

```toml
[options.K8S010]
timeout-seconds = 600
request-timeout = 660
```
"""


class WatchWithoutTimeoutPython(WatchWithoutTimeout, PythonRule):
    requires = ("stream(", ".watch(")

    def visit_Module(self, node: cst.Module) -> None:
        self._skip = skips_test_code(self)
        self._watches: set[str] = set()    # dotted names bound to a Watch()
        self._dynamic: set[str] = set()    # dotted names bound to a DynamicClient
        self._resources: set[str] = set()  # dotted names bound to dyn.resources.get(...)
        self._module = node

    # ---- bindings ----
    def _kind(self, value) -> Optional[str]:
        if isinstance(value, cst.Await):
            value = value.expression
        if not isinstance(value, cst.Call):
            return None
        members = {k8s_client_member(q) for q in self.qualified_names(value.func)}
        if members & WATCH_CLASSES:
            return "watch"
        if members & DYNAMIC_CLIENTS:
            return "dynamic"
        func = value.func
        # dyn.resources.get(api_version=..., kind=...)
        if isinstance(func, cst.Attribute) and func.attr.value == "get" and \
                isinstance(func.value, cst.Attribute) and func.value.attr.value == "resources":
            owner = dotted_name(func.value.value)
            if owner in self._dynamic or self._kind(func.value.value) == "dynamic":
                return "resource"
        return None

    def _bind(self, target, kind: Optional[str]) -> None:
        name = dotted_name(target)
        if name is None:
            return
        for kset, k in ((self._watches, "watch"), (self._dynamic, "dynamic"), (self._resources, "resource")):
            if kind == k:
                kset.add(name)
            else:
                kset.discard(name)

    def visit_Assign(self, node: cst.Assign) -> None:
        kind = self._kind(node.value)
        for t in node.targets:
            self._bind(t.target, kind)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind(node.target, self._kind(node.value))

    def visit_Param(self, node: cst.Param) -> None:
        """``async def follow(w: watch.Watch, ...)``: a watch handed in."""
        if node.annotation is not None:
            members = {k8s_client_member(q) for q in self.qualified_names(node.annotation.annotation)}
            if members & WATCH_CLASSES:
                self._watches.add(node.name.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, self._kind(node.item))

    # ---- calls ----
    def visit_Call(self, node: cst.Call) -> None:
        if self._skip or not isinstance(node.func, cst.Attribute):
            return
        method = node.func.attr.value
        recv = node.func.value
        if method == "stream" and (self._kind(recv) == "watch" or dotted_name(recv) in self._watches):
            self._check_stream(node)
        elif method == "watch" and (self._kind(recv) in ("resource", "dynamic")
                                    or dotted_name(recv) in self._resources or dotted_name(recv) in self._dynamic):
            self._check_dynamic(node)

    def _check_stream(self, call: cst.Call) -> None:
        if has_star_args(call, "**") or keyword_arg(call, "timeout_seconds") or keyword_arg(call, "_request_timeout"):
            return
        func = getattr(argument(call, "func", 0), "value", None)
        shown = self._module.code_for_node(func) if func is not None else "..."
        if isinstance(func, cst.Attribute) and func.attr.value in LOG_FUNCTIONS:
            self.report(call, f"this log stream (`{shown}`) has no `_request_timeout`: on a connection that "
                              "dies without a reset the read blocks forever; pass `_request_timeout=` "
                              "(seconds) and restart the stream when it times out")
            return
        n = self.options[TIMEOUT_SECONDS]
        extra = {"timeout_seconds": n}
        if self.options[REQUEST_TIMEOUT] and self.options[REQUEST_TIMEOUT] > 0:
            extra["_request_timeout"] = self.options[REQUEST_TIMEOUT]
        self.report(call, f"this watch of `{shown}` has neither `timeout_seconds` nor `_request_timeout`: "
                          "after a network failure that drops the connection without a reset, the stream "
                          "blocks forever and the program silently stops seeing events; pass "
                          f"`timeout_seconds=` (server side, e.g. {n}) and `_request_timeout=` (client side, "
                          "above it) and re-watch from the last resource_version when the stream ends",
                    fix=self._keyword_fix(call, extra))

    def _check_dynamic(self, call: cst.Call) -> None:
        if has_star_args(call, "**") or keyword_arg(call, "timeout"):
            return
        n = self.options[TIMEOUT_SECONDS]
        self.report(call, "this dynamic-client watch has no `timeout=`: after a network failure that drops "
                          "the connection without a reset, the stream blocks forever and the program silently "
                          f"stops seeing events; pass `timeout=` (seconds, e.g. {n}) and re-watch from the last "
                          "resource_version when the stream ends",
                    fix=self._keyword_fix(call, {"timeout": n}))

    def _keyword_fix(self, call: cst.Call, extra: dict):
        """Append ``name=value`` keywords as a text edit, keeping the call's layout:
        one argument per line (with a trailing comma) stays so. (A ``replacement=``
        node would be printed without the indentation of its block.)"""
        src = self.ctx.source.data
        pairs = [f"{k}={int(v)}" for k, v in extra.items()]
        desc = f"Add `{', '.join(pairs)}`"
        if not call.args:
            end = self.byte_range(call)[1] - 1  # before ")"
            return self.fix(desc, self.insert(end, ", ".join(pairs)), applicability="unsafe")
        last = call.args[-1]
        start, end = self.byte_range(last)
        if isinstance(last.comma, cst.Comma):
            after_comma = src.index(b",", end) + 1
            line_start = src.rfind(b"\n", 0, start) + 1
            lead = src[line_start:start]
            if not lead.strip():  # the last argument starts its own line
                text = "".join(f"\n{lead.decode()}{p}," for p in pairs)
            else:
                text = "".join(f" {p}," for p in pairs)
            return self.fix(desc, self.insert(after_comma, text), applicability="unsafe")
        return self.fix(desc, self.insert(end, "".join(f", {p}" for p in pairs)), applicability="unsafe")
