"""K8S004 cache-used-before-sync: informer caches read before (or without checking) the initial sync."""

from __future__ import annotations

import re

from cnlint import Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, TEST_CODE_HELP, skips_test_code
from cnlint.golang import FUNCS, call_args, enclosing, selector_parts, text, unwrap, walk


from .import_paths import CACHE
from .options import SKIP_TEST_FILES_OPTION

#: calls whose result says whether the caches synced
WAITS = {"WaitForCacheSync", "WaitForNamedCacheSync", "WaitForNamedCacheSyncWithContext",
         "WaitForCacheSyncWithContext"}
#: anything that waits for a sync (for the "read before sync" check)
WAIT_WORDS = re.compile(r"WaitFor\w*Sync|HasSynced|WaitForCacheSync|\bWaitFor\b|Synced\b")
#: reads of an informer's cache
READS = {"List", "Get", "GetByKey", "ListKeys", "ByIndex", "Index", "IndexKeys", "ListIndexFuncValues"}
CACHE_HANDLES = {"Lister", "GetStore", "GetIndexer"}
#: a function without one of these cannot read a cache (a cheap test before walking it)
READ_HINTS = (b"Lister", b"lister", b"GetStore", b"GetIndexer")
#: stop channels/contexts that never close: the wait can only end with the caches synced
NEVER_STOPS = re.compile(r"^(\w+\.)?NeverStop$|^context\.(Background|TODO)\(\)$|^make\(chan struct\{\}\)$")
POLL = re.compile(r"^(Poll\w*|PollUntil\w*|PollImmediate\w*)$")
#: polls that have no timeout of their own (they end only when the stop channel or context closes)
POLL_WITHOUT_TIMEOUT = re.compile(r"Infinite|Until(?!ContextTimeout)")
#: calls that give a stop channel or context a deadline
DEADLINES = {("time", "After"), ("context", "WithTimeout"), ("context", "WithDeadline")}


class CacheUsedBeforeSync(Rule):
    id = "K8S004"
    name = "cache-used-before-sync"
    summary = "An informer cache is read before the initial sync, or the sync result is ignored"
    severity = "warning"
    tags = ("kubernetes", "correctness")
    precision = "high"
    fixable = None
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports two ways of reading an informer cache that has not finished its
initial list:

- A lister is read (`.Lister().List(...)`, `podLister.Pods(ns).Get(name)`,
  `informer.GetStore().List()`, `GetIndexer().ByIndex(...)`, or a variable
  holding one) after `factory.Start(...)` / `informer.Run(...)` in the same
  function, with no wait for the sync in between.
- The result of a cache-sync wait is dropped (`cache.WaitForCacheSync(stop,
  synced...)`, `cache.WaitForNamedCacheSync(...)`, `factory.WaitForCacheSync(stop)`,
  `mgr.GetCache().WaitForCacheSync(ctx)`, the `WithContext` variants, or a
  `wait.Poll...(..., informer.HasSynced ...)` written as a statement of its
  own) **where the failure matters**:
  - the wait has a deadline of its own: its stop channel is `time.After(d)`,
    or its context comes from `context.WithTimeout`/`WithDeadline` and
    nothing after the wait uses that context, or the poll has a timeout
    (`wait.PollImmediate(interval, timeout, ...)`, `PollUntilContextTimeout`).
    When the caches are slow it gives up, and the program goes on with empty
    caches (a timeout that also bounds the work after the wait stops that work
    as well, like a shutdown: not reported); or
  - the same function reads a cache after the wait (the read is named in the
    finding).

Not reported: a wait on the component's own stop channel or context
(`factory.WaitForCacheSync(ctx.Done())`, `cache.WaitForCacheSync(stopCh, ...)`)
followed by workers, loops or servers that run on that same channel. Such a
wait returns `false` only when the channel closes, which is shutdown, and then
everything after it stops as well: nothing reads the empty cache, and checking
the result (as the sample-controller does, to return an error) is style, not
a fix. Also not reported: a wait on a channel or context that never closes
(`wait.NeverStop`, `context.Background()`), which can only return once
everything synced; `_ = cache.WaitForCacheSync(...)`, an explicit decision; a
`WaitForCacheSync` function of another package (its signature is unknown);
reads in a closure or in another function than the one that calls `Start` or
waits (not followed).

## Why is this bad?
`Start` only launches the informers' goroutines; the caches fill up later,
when the initial LIST returns. A lister read before that returns an empty or
partial list **without any error**: a controller concludes that no pods,
nodes or endpoints exist, and deletes, scales or reports accordingly; a
startup check passes on an empty cache. Waiting is not enough either: the
wait returns `false` (or a map of `false`) when the stop channel or context
closes first, and then the caches are still empty: harmless at shutdown, a bug
when the wait has a timeout or the code reads the cache right after it. client-go's
[`WaitForCacheSync`](https://pkg.go.dev/k8s.io/client-go/tools/cache#WaitForCacheSync)
documents it: "It returns true if it was successful, false if the controller
should shutdown". The
[sample-controller](https://github.com/kubernetes/sample-controller/blob/master/controller.go)
and the
[controller guidelines](https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/controllers.md)
("Wait for your secondary caches") show the pattern below. The cluster
autoscaler had to add the wait after the fact
([kubernetes/autoscaler@24f68f9](https://github.com/kubernetes/autoscaler/commit/24f68f98e270653877adab4681a5b38b7d3beb15),
"Block cluster autoscaler until API resource caches are synced").

## Example
```go
factory.Start(ctx.Done())
factory.WaitForCacheSync(ctx.Done())
pods, err := factory.Core().V1().Pods().Lister().List(labels.Everything())

go informer.Run(stop)
nodes := informer.GetStore().List()

syncCtx, cancel := context.WithTimeout(ctx, time.Minute)
defer cancel()
cache.WaitForCacheSync(syncCtx.Done(), podsSynced) // gives up after a minute; the caller goes on
```

## Use instead
```go
factory.Start(ctx.Done())
for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
    if !ok {
        return fmt.Errorf("cache for %v did not sync", typ)
    }
}
pods, err := factory.Core().V1().Pods().Lister().List(labels.Everything())

go informer.Run(stop)
if !cache.WaitForCacheSync(stop, informer.HasSynced) {
    return errors.New("timed out waiting for caches to sync")
}

if !cache.WaitForCacheSync(syncCtx.Done(), podsSynced) {
    return errors.New("caches did not sync within a minute")
}
```

## How to fix
Wait for the informers you read (`cache.WaitForNamedCacheSync(name, stop,
podsSynced, nodesSynced)` or `factory.WaitForCacheSync(stop)`) after
`Start`/`Run` and before the first read, and stop (return an error, or exit)
when the wait reports `false`. With controller-runtime the manager waits for
its caches before starting controllers; code outside a controller checks
`mgr.GetCache().WaitForCacheSync(ctx)`. There is no automatic fix: what to do
when the sync fails depends on the program.
""" + TEST_CODE_HELP


class CacheUsedBeforeSyncGo(CacheUsedBeforeSync, TreeSitterRule):
    languages = ("go",)
    requires = ("WaitForCacheSync", "WaitForNamedCacheSync", "HasSynced", "Lister", "GetStore", "GetIndexer")

    # ---- ignored results ----
    def visit_expression_statement(self, stmt) -> None:
        call = stmt.named_children[0] if stmt.named_child_count else None
        if call is None or call.type != "call_expression":
            return
        operand, name = selector_parts(call)
        if not name:
            return
        if name in WAITS:
            args = call_args(call)
            stop = args[1] if name == "WaitForNamedCacheSync" and len(args) > 1 else (args[0] if args else None)
            if stop is None or NEVER_STOPS.search(text(stop)):
                return  # a wait that cannot be cancelled only returns once the caches synced
            if operand is not None and operand.type == "identifier" and text(operand) in self.ctx.go.imports.names:
                if self.ctx.go.imports.names[text(operand)] != CACHE:
                    return  # another package's helper: its signature is unknown
                what = "a `bool`"
            else:
                what = "a map of informer type to synced" if name == "WaitForCacheSync" and \
                    _looks_like_factory(operand) else "whether the caches synced"
            self._report_ignored(call, f"`{_short(text(call.child_by_field_name('function')))}` ({what})",
                                 self._deadline(stop, call))
        elif POLL.match(name) and operand is not None and "wait" in text(operand) and \
                "HasSynced" in text(call.child_by_field_name("arguments")):
            deadline = call if not POLL_WITHOUT_TIMEOUT.search(name) else None
            self._report_ignored(call, f"the error of `{text(operand)}.{name}` waiting for `HasSynced`", deadline,
                                 result=False)

    def _report_ignored(self, call, what: str, deadline, result: bool = True) -> None:
        """Report an ignored wait where its failure matters: it has a deadline of its
        own, or this function reads a cache after it. Otherwise the wait only fails
        at shutdown, and whatever runs after it stops on the same channel."""
        if skips_test_code(self):
            return
        subject = f"the result of {what}" if result else what
        if deadline is not None:
            self.report(call, f"{subject} is ignored, and the wait has a deadline (`{_short(text(deadline), 40)}`): "
                              "when the caches do not sync in time it gives up and the program goes on with empty or "
                              "partial caches; check it and stop (or retry) when a cache did not sync",
                        related=[(deadline, "the wait gives up here")] if deadline is not call else ())
            return
        read = self._read_after(call)
        if read is not None:
            self.report(call, f"{subject} is ignored, and `{_short(text(read.child_by_field_name('function')))}` "
                              "reads a cache right after it: when the stop channel or context closes before the "
                              "initial list completes the wait gives up and the read returns an empty or partial "
                              "list without an error; check the result before reading",
                        related=[(read, "the cache is read here")])

    def _deadline(self, stop, at, depth: int = 0):
        """The timeout of the wait alone: ``time.After(d)``, or a ``ctx`` from
        ``context.WithTimeout``/``WithDeadline`` (``ctx.Done()``) that nothing
        after the wait uses. A deadline that also bounds the work after the
        wait stops that work too, like a shutdown."""
        node = unwrap(stop)
        if node is not None and node.type == "call_expression":
            if self.ctx.go.package_function(node) in DEADLINES:
                return node
            operand, name = selector_parts(node)
            node = unwrap(operand) if name == "Done" else None
        if node is None or node.type != "identifier" or depth > 2 or _used_after(node, at):
            return None
        decl = self.ctx.go.resolve(at, text(node))
        if decl is None or decl.kind not in ("value", "multi") or decl.node.type != "call_expression":
            return None
        return self._deadline(decl.node, at, depth + 1)

    def _read_after(self, wait):
        """The first cache read after ``wait`` in the same function body (closures left out)."""
        fn = enclosing(wait, FUNCS)
        body = fn.child_by_field_name("body") if fn is not None else None
        if body is None or not _in_source(self.ctx, body, *READ_HINTS):
            return None
        for node in walk(body, into_funcs=False):
            if node.start_byte <= wait.end_byte or node.type != "call_expression":
                continue
            operand, name = selector_parts(node)
            if name in READS and self._is_cache_handle(operand, node):
                return node
        return None

    # ---- reads after Start/Run without a wait ----
    def visit_function_declaration(self, fn) -> None:
        self._check_function(fn)

    def visit_method_declaration(self, fn) -> None:
        self._check_function(fn)

    def visit_func_literal(self, fn) -> None:
        self._check_function(fn)

    def _check_function(self, fn) -> None:
        body = fn.child_by_field_name("body")
        if body is None or not _in_source(self.ctx, body, b"Start", b"Run(") or \
                not _in_source(self.ctx, body, *READ_HINTS) or skips_test_code(self):
            return
        start = None
        for node in walk(body, into_funcs=False):
            if node.type != "call_expression":
                continue
            operand, name = selector_parts(node)
            if start is None:
                if name in ("Start", "Run", "StartWithContext", "RunWithContext") and self._is_informer(operand, node):
                    start = node
                continue
            fn_text = text(node.child_by_field_name("function"))
            if WAIT_WORDS.search(fn_text) or WAIT_WORDS.search(text(node.child_by_field_name("arguments"))):
                return  # waited (whatever happens after is the sync's business)
            if name in READS and self._is_cache_handle(operand, node):
                self.report(node, f"`{_short(fn_text)}` reads an informer cache right after "
                                  f"`{_short(text(start.child_by_field_name('function')))}` without waiting for the "
                                  "initial sync: the cache is still empty or partial and the read returns that "
                                  "without an error; call `WaitForCacheSync` (and check its result) first",
                            related=[(start, "the informers are started here")])
                return

    def _is_informer(self, operand, at) -> bool:
        """``factory.Start``, ``informer.Run``, ``f.Core().V1().Pods().Informer().Run``."""
        operand = unwrap(operand, deref=True)
        if operand is None:
            return False
        if re.search(r"(?i)informer|factory", text(operand)):
            return True
        if operand.type == "identifier":
            decl = self.ctx.go.resolve(at, text(operand))
            if decl is not None and decl[0] in ("value", "multi") and decl[1].type == "call_expression":
                return bool(re.search(r"Informer", text(decl[1].child_by_field_name("function"))))
            if decl is not None and decl[0] in ("param", "type") and decl[1] is not None:
                return bool(re.search(r"Informer|InformerFactory", text(decl[1])))
        return False

    def _is_cache_handle(self, operand, at, depth: int = 0) -> bool:
        """Whether ``operand`` is a lister/store/indexer (or a namespaced lister of one)."""
        node = unwrap(operand, deref=True)
        if node is None or depth > 4:
            return False
        if node.type == "call_expression":
            inner, name = selector_parts(node)
            if name in CACHE_HANDLES:
                return True
            return inner is not None and self._is_cache_handle(inner, at, depth + 1)  # lister.Pods(ns)
        if node.type == "selector_expression":
            return text(node.child_by_field_name("field")).lower().endswith("lister")
        if node.type == "identifier":
            if text(node).lower().endswith("lister"):
                return True
            decl = self.ctx.go.resolve(at, text(node))
            if decl is not None and decl[0] == "value":
                return self._is_cache_handle(decl[1], at, depth + 1)
        return False


def _used_after(ident, wait) -> bool:
    """Whether the variable ``ident`` names is used after ``wait`` in the same function."""
    fn = enclosing(wait, FUNCS)
    name = text(ident)
    return fn is not None and any(n.type == "identifier" and text(n) == name and n.start_byte > wait.end_byte
                                  for n in walk(fn))


def _looks_like_factory(operand) -> bool:
    return operand is not None and bool(re.search(r"(?i)factory|informers", text(operand)))


def _short(code: str, n: int = 60) -> str:
    code = " ".join(code.split())
    return code if len(code) <= n else code[: n - 1] + "…"

def _in_source(ctx, node, *needles: bytes) -> bool:
    """Whether any of ``needles`` occurs in the source text of ``node`` (no copy)."""
    return any(ctx.source.data.find(n, node.start_byte, node.end_byte) >= 0 for n in needles)
