"""NET002 for Python: ``grpc.insecure_channel``/``secure_channel`` (and the
``grpc.aio`` ones) to a Service name without a load-balancing policy.

gRPC C-core resolves targets without a scheme with its ``dns`` resolver, so
only the policy is checked.
"""

from __future__ import annotations

import os
import re
from typing import Optional

import libcst as cst

from cnlint import PythonRule
from cnlint.python import argument, full_name, has_star_args, string_value

from .grpc_balancing import GrpcWithoutClientLoadBalancing, has_lb_marker, kubernetes_service
from .grpc_manifest_targets import ConfigKey, describe_targets, manifest_targets, related_locations

#: Calls that read an environment variable: ``(name, default)``.
ENV_READS = {"os.getenv", "os.environ.get", "os.environ.setdefault"}
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ENV_HELPER = re.compile(r"env", re.I)

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
        self._reads: dict[str, tuple[ConfigKey, cst.CSTNode]] = {}  # name -> the env/flag read assigned to it
        self._flags: dict[str, ConfigKey] = {}  # argparse dest -> its flag
        self._functions: list[cst.FunctionDef] = []  # the enclosing functions, innermost last
        # function name -> the env/flag reads its call sites pass: ([positional], {keyword})
        self._passed: dict[str, list[tuple[list, dict]]] = {}
        self._param_dials: list[tuple] = []  # channels whose target is a parameter: judged at the end

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()

    def leave_Module(self, original_node: cst.Module) -> None:
        """Channels dialled with a parameter: the env/flag reads the function's callers pass."""
        for node, name, target, fn, param in self._param_dials:
            reads: dict = {}
            index = _positions(fn)[param]
            for positional, keywords in self._passed.get(fn.name.value, ()):
                read = keywords.get(param) or (positional[index] if 0 <= index < len(positional) else None)
                if read is not None:
                    reads.setdefault(read[0], read[1])
            if reads:
                self._report_configured(node, name, target, reads)

    def visit_Assign(self, node: cst.Assign) -> None:
        key = self._config_key(node.value)
        for t in node.targets:
            name = full_name(t.target)
            if name:
                self._assigned[name] = node.value
                if key is not None:
                    self._reads[name] = (key, node.value)
                else:
                    self._reads.pop(name, None)

    def _config_key(self, value) -> Optional[ConfigKey]:
        """``os.environ.get("X", "def")``, ``os.getenv``, ``os.environ["X"]``,
        ``must_map_env("X")`` (a helper named after the environment)."""
        if isinstance(value, cst.Subscript) and "os.environ" in self.qualified_names(value.value) \
                and len(value.slice) == 1 and isinstance(value.slice[0].slice, cst.Index):
            name = string_value(value.slice[0].slice.value)
            return ConfigKey("env", name) if name else None
        if not isinstance(value, cst.Call):
            return None
        strings = [string_value(a.value) for a in value.args if a.keyword is None]
        if self.qualified_names(value.func) & ENV_READS:
            return ConfigKey("env", strings[0], strings[1] if len(strings) > 1 else None) \
                if strings and strings[0] else None
        callee = (full_name(value.func) or "").rpartition(".")[2]
        if _ENV_HELPER.search(callee):
            for i, s in enumerate(strings):
                if s and _ENV_NAME.match(s):
                    return ConfigKey("env", s, strings[i + 1] if i + 1 < len(strings) else None)
        return None

    def _note_argparse_flag(self, node: cst.Call) -> None:
        """``parser.add_argument("--catalog-addr", default="...")`` declares ``args.catalog_addr``."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "add_argument"):
            return
        names = [string_value(a.value) for a in node.args if a.keyword is None]
        long = next((n for n in names if n and n.startswith("--")), None)
        if long is None:
            return
        dest_arg = argument(node, "dest")
        default_arg = argument(node, "default")
        dest = string_value(dest_arg.value) if dest_arg is not None else long[2:].replace("-", "_")
        default = string_value(default_arg.value) if default_arg is not None else None
        if dest:
            self._flags[dest] = ConfigKey("flag", long[2:], default)

    def visit_Call(self, node: cst.Call) -> None:
        self._note_argparse_flag(node)
        self._note_passed_reads(node)
        names = self.qualified_names(node.func) & set(CHANNELS)
        if not names:
            return
        name = sorted(names)[0]
        target_arg = argument(node, "target", 0)
        if target_arg is None:
            return
        literal = string_value(target_arg.value)
        if literal is None:
            self._check_configured(node, name, target_arg.value)
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

    def _check_configured(self, node: cst.Call, name: str, target) -> None:
        """A target read from the environment or a flag (here, or by the
        callers of this function when it is a parameter): follow it to the
        manifests that set it and the Service they name."""
        options = argument(node, "options", CHANNELS[name])
        if options is not None and not self._policy_missing(options.value):
            return
        if options is None and has_star_args(node):
            return
        read = self._config_read(target)
        if read is not None:
            self._report_configured(node, name, target, {read[0]: read[1]})
            return
        fn = self._functions[-1] if self._functions else None
        if isinstance(target, cst.Name) and fn is not None and target.value in _positions(fn) \
                and target.value not in self._assigned:
            self._param_dials.append((node, name, target, fn, target.value))

    def _note_passed_reads(self, node: cst.Call) -> None:
        """Remember the env/flag reads passed to a call of a plain name or method."""
        callee = node.func.attr.value if isinstance(node.func, cst.Attribute) else \
            node.func.value if isinstance(node.func, cst.Name) else None
        if callee is None:
            return
        positional = [self._config_read(a.value) if a.keyword is None and not a.star else None for a in node.args]
        keywords = {a.keyword.value: self._config_read(a.value) for a in node.args if a.keyword is not None}
        if any(positional) or any(keywords.values()):
            self._passed.setdefault(callee, []).append((positional, {k: v for k, v in keywords.items() if v}))

    def _report_configured(self, node: cst.Call, name: str, target, reads: dict) -> None:
        source = os.path.abspath(self.ctx.path)
        targets = manifest_targets(list(reads), source)
        if not targets:
            return
        used = {t.key for t in targets}
        shown = ".".join(name.split(".")[-2:]) if ".aio." in name else name
        related = [(where, f"{key} is read here") for key, where in reads.items() if key in used and where is not target]
        self.report(node, f"`{shown}({self._module.code_for_node(target)})` connects to a Kubernetes Service: "
                          f"{describe_targets(targets, source)}, with gRPC's default `pick_first` policy: HTTP/2 "
                          "keeps one long-lived connection, so every RPC goes to the one pod it first connected "
                          "to; add `options=[(\"grpc.lb_policy_name\", \"round_robin\")]` and make the Service "
                          "headless (`clusterIP: None`) so DNS returns every pod — or balance per request with a "
                          "service mesh",
                    related=related + related_locations(targets, self.ctx.path))

    def _config_read(self, target) -> Optional[tuple[ConfigKey, cst.CSTNode]]:
        """The environment variable or flag a target expression holds, and where it is read."""
        key = self._config_key(target)
        if key is not None:
            return key, target
        dotted = full_name(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
        if dotted is None:
            return None
        if dotted in self._reads:
            return self._reads[dotted]
        if isinstance(target, cst.Attribute) and target.attr.value in self._flags:
            return self._flags[target.attr.value], target
        return None

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


def _positions(fn: cst.FunctionDef) -> dict[str, int]:
    """Parameter name -> its position in a call (``self``/``cls`` left out)."""
    names = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return {n: i for i, n in enumerate(names)} | {p.name.value: -1 for p in fn.params.kwonly_params}


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
