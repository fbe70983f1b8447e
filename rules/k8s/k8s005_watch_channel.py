"""K8S005 watch-channel-unchecked: raw watch channels read without handling closure or ERROR events."""

from __future__ import annotations

import re

from cnlint import Rule, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, TEST_CODE_HELP, skips_test_code
from cnlint.golang import FUNCS, enclosing, selector_parts, text, unwrap, walk


from .import_paths import META_V1, WATCH
from .options import SKIP_TEST_FILES_OPTION

#: an event-handling body that deals with error events
ERROR_HANDLING = re.compile(r'^["`]ERROR["`]$')


class WatchChannelUnchecked(Rule):
    id = "K8S005"
    name = "watch-channel-unchecked"
    summary = "A raw Watch() channel is read without handling its closing or ERROR events"
    severity = "warning"
    tags = ("kubernetes", "reliability")
    precision = "high"
    fixable = None
    options = {SKIP_TEST_FILES: SKIP_TEST_FILES_OPTION}
    help = """\
## What it does
Reports the result channel of a raw watch (`w, err := c.CoreV1().Pods(ns).Watch(ctx, opts)`,
the dynamic client's or controller-runtime's `Watch`) when it is read

- with a single-value receive (`ev := <-w.ResultChan()`, `case ev := <-w.ResultChan():`,
  or the same through a variable holding the channel): there is no
  `ev, ok := <-...` check for the channel being closed; or
- with `for ev := range w.ResultChan() { ... }` whose body never handles
  `watch.Error` events (no `watch.Error` case or comparison, no check of a
  `*metav1.Status` object, and the event is not handed to another function).

Watches from `watchtools.NewRetryWatcher`, `watchtools.UntilWithSync` and
informers are not reported: they re-establish the watch themselves. Nor are
a single-value receive whose code asserts the object's type with
`obj, ok := ev.Object.(*T)` and returns when `!ok` (the empty event of a
closed channel ends the wait with an error, no spinning), and a range over a
watch meant to end (`metav1.ListOptions{TimeoutSeconds: ...}` in the `Watch`
call) whose body checks the object's type the same way (an ERROR's Status is
not taken for a watched object, and the loop's end is the plan).

## Why is this bad?
A watch does not last: the API server ends it after its request timeout
(randomised around `--min-request-timeout`, 30 to 60 minutes), when it
restarts, when the connection drops, and with an ERROR event carrying a
`metav1.Status` when the requested `resourceVersion` is too old
(**410 Gone**, "too old resource version", which happens after any
disconnection long enough for etcd to compact). The
[`watch.Interface`](https://pkg.go.dev/k8s.io/apimachinery/pkg/watch#Interface)
contract is that the producer sends an error event and closes the result
channel; the [API concepts](https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes)
say that a client must handle the 410 by listing again and watching from the
new version.

- A single-value receive from a closed channel returns the zero `Event`
  immediately and forever: the loop spins on a CPU core, and
  `ev.Object.(*v1.Pod)` panics on the nil object.
- An ERROR event's object is a `*metav1.Status`, not the watched type: code
  that does not look at `ev.Type` treats it as a pod (or panics on the type
  assertion), and then the channel closes, the `range` ends, and the program
  silently stops watching: the controller looks healthy but no longer sees
  any change.

stern read a raw watch with `case e := <-watcher.ResultChan():` until it
switched to a RetryWatcher "in case the underlying watcher is closed (e.g. due
to API timeout or etcd timeout)"
([stern/stern@a363663](https://github.com/stern/stern/commit/a36366358f70cffd24fe0d72a599029d879d0ddd)).

## Example
```go
w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
if err != nil {
    return err
}
for ev := range w.ResultChan() {
    pod := ev.Object.(*v1.Pod)
    handle(pod)
}

for {
    select {
    case ev := <-w.ResultChan():
        handle(ev.Object.(*v1.Pod))
    case <-ctx.Done():
        return nil
    }
}
```

## Use instead
```go
rw, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion,
    &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
        return cs.CoreV1().Pods(ns).Watch(ctx, o)
    }})
if err != nil {
    return err
}
defer rw.Stop()
for ev := range rw.ResultChan() {
    switch ev.Type {
    case watch.Error:
        return apierrors.FromObject(ev.Object)
    case watch.Added, watch.Modified, watch.Deleted:
        handle(ev.Object.(*v1.Pod))
    }
}
```

or an informer (`informers.NewSharedInformerFactory`), which lists, watches,
re-lists on 410 and re-watches for you. Reading a raw channel by hand:
`ev, ok := <-w.ResultChan(); if !ok { /* re-list and watch again */ }`.

## How to fix
Prefer an informer or `watchtools.NewRetryWatcher`/`UntilWithSync`. If the
code must read a raw watch, check `ok` on every receive, handle
`watch.Error` (`apierrors.FromObject(ev.Object)` turns it into an error; on
410 list again to get a fresh `resourceVersion`), and start a new watch from
the last seen `resourceVersion` when the channel closes. There is no automatic
fix: re-watching needs a loop the code does not have yet.
""" + TEST_CODE_HELP


class WatchChannelUncheckedGo(WatchChannelUnchecked, TreeSitterRule):
    languages = ("go",)
    requires = ("ResultChan",)

    def visit_call_expression(self, call) -> None:
        operand, name = selector_parts(call)
        if name != "ResultChan" or skips_test_code(self):
            return
        watch_call = self._raw_watch(operand, call)
        if watch_call is None:
            return
        related = [(watch_call, "the raw watch is started here")]
        label = f"`{text(operand)}.ResultChan()`"
        parent = call.parent
        if parent is not None and parent.type == "range_clause":
            self._check_range(parent, label, related)
            return
        if parent is not None and parent.type == "unary_expression" and \
                text(parent.child_by_field_name("operator")) == "<-":
            self._check_receive(parent, label, related)
            return
        # ch := w.ResultChan(): follow the variable
        if parent is not None and parent.type == "expression_list" and parent.parent is not None and \
                parent.parent.type in ("short_var_declaration", "assignment_statement", "var_spec") and \
                parent.named_child_count == 1:
            decl = parent.parent
            left = decl.child_by_field_name("left") or decl.child_by_field_name("name")
            if left is None:
                return
            target = left.named_children[0] if left.type == "expression_list" else left
            if target.type != "identifier":
                return
            fn = enclosing(call, FUNCS)
            if fn is None:
                return
            for n in walk(fn):
                if n.type == "identifier" and text(n) == text(target) and n.start_byte > call.end_byte:
                    p = n.parent
                    if p is not None and p.type == "range_clause" and p.child_by_field_name("right") == n:
                        self._check_range(p, f"`{text(target)}` ({label})", related)
                    elif p is not None and p.type == "unary_expression" and \
                            text(p.child_by_field_name("operator")) == "<-":
                        self._check_receive(p, f"`{text(target)}` ({label})", related)

    # ---- where the watch comes from ----
    def _raw_watch(self, operand, at):
        """The ``X.Watch(...)`` call ``operand`` was assigned from in this function (else None)."""
        operand = unwrap(operand, deref=True)
        if operand is None or operand.type != "identifier":
            return None
        decl = self.ctx.go.resolve(at, text(operand))
        if decl is None or decl[0] not in ("value", "multi"):
            return None
        value = unwrap(decl[1], deref=True)
        if value is None or value.type != "call_expression":
            return None
        _, name = selector_parts(value)
        return value if name in ("Watch", "WatchWithContext") else None

    # ---- how it is read ----
    def _check_range(self, clause, label: str, related) -> None:
        left = clause.child_by_field_name("left")
        if left is None or not left.named_child_count:
            return  # for range ch {}: draining, the events are not used
        event = text(left.named_children[0])
        if event == "_":
            return
        loop = clause.parent
        body = loop.child_by_field_name("body") if loop is not None else None
        if body is None or self._handles_errors(body, event):
            return
        if _has_timeout(related[0][0]) and _object_type_checks(body, event):
            return  # a watch meant to end (TimeoutSeconds) whose loop sees an ERROR's Status as "not mine"
        self.report(clause, f"ranging over {label} without handling `watch.Error` events: an ERROR event "
                            "carries a `*metav1.Status` (410 Gone when the resourceVersion is too old), then the "
                            "channel closes and the loop ends, and nothing watches any more; handle "
                            "`watch.Error` and re-watch, or use `watchtools.NewRetryWatcher` or an informer",
                    related=related)

    def _check_receive(self, recv, label: str, related) -> None:
        parent = recv.parent
        if parent is None:
            return
        if parent.type == "expression_statement":
            return  # <-ch on its own: waits for one event, the value is not used
        if parent.type == "receive_statement":  # case ev := <-ch:
            left = parent.child_by_field_name("left")
            if left is None or left.named_child_count != 1:
                return
        elif parent.type == "expression_list" and parent.parent is not None and \
                parent.parent.type in ("short_var_declaration", "assignment_statement", "var_spec"):
            decl = parent.parent
            left = decl.child_by_field_name("left")
            if left is not None and left.named_child_count != 1:
                return  # ev, ok := <-ch
            if decl.type == "var_spec" and len(decl.children_by_field_name("name")) != 1:
                return
        scope = parent.parent if parent.type == "receive_statement" else _enclosing_block(parent)
        if scope is not None and _object_type_checks(scope, _received_name(parent), leaves=True):
            return  # the closed channel's empty event fails `ev.Object.(*T)` and the code leaves
        self.report(recv, f"single-value receive from {label}: when the watch ends (server timeout, "
                          "410 Gone, a dropped connection) the channel is closed and this returns an empty event "
                          "at once, forever (a busy loop, and a nil `Object`); use `ev, ok := <-...` and re-watch "
                          "when `!ok`, or use `watchtools.NewRetryWatcher` or an informer",
                    related=related)

    def _handles_errors(self, body, event: str) -> bool:
        for n in walk(body):
            t = n.type
            if t in ("selector_expression", "qualified_type"):
                if self.ctx.go.qualified(n) in ((WATCH, "Error"), (META_V1, "Status")):
                    return True
                if t == "selector_expression" and text(n.child_by_field_name("field")) in ("Error", "FromObject") \
                        and text(n.child_by_field_name("operand")) in ("watch", "errors", "apierrors", "k8serrors"):
                    return True
            elif t in ("interpreted_string_literal", "raw_string_literal") and ERROR_HANDLING.search(text(n)):
                return True
            elif t == "identifier" and text(n) == event:
                p = n.parent
                if p is not None and p.type == "argument_list":
                    return True  # handle(ev): the event is handed on whole
                if p is not None and p.type == "send_statement":
                    return True  # out <- ev
                if p is not None and p.type == "expression_list" and p.parent is not None and \
                        p.parent.type == "return_statement":
                    return True  # return ev
        return False


def _received_name(stmt) -> str:
    """``ev`` of ``case ev := <-ch`` / ``ev := <-ch``."""
    left = stmt.child_by_field_name("left")
    if left is None and stmt.type == "expression_list":
        left = stmt.parent.child_by_field_name("left") if stmt.parent is not None else None
    return text(left.named_children[0]) if left is not None and left.named_children else ""


def _enclosing_block(node):
    while node is not None and node.type not in ("block", "communication_case", "expression_case"):
        node = node.parent
    return node


def _object_type_checks(body, event: str, leaves: bool = False) -> bool:
    """``obj, ok := ev.Object.(*T)`` then ``if !ok { ... }`` (with ``leaves``: a
    branch that returns): an ERROR event's Status, or the empty event of a
    closed channel, is told apart from the objects watched."""
    oks = set()
    for n in walk(body):
        if n.type == "short_var_declaration":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            value = right.named_children[0] if right is not None and right.named_children else None
            if left is not None and left.named_child_count == 2 and value is not None and \
                    value.type == "type_assertion_expression" and \
                    text(value.child_by_field_name("operand")) == f"{event}.Object":
                oks.add(text(left.named_children[1]))
        elif n.type == "if_statement" and oks:
            cond = n.child_by_field_name("condition")
            if cond is not None and cond.type == "unary_expression" and \
                    text(cond.child_by_field_name("operand")) in oks:
                branch = n.child_by_field_name("consequence")
                if not leaves or any(x.type == "return_statement" for x in walk(branch)):
                    return True
    return False


def _has_timeout(watch_call) -> bool:
    """``Watch(ctx, metav1.ListOptions{TimeoutSeconds: ...})``: a watch meant to end."""
    return any(n.type == "field_identifier" and text(n) == "TimeoutSeconds" or
               n.type == "literal_element" and text(n) == "TimeoutSeconds" for n in walk(watch_call))
