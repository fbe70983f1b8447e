"""NET002 for Go: ``grpc.Dial``/``DialContext``/``NewClient`` of a Service name
without ``dns:///`` or a load-balancing service config."""

from __future__ import annotations

import os

from cnlint import TreeSitterRule, golang as go
from cnlint.cache import project_stamp

from .grpc_balancing import GrpcWithoutClientLoadBalancing, has_lb_marker, kubernetes_service
from .grpc_manifest_targets import describe_targets, file_location, manifest_targets, related_locations
from .grpc_config_go import TargetSources

GRPC = "google.golang.org/grpc"
ROUND_ROBIN = '`{"loadBalancingConfig":[{"round_robin":{}}]}`'


class GrpcWithoutClientLoadBalancingGo(GrpcWithoutClientLoadBalancing, TreeSitterRule):
    languages = ("go",)
    requires = ('"google.golang.org/grpc"',)
    query = """
    (call_expression
      function: (selector_expression field: (field_identifier) @net002.fn)
      (#any-of? @net002.fn "Dial" "DialContext" "NewClient")) @net002.call
    """

    def on_match(self, captures):
        call = captures["net002.call"][0]
        func = self.ctx.go.package_call(call, GRPC)
        if not func:
            return
        args = go.call_args(call)
        index = 1 if func == "DialContext" else 0
        if len(args) <= index:
            return
        target_node = args[index]
        literal = go.string_value(target_node)
        if literal is None:
            self._check_configured(call, func, target_node, args[index + 1:])
            return
        svc = kubernetes_service(literal)
        if svc is None:
            return
        options = args[index + 1:]
        missing_dns = func in ("Dial", "DialContext") and not svc.has_dns_scheme
        missing_lb = self._policy_missing(call, options)
        if not (missing_dns or missing_lb):
            return
        pkg = self.text(go.selector_parts(call)[0])
        what = f"`{pkg}.{func}(\"{literal}\")`"
        problems, fixes = self._advice(pkg, func, missing_dns and ("target", f"dial `{svc.dns_form()}`"),
                                       missing_lb)
        self.report(call, f"{what} connects to the Kubernetes Service `{svc.service}.{svc.namespace}`: HTTP/2 keeps "
                          "one long-lived connection, so every RPC goes to the one pod it first connected to; "
                          f"{' and '.join(problems)}; {' and '.join(fixes)}, and make the Service headless "
                          "(`clusterIP: None`) so DNS returns every pod — or balance per request with a "
                          "service mesh",
                    related=[(target_node, "this Service name")] if target_node.start_point[0] != call.start_point[0]
                    else [])

    def _check_configured(self, call, func: str, target_node, options) -> None:
        """A target read from the environment or a flag: follow it to the
        manifests that set it and the Service they name."""
        reads: dict = {}
        for key, read in self._sources().keys(target_node):
            reads.setdefault(key, read)
        if not reads:
            return
        source = os.path.abspath(self.ctx.path)
        targets = manifest_targets(list(reads), source)
        if not targets:
            return
        missing_dns = func in ("Dial", "DialContext") and not all(t.has_dns_scheme for t in targets)
        missing_lb = self._policy_missing(call, options)
        if not (missing_dns or missing_lb):
            return
        pkg = self.text(go.selector_parts(call)[0])
        problems, fixes = self._advice(pkg, func, missing_dns and ("value", f"set it to `dns:///{targets[0].value}`"),
                                       missing_lb)
        used = {t.key for t in targets}
        shown = sorted(((key, read) for key, read in reads.items() if key in used and
                        (read.file.path is not None or read.node.start_point[0] != call.start_point[0])),
                       key=lambda kr: (kr[1].file.path or "", kr[1].node.start_byte))[:4]
        related = [(self._read_location(read), f"{key} is read here") for key, read in shown]
        self.report(call, f"`{pkg}.{func}({self.text(target_node)})` connects to a Kubernetes Service: "
                          f"{describe_targets(targets, source)}. HTTP/2 "
                          "keeps one long-lived connection, so every RPC goes to the one pod it first connected "
                          f"to; {' and '.join(problems)}; {' and '.join(fixes)}, and make the Service headless "
                          "(`clusterIP: None`) so DNS returns every pod — or balance per request with a "
                          "service mesh",
                    related=related + related_locations(targets, self.ctx.path))

    @staticmethod
    def _advice(pkg: str, func: str, dns, missing_lb: bool) -> tuple[list[str], list[str]]:
        """What is wrong and what to do; ``dns`` is (what holds the target, its fix) when the scheme is missing."""
        problems, fixes = [], []
        if dns:
            problems.append(f"the {dns[0]} has no `dns:///` scheme, so `{func}` uses the `passthrough` resolver "
                            "and sees a single address")
            fixes.append(dns[1])
        if missing_lb:
            problems.append("no load-balancing policy is set, so the default `pick_first` sends every RPC over "
                            "one connection")
            fixes.append(f"add `{pkg}.WithDefaultServiceConfig({ROUND_ROBIN})`")
        return problems, fixes

    def _sources(self) -> TargetSources:
        """The file's target tracer, built once per file."""
        cached = getattr(self, "_sources_cache", None)
        if cached is None or cached[0] is not self.ctx.tree:
            tracer = TargetSources(self.ctx.go, self.ctx.tree.root_node, self.ctx.path, self.ctx.project.go_mod)
            cached = self._sources_cache = (self.ctx.tree, tracer)
        return cached[1]

    def _read_location(self, read):
        """A node of this file, or a Location in another file of the package."""
        if read.file.path is None:
            return read.node
        return file_location(read.file.path, read.node.start_byte, read.node.end_byte, self.ctx.path)

    def cache_inputs(self, directory: str) -> str:
        # the manifests, and the package's other files that a target is followed into
        return super().cache_inputs(directory) + "|" + project_stamp(directory, ".go")

    def _policy_missing(self, call, options) -> bool:
        """True when no load-balancing policy can be in the options: none is
        written in them, and every variable or constant they use is declared in
        this function or file without one."""
        fn = go.outermost_function(call)
        for option in options:
            if has_lb_marker(self.text(option)):
                return False
            if not self._opaque(option):
                continue
            inner = option.named_children[0] if option.type == "variadic_argument" and option.named_child_count \
                else option
            if inner.type == "call_expression":  # grpc.WithDefaultServiceConfig(cfg)
                args = go.call_args(inner)
                inner = args[0] if self.ctx.go.package_call(inner, GRPC) and args else inner
            text = self._declaration_text(inner, fn)
            if text is None or has_lb_marker(text):
                return False  # declared elsewhere (a parameter, another file): it may set one
        return True

    def _opaque(self, option) -> bool:
        """Whether a dial option argument is not written out in the call: a
        variable, a spread slice, a helper's result, or
        ``grpc.WithDefaultServiceConfig(cfg)`` with a non-literal config."""
        if option.type != "call_expression":
            return True
        name = self.ctx.go.package_call(option, GRPC)
        if name == "WithDefaultServiceConfig":
            args = go.call_args(option)
            return not args or go.string_value(args[0]) is None
        return not name

    def _declaration_text(self, node, fn):
        """Text that holds everything ``node`` (an identifier) can contain: the
        whole function when it is a local variable (appends included), its
        declaration when it is a package-level var or const of this file;
        None when it comes from elsewhere."""
        if node.type != "identifier":
            return None
        name = self.text(node)
        if fn is not None:
            if self._is_parameter(fn, name):
                return None
            for n in go.walk(fn):
                if n.type in ("short_var_declaration", "var_spec", "const_spec"):
                    left = n.child_by_field_name("left")
                    names = left.named_children if left is not None else n.children_by_field_name("name")
                    if any(self.text(x) == name for x in names):
                        return self.text(fn)
        for decl in self.ctx.tree.root_node.named_children:
            if decl.type in ("var_declaration", "const_declaration"):
                for spec in go.walk(decl):
                    if spec.type in ("var_spec", "const_spec") and \
                            any(self.text(x) == name for x in spec.children_by_field_name("name")):
                        return self.text(spec)
        return None

    def _is_parameter(self, fn, name: str) -> bool:
        params = fn.child_by_field_name("parameters")
        for decl in go.walk(params) if params is not None else ():
            if decl.type in ("parameter_declaration", "variadic_parameter_declaration"):
                if any(self.text(n) == name for n in decl.children_by_field_name("name")):
                    return True
        receiver = fn.child_by_field_name("receiver")
        return receiver is not None and name in self.text(receiver)
