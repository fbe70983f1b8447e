"""NET003 for Python: ``push_to_gateway``/``pushadd_to_gateway`` in an endless
loop or a scheduled function without a per-instance ``grouping_key``.

Pushes are collected during the traversal and judged at the end of the module,
once every loop that calls a function and every scheduler registration has
been seen.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from cnlint import PythonRule
from cnlint.python import argument, full_name, has_star_args, is_none, positional_args, short, string_value

from .pushgateway import PushgatewayPushOverwrites

PUSHES = {
    "prometheus_client.push_to_gateway", "prometheus_client.pushadd_to_gateway",
    "prometheus_client.exposition.push_to_gateway", "prometheus_client.exposition.pushadd_to_gateway",
}
#: decorators (last name) that make a function a scheduled or queued task
TASK_DECORATORS = {"task", "shared_task", "periodic_task", "scheduled_job", "timer_task", "repeat_every",
                   "on_after_configure"}
#: methods that register their first argument as a periodic job
SCHEDULE_METHODS = {"add_job", "do", "add_periodic_task", "call_later_periodic"}
_GROUPING_POSITION = 3  # push_to_gateway(gateway, job, registry, grouping_key=None, ...)


class PushgatewayPushOverwritesPython(PushgatewayPushOverwrites, PythonRule):
    requires = ("push_to_gateway", "pushadd_to_gateway")

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._stack: list[cst.CSTNode] = []  # enclosing FunctionDefs and endless loops, innermost last
        self._pushes: list[tuple[cst.Call, str, Optional[cst.CSTNode], list[str]]] = []
        self._looped: dict[str, cst.CSTNode] = {}  # function name -> loop or registration that runs it

    # ---- structure ----
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._stack.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    def visit_While(self, node: cst.While) -> None:
        self._stack.append(node)

    def leave_While(self, original_node: cst.While) -> None:
        self._stack.pop()

    def _enclosing_loop(self) -> Optional[cst.CSTNode]:
        """The innermost endless loop of the current function, or a task decorator."""
        for node in reversed(self._stack):
            if isinstance(node, cst.While) and _endless(node.test):
                return node
            if isinstance(node, cst.FunctionDef):
                return self._task_decorator(node)
        return None

    def _task_decorator(self, fn: cst.FunctionDef) -> Optional[cst.CSTNode]:
        for dec in fn.decorators:
            expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            name = full_name(expr) or ""
            if name.split(".")[-1] in TASK_DECORATORS:
                return dec
        return None

    def _function_names(self) -> list[str]:
        return [n.name.value for n in reversed(self._stack) if isinstance(n, cst.FunctionDef)]

    # ---- calls ----
    def visit_Call(self, node: cst.Call) -> None:
        names = self.qualified_names(node.func)
        if names & PUSHES:
            self._push(node, sorted(names & PUSHES)[0].rsplit(".", 1)[1])
            return
        loop = self._enclosing_loop()
        func = node.func
        callee = func.attr.value if isinstance(func, cst.Attribute) else \
            func.value if isinstance(func, cst.Name) else None
        if callee is not None and loop is not None:
            self._looped.setdefault(callee, loop)  # push_metrics() inside while True
        if isinstance(func, cst.Attribute) and func.attr.value in SCHEDULE_METHODS:
            if func.attr.value == "do" and "every" not in self._module.code_for_node(func.value):
                return
            args = positional_args(node)
            job = args[0].value if args else None
            if func.attr.value == "add_periodic_task" and len(args) > 1:
                job = args[1].value  # celery: add_periodic_task(schedule, sig)
            target = job.attr.value if isinstance(job, cst.Attribute) else \
                job.value if isinstance(job, cst.Name) else None
            if target is not None:
                self._looped.setdefault(target, node)

    def _push(self, call: cst.Call, func: str) -> None:
        job = argument(call, "job", 1)
        if job is None or not isinstance(job.value, (cst.SimpleString, cst.Name, cst.Attribute,
                                                     cst.ConcatenatedString)):
            return  # f"worker-{host}", "w-" + host, job_name(): may already be per instance
        grouping = argument(call, "grouping_key", _GROUPING_POSITION)
        if grouping is not None and self._per_instance(grouping.value):
            return
        if has_star_args(call) and grouping is None:
            return
        what = f"{func}(..., job={short(self._module, job.value, 30)})"
        self._pushes.append((call, what, self._enclosing_loop(), self._function_names()))

    @staticmethod
    def _per_instance(value) -> bool:
        if not isinstance(value, cst.Dict):
            return not is_none(value)  # a variable or instance_ip_grouping_key(): do not guess
        for el in value.elements:
            if not isinstance(el, cst.DictElement):
                return True  # **other
            if string_value(el.key) == "instance" or string_value(el.value) is None:
                return True
        return False

    def leave_Module(self, original_node: cst.Module) -> None:
        for call, func, loop, functions in self._pushes:
            where = loop
            if where is None:
                where = next((self._looped[f] for f in functions if f in self._looped), None)
            if where is None:
                continue
            self.report(call, f"`{func}` runs in a long-running loop, a schedule or a task queue without an `instance` "
                              "grouping key: every replica pushes to the same group of this job and each push "
                              "replaces the previous one, so the Pushgateway keeps only the replica that pushed "
                              "last; add `grouping_key={\"instance\": os.environ[\"POD_NAME\"]}` (any value "
                              "unique per pod or node, or `instance_ip_grouping_key()`), or serve /metrics with "
                              "`start_http_server` and let Prometheus scrape each pod instead",
                        related=[(self._head(where), "pushed repeatedly here")])
        self._pushes = []

    def _head(self, node) -> tuple[int, int]:
        """The first line of a loop, decorator or call, for the related location."""
        start, end = self.byte_range(node)
        eol = self.ctx.source.data.find(b"\n", start)
        return start, end if eol < 0 else min(eol, end)


def _endless(test) -> bool:
    """``while True``, ``while 1``, ``while not stop.is_set()``, ``while running``."""
    if isinstance(test, cst.Name):
        return test.value not in ("False", "None")
    if isinstance(test, cst.Integer):
        return test.value != "0"
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return isinstance(test.expression, (cst.Name, cst.Attribute, cst.Call))
    if isinstance(test, cst.Attribute):
        return True  # while self.running
    return False
