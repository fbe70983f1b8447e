"""K8S002 listwatch-ignores-options: a ``cache.ListWatch`` function drops the reflector's options."""

from __future__ import annotations

import re

from cnlint import Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, TEST_CODE_HELP, skips_test_code
from cnlint.golang import call_args, keyed_elements, selector_parts, strip_pointer, text, unwrap, walk


from .import_paths import CACHE, META_V1
from .options import SKIP_TEST_FILES_OPTION

#: ListWatch fields holding a function that receives the reflector's ListOptions
LW_FUNCS = ("ListFunc", "WatchFunc", "ListWithContextFunc", "WatchFuncWithContext")
#: calls that talk to the API server inside such a function
API_CALLS = re.compile(r"^(List|Watch)(WithContext)?$")


class ListWatchIgnoresOptions(Rule):
    id = "K8S002"
    name = "listwatch-ignores-options"
    summary = "A cache.ListWatch function ignores the ListOptions the reflector passes"
    severity = "warning"
    tags = ("kubernetes", "correctness")
    precision = "high"
    fixable = "unsafe"
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports the `ListFunc`, `WatchFunc`, `ListWithContextFunc` and
`WatchFuncWithContext` of a client-go `cache.ListWatch` (a composite literal,
or an assignment `lw.ListFunc = func(...)`) whose body calls the API server
but never uses its `metav1.ListOptions` parameter: the parameter is named `_`,
has no name, or is not referenced, typically because the call builds its own
`metav1.ListOptions{}`.

Functions that return canned objects without calling `List`/`Watch` (fake
watchers in tests) are not reported, nor is `cache.NewListWatchFromClient`
/ `cache.NewFilteredListWatchFromClient`, which pass the options through.

## Why is this bad?
The reflector that drives an informer (and `watchtools.NewRetryWatcher`, which
takes a `ListWatch` too) is the only one that knows where the cache or the
watch stands, and it says so through these options
([`cache.ListWatch`](https://pkg.go.dev/k8s.io/client-go/tools/cache#ListWatch),
[reflector](https://github.com/kubernetes/client-go/blob/master/tools/cache/reflector.go)):

- `ResourceVersion`: the watch must start where the list ended. Without it,
  the API server starts the watch "at the most recent" version
  ([resource versions](https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch)):
  every restart replays all objects as synthetic ADDED events, and objects
  **deleted between the list and the watch are never reported**: the
  informer's cache keeps ghost objects until the next relist. On the list
  side, the `"0"` hint that lets the API server answer from its watch cache is
  lost: every relist becomes a consistent read, served from etcd by API
  servers without the `ConsistentListFromCache` feature (before 1.31).
- `TimeoutSeconds`: the reflector asks for a random 5-10 minute timeout so a
  watch never hangs silently; a watch without it can stay open on a dead
  connection and the controller stops seeing changes.
- `AllowWatchBookmarks`, `Limit`/`Continue` (paging of large lists) and the
  streaming-list fields (`SendInitialEvents`, `ResourceVersionMatch`): lost,
  so restarts are costlier and large lists are fetched in one piece.

The mistake is common around `watchtools.NewRetryWatcher`, whose whole point
is to resume "from the last point" after the watch closes: with a `WatchFunc`
that ignores `options`, every restart starts over from the current state
instead (stern's switch to a RetryWatcher,
[stern/stern@a363663](https://github.com/stern/stern/commit/a36366358f70cffd24fe0d72a599029d879d0ddd),
did exactly that).

## Example
```go
lw := &cache.ListWatch{
    ListFunc: func(options metav1.ListOptions) (runtime.Object, error) {
        return cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
    },
    WatchFunc: func(_ metav1.ListOptions) (watch.Interface, error) {
        return cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app=web"})
    },
}
```

## Use instead
```go
lw := &cache.ListWatch{
    ListFunc: func(options metav1.ListOptions) (runtime.Object, error) {
        options.LabelSelector = "app=web"
        return cs.CoreV1().Pods(ns).List(ctx, options)
    },
    WatchFunc: func(options metav1.ListOptions) (watch.Interface, error) {
        options.LabelSelector = "app=web"
        return cs.CoreV1().Pods(ns).Watch(ctx, options)
    },
}
```

or `cache.NewFilteredListWatchFromClient(cs.CoreV1().RESTClient(), "pods",
ns, func(o *metav1.ListOptions) { o.LabelSelector = "app=web" })`, or an
informer factory with `informers.WithTweakListOptions`.

## How to fix
Name the parameter, set your selectors on it, and pass it to the call. The
fix does exactly that when the call's argument is a `metav1.ListOptions{...}`
literal (its fields become assignments to the parameter). It is an unsafe fix:
it changes what is requested from the API server, which is the point, but
should be reviewed (for example when the literal set a `ResourceVersion` on
purpose).
""" + TEST_CODE_HELP


class ListWatchIgnoresOptionsGo(ListWatchIgnoresOptions, TreeSitterRule):
    languages = ("go",)
    requires = LW_FUNCS

    def visit_composite_literal(self, node) -> None:
        typ = strip_pointer(node.child_by_field_name("type"))
        if typ is None or self.ctx.go.qualified(typ) != (CACHE, "ListWatch") or skips_test_code(self):
            return
        for key, (_, value) in keyed_elements(node.child_by_field_name("body")).items():
            if key in LW_FUNCS and value is not None and value.type == "func_literal":
                self._check(key, value)

    def visit_assignment_statement(self, node) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None or right is None or left.named_child_count != 1 or right.named_child_count != 1:
            return
        target, value = left.named_children[0], right.named_children[0]
        if target.type != "selector_expression" or value.type != "func_literal":
            return
        field = text(target.child_by_field_name("field"))
        if field in LW_FUNCS and CACHE in self.ctx.go.imports.names.values() and not skips_test_code(self):
            self._check(field, value)

    def _check(self, key: str, fn) -> None:
        param = self._options_param(fn)
        if param is None:
            return
        names = param.children_by_field_name("name")
        name = text(names[0]) if names else ""
        body = fn.child_by_field_name("body")
        if body is None:
            return
        if name and name != "_" and any(n.type == "identifier" and text(n) == name for n in walk(body)):
            return
        api_call = self._api_call(body)
        if api_call is None:
            return
        shown = f"its `{name}` parameter" if name and name != "_" else "its `metav1.ListOptions` parameter"
        if key.startswith("Watch"):
            effect = ("the watch starts at \"now\" instead of where the list ended, so deletions in between are "
                      "never seen and every restart replays all objects, and it gets no timeout")
        else:
            effect = ("the list loses the reflector's resourceVersion and paging, so every relist is an "
                      "unpaginated consistent read instead of an answer from the watch cache")
        msg = (f"{key} ignores {shown}: the informer's reflector (or a RetryWatcher) passes resourceVersion, "
               f"timeouts, paging and bookmarks through it; {effect}; set your selectors on the parameter and "
               "pass it to the call")
        self.report(param, msg, fix=self._fix(param, name, api_call),
                    related=[(api_call, "the API call builds its own options here")])

    def _options_param(self, fn):
        params = fn.child_by_field_name("parameters")
        if params is None:
            return None
        for p in params.named_children:
            if p.type == "parameter_declaration":
                typ = p.child_by_field_name("type")
                if typ is not None and typ.type == "qualified_type" and \
                        self.ctx.go.qualified(typ) == (META_V1, "ListOptions"):
                    return p
        return None

    def _api_call(self, body):
        for n in walk(body):  # also inside a retry helper's callback
            if n.type == "call_expression" and API_CALLS.match(selector_parts(n)[1]):
                return n
        return None

    def _fix(self, param, name: str, api_call):
        literals = [a for a in call_args(api_call)
                    if (u := unwrap(a, deref=True)) is not None and u.type == "composite_literal"
                    and self.ctx.go.qualified(u.child_by_field_name("type")) == (META_V1, "ListOptions")]
        if len(literals) != 1:
            return None
        arg = literals[0]
        lit = unwrap(arg, deref=True)
        new_name = name
        if not name or name == "_":  # name it, without shadowing a variable the body uses
            body = param.parent.parent.child_by_field_name("body")
            used = {text(n) for n in walk(body) if n.type == "identifier"} if body is not None else set()
            new_name = next(n for n in ("options", "opts", "listOptions", "reflectorOptions") if n not in used)
        edits = []
        if not name:
            # Go wants all parameters named or none: name the others `_`
            for other in param.parent.named_children:
                if other.type == "parameter_declaration" and not other.children_by_field_name("name"):
                    edits.append(self.insert(other.start_byte, new_name + " " if other.id == param.id else "_ "))
        elif name == "_":
            edits.append(self.edit(param.children_by_field_name("name")[0], new_name))
        ref = "&" + new_name if arg.type == "unary_expression" else new_name
        edits.append(self.edit(arg, ref))
        fields = keyed_elements(lit.child_by_field_name("body"))
        if fields:
            stmt = api_call
            while stmt.parent is not None and stmt.parent.type not in ("statement_list", "block"):
                stmt = stmt.parent
            line_start = self.ctx.source.data.rfind(b"\n", 0, stmt.start_byte) + 1
            indent = self.ctx.source.data[line_start:stmt.start_byte].decode()
            if indent.strip():
                return None
            assigns = "".join(f"{new_name}.{k} = {text(v)}\n{indent}" for k, (_, v) in fields.items())
            edits.append(self.insert(stmt.start_byte, assigns))
        return self.fix(f"Pass the reflector's `{new_name}` to the API call", *edits, applicability="unsafe")
