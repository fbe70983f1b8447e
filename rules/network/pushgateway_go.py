"""NET003 for Go: ``push.New(url, job)`` pushed from a loop or a scheduler
without a per-instance ``Grouping``.

The pusher is followed along its method chain and, when it is stored in a
variable or field, to every ``v.Grouping(...)``/``v.Push()`` on it in the
function (a field: in the file).
"""

from __future__ import annotations

from typing import Optional

from cnlint import TreeSitterRule, golang as go

from .pushgateway import PushgatewayPushOverwrites

TIME = "time"
PUSH = "github.com/prometheus/client_golang/prometheus/push"
PUSH_METHODS = ("Push", "Add", "PushContext", "AddContext")
#: methods whose function argument runs periodically
SCHEDULERS = ("AddFunc", "AddJob", "Schedule", "Until", "UntilWithContext", "Forever", "NonSlidingUntil",
              "NonSlidingUntilWithContext", "JitterUntil", "JitterUntilWithContext", "Every")
_MAX_DEPTH = 3


class PushgatewayPushOverwritesGo(PushgatewayPushOverwrites, TreeSitterRule):
    languages = ("go",)
    requires = ("prometheus/push",)
    query = """
    (call_expression
      function: (selector_expression field: (field_identifier) @net003.fn)
      (#eq? @net003.fn "New")) @net003.new
    """

    def on_match(self, captures):
        call = captures["net003.new"][0]
        if self.ctx.go.package_call(call, PUSH) != "New":
            return
        args = go.call_args(call)
        if len(args) < 2:
            return
        job = args[1]
        if self._computed(job, call):
            return  # a computed job name may already be per instance
        groupings, pushes = [], []
        top = self._chain(call, groupings, pushes)
        target = go.bound_name(top)
        if target is not None:
            self._uses(target, top, groupings, pushes)
        if any(self._per_instance(g) for g in groupings):
            return
        for site in pushes:
            loop = self._long_running(site, 0)
            if loop is not None:
                job_text = self.text(job)
                self.report(call, f"`{self._short(call)}` is pushed from a long-running loop or schedule without an "
                                  "`instance` grouping key: every replica pushes to the same group of job "
                                  f"{job_text} and each push replaces the previous one, so the Pushgateway keeps "
                                  "only the replica that pushed last; add `.Grouping(\"instance\", "
                                  "os.Getenv(\"POD_NAME\"))` (any value unique per pod or node), or expose "
                                  "/metrics and let Prometheus scrape each pod instead",
                            related=[(self._head(loop), "pushed repeatedly here")])
                return

    # ---- following the pusher ----
    def _chain(self, node, groupings, pushes):
        """Walk ``node.M1(...).M2(...)...`` upwards; returns the outermost call."""
        while True:
            sel = node.parent
            if sel is None or sel.type != "selector_expression" or _id(sel.child_by_field_name("operand")) != node.id:
                return node
            call = sel.parent
            if call is None or call.type != "call_expression":
                return node
            method = self.text(sel.child_by_field_name("field"))
            if method == "Grouping":
                groupings.append(call)
            elif method in PUSH_METHODS:
                pushes.append(call)
            node = call

    def _uses(self, target, top, groupings, pushes) -> None:
        """Calls on the variable or field the pusher was stored in."""
        if target.type == "identifier":
            scope = go.outermost_function(top)
            if scope is None:
                return
            wanted = lambda operand: operand.type == "identifier" and self.text(operand) == self.text(target)  # noqa: E731
        elif target.type == "selector_expression":
            scope = self.ctx.tree.root_node
            field = self.text(target.child_by_field_name("field"))
            wanted = lambda operand: operand.type == "selector_expression" and \
                self.text(operand.child_by_field_name("field")) == field  # noqa: E731
        else:
            return
        for node in go.walk(scope):
            if node.type == "selector_expression" and not top.start_byte <= node.start_byte < top.end_byte:
                operand = node.child_by_field_name("operand")
                if operand is not None and wanted(operand):
                    self._chain(operand, groupings, pushes)

    def _computed(self, job, at) -> bool:
        """``"w-" + host``, ``fmt.Sprintf(...)``, or a local variable declared
        with such a value before the push."""
        if job.type in ("binary_expression", "call_expression"):
            return True
        if job.type != "identifier":
            return False
        return any(v.type in ("binary_expression", "call_expression")
                   for v in go.values_assigned_before(at, self.text(job)))

    def _per_instance(self, grouping) -> bool:
        args = go.call_args(grouping)
        if len(args) != 2:
            return True  # not what we expect: do not guess
        key, value = go.string_value(args[0]), go.string_value(args[1])
        return key == "instance" or key is None or value is None

    # ---- long-running code ----
    def _long_running(self, node, depth: int):
        """The loop or scheduler call that runs ``node`` repeatedly, else None."""
        while node is not None:
            parent = node.parent
            if parent is None:
                return None
            if parent.type == "for_statement" and node.type == "block" and self._endless(parent):
                return parent
            if node.type == "func_literal" and parent.type == "argument_list":
                call = parent.parent
                if self._scheduler(call):
                    return call
            if node.type in ("function_declaration", "method_declaration") and depth < _MAX_DEPTH:
                return self._callers_loop(self.text(node.child_by_field_name("name")), depth + 1)
            node = parent
        return None

    def _endless(self, loop) -> bool:
        clause = next((c for c in loop.named_children if c.type in ("for_clause", "range_clause")), None)
        cond = next((c for c in loop.named_children if c.type not in ("for_clause", "range_clause", "block",
                                                                      "comment")), None)
        if clause is None and cond is None:
            return True  # for { ... }
        if clause is not None and clause.type == "range_clause":
            right = clause.child_by_field_name("right")
            if right is not None and right.type == "call_expression" and \
                    self.ctx.go.package_call(right, TIME) == "Tick":
                return True
            return right is not None and right.type == "selector_expression" and \
                self.text(right.child_by_field_name("field")) == "C"  # for range ticker.C
        if clause is None and cond is not None:
            return not any(op in self.text(cond) for op in ("<", ">"))  # for !done / for ctx.Err() == nil
        return False

    def _scheduler(self, call) -> bool:
        if call is None or call.type != "call_expression":
            return False
        operand, method = go.selector_parts(call)
        if method in SCHEDULERS:
            return True
        return method == "Do" and operand is not None and "Every(" in self.text(operand)  # gocron

    def _callers_loop(self, name: str, depth: int):
        """A loop or scheduler of this file that calls (or schedules) the function ``name``."""
        if not name:
            return None
        cache = getattr(self, "_callers", None)
        if cache is None or cache[0] is not self.ctx.tree:
            cache = self._callers = (self.ctx.tree, {})
        if name in cache[1]:
            return cache[1][name]
        cache[1][name] = None  # recursion guard
        found = None
        for node in go.walk(self.ctx.tree.root_node):
            if node.type not in ("identifier", "field_identifier") or self.text(node) != name:
                continue
            ref = node.parent if node.type == "field_identifier" else node
            parent = ref.parent
            if parent is None:
                continue
            if parent.type == "call_expression" and _id(parent.child_by_field_name("function")) == ref.id:
                found = self._long_running(parent, depth)
            elif parent.type == "argument_list" and self._scheduler(parent.parent):
                found = parent.parent  # wait.Until(s.push, ...)
            if found is not None:
                break
        cache[1][name] = found
        return found

    # ---- text ----
    def _short(self, call) -> str:
        text = " ".join(self.text(call).split())
        return text if len(text) <= 60 else text[:59] + "…"

    def _head(self, node) -> tuple[int, int]:
        """The first line of a loop or call, for the related location."""
        data = self.ctx.source.data
        eol = data.find(b"\n", node.start_byte)
        end = node.end_byte if eol < 0 else min(eol, node.end_byte)
        return node.start_byte, end


def _id(node) -> Optional[int]:
    return node.id if node is not None else None
