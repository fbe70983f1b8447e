"""NET002 for Python: ``grpc.insecure_channel``/``secure_channel`` (and the
``grpc.aio`` ones) to a Service name without a load-balancing policy.

gRPC C-core resolves targets without a scheme with its ``dns`` resolver, so
only the policy is checked.
"""

from __future__ import annotations

import libcst as cst

from cnlint import PythonRule
from cnlint.python import argument, full_name, has_star_args, string_value

from .grpc_balancing import GrpcWithoutClientLoadBalancing, has_lb_marker, kubernetes_service

#: channel constructor -> position of its ``options`` argument
CHANNELS = {
    "grpc.insecure_channel": 1,
    "grpc.secure_channel": 2,
    "grpc.aio.insecure_channel": 1,
    "grpc.aio.secure_channel": 2,
    "grpc.experimental.aio.insecure_channel": 1,
    "grpc.experimental.aio.secure_channel": 2,
}


class GrpcWithoutClientLoadBalancingPython(GrpcWithoutClientLoadBalancing, PythonRule):
    requires = ("grpc",)

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._assigned: dict[str, cst.BaseExpression] = {}  # name -> last value assigned to it

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            name = full_name(t.target)
            if name:
                self._assigned[name] = node.value

    def visit_Call(self, node: cst.Call) -> None:
        names = self.qualified_names(node.func) & set(CHANNELS)
        if not names:
            return
        name = sorted(names)[0]
        target_arg = argument(node, "target", 0)
        if target_arg is None:
            return
        literal = string_value(target_arg.value)
        if literal is None:
            return
        svc = kubernetes_service(literal)
        if svc is None:
            return
        index = CHANNELS[name]
        options = argument(node, "options", index)
        if options is not None and not self._policy_missing(options.value):
            return
        if options is None and has_star_args(node):
            return
        shown = ".".join(name.split(".")[-2:]) if ".aio." in name else name
        headless = svc.dns_form(svc.service + "-headless")
        self.report(node, f"`{shown}(\"{literal}\")` connects to the Kubernetes Service "
                          f"`{svc.service}.{svc.namespace}` with gRPC's default `pick_first` policy: HTTP/2 keeps one "
                          "long-lived connection, so every RPC goes to the one pod it first connected to; add "
                          "`options=[(\"grpc.lb_policy_name\", \"round_robin\")]` and dial a headless Service "
                          f"(`clusterIP: None`, e.g. `{headless}`) so DNS returns every pod — or balance per "
                          "request with a service mesh")

    def _policy_missing(self, value, depth: int = 0) -> bool:
        """True when no load-balancing policy can be in ``value``: none is
        written in it, and every name it uses was assigned in this module
        without one (an imported constant or a parameter may hold one)."""
        if has_lb_marker(self._module.code_for_node(value)):
            return False
        if depth > 3:
            return False
        for name in _names(value):
            if name not in self._assigned or not self._policy_missing(self._assigned[name], depth + 1):
                return False
        return True


def _names(node) -> list[str]:
    """Dotted names read in an expression (``OPTIONS``, ``settings.GRPC_OPTIONS``)."""
    out: list[str] = []

    class Collect(cst.CSTVisitor):
        def visit_Attribute(self, n: cst.Attribute) -> bool:
            name = full_name(n)
            if name:
                out.append(name)
            return False

        def visit_Name(self, n: cst.Name) -> None:
            if n.value not in ("None", "True", "False"):
                out.append(n.value)

        def visit_Arg(self, n: cst.Arg) -> bool:
            n.value.visit(self)
            return False

    node.visit(Collect())
    return out
