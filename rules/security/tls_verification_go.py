"""SEC001 for Go: ``InsecureSkipVerify: true`` and client-go's ``Insecure: true``.

One query finds keyed elements and assignments of the three field names with a
literal ``true``; small predicates then type the struct from the file's imports
(composite literals, including elided element types) or the receiver's local
declaration (assignments).
"""

from __future__ import annotations

from typing import Optional

from cnlint import TreeSitterRule
from cnlint.code_kinds import skips_test_code
from cnlint.golang import FUNCS, enclosing, keyed_elements, strip_pointer, unwrap, walk

from .tls_guards import under_users_setting
from .tls_verification import TlsVerificationDisabled

TLS = "crypto/tls"
REST = "k8s.io/client-go/rest"
CLIENTCMD = "k8s.io/client-go/tools/clientcmd"
CLIENTCMD_API = "k8s.io/client-go/tools/clientcmd/api"
CLIENTCMD_API_V1 = "k8s.io/client-go/tools/clientcmd/api/v1"
CTRL = "sigs.k8s.io/controller-runtime"
CTRL_CONFIG = "sigs.k8s.io/controller-runtime/pkg/client/config"

#: A type is (import path, type name); a type declared in the file is ("", name).
GoType = tuple[str, str]
TLS_CONFIG: GoType = (TLS, "Config")
REST_CONFIG: GoType = (REST, "Config")
REST_TLS: GoType = (REST, "TLSClientConfig")
KUBECONFIG_CLUSTERS = {(CLIENTCMD_API, "Cluster"), (CLIENTCMD_API_V1, "Cluster")}

#: field -> the struct types on which ``field: true`` disables verification
FIELD_TYPES: dict[str, set[GoType]] = {
    "InsecureSkipVerify": {TLS_CONFIG},
    "Insecure": {REST_TLS, REST_CONFIG},  # rest.Config embeds TLSClientConfig
    "InsecureSkipTLSVerify": set(KUBECONFIG_CLUSTERS),
}

_KNOWN_TYPES = {t for ts in FIELD_TYPES.values() for t in ts}

#: functions whose first result is a *rest.Config
REST_CONFIG_FUNCS = {
    (REST, "InClusterConfig"), (REST, "CopyConfig"), (REST, "AnonymousClientConfig"),
    (CLIENTCMD, "BuildConfigFromFlags"), (CLIENTCMD, "RESTConfigFromKubeConfig"),
    (CLIENTCMD, "BuildConfigFromKubeconfigGetter"),
    (CTRL, "GetConfigOrDie"), (CTRL, "GetConfig"),
    (CTRL_CONFIG, "GetConfigOrDie"), (CTRL_CONFIG, "GetConfig"),
}

#: Setting one of these next to InsecureSkipVerify is custom verification
#: (pinning, SPIFFE): the combination the crypto/tls docs allow outside tests.
CUSTOM_VERIFY = ("VerifyPeerCertificate", "VerifyConnection")

#: crypto/tls functions that open a connection with a Config
CERT_DIALS = ("Dial", "DialWithDialer", "Client")
#: methods that send or fetch application data over a connection
SENDS = ("Write", "Do", "Get", "Post", "RoundTrip")

_MAX_DEPTH = 4


class TlsVerificationDisabledGo(TlsVerificationDisabled, TreeSitterRule):
    languages = ("go",)
    requires = ("InsecureSkipVerify", "Insecure")
    # tree-sitter-go >= 0.21 wraps a key in `literal_element (identifier)`;
    # older grammars used a bare `field_identifier`: accept both shapes.
    query = """
    (keyed_element
      .
      [(literal_element [(identifier) (field_identifier)] @sec001.key)
       (field_identifier) @sec001.key]
      .
      [(literal_element (true)) (true)]
      (#any-of? @sec001.key "InsecureSkipVerify" "Insecure" "InsecureSkipTLSVerify")) @sec001.elem

    (assignment_statement
      left: (expression_list
        (selector_expression field: (field_identifier) @sec001.field) @sec001.target)
      right: (expression_list (true))
      (#any-of? @sec001.field "InsecureSkipVerify" "Insecure" "InsecureSkipTLSVerify")) @sec001.assign
    """

    def imports(self) -> dict[str, str]:
        """Package name used in this file -> import path."""
        return self.ctx.go.imports.names

    # ---- matches ----
    def on_match(self, captures):
        if skips_test_code(self):
            return
        if "sec001.elem" in captures:
            self._keyed(captures["sec001.elem"][0], self.text(captures["sec001.key"][0]))
        elif "sec001.assign" in captures:
            self._assignment(captures["sec001.assign"][0], captures["sec001.target"][0],
                             self.text(captures["sec001.field"][0]))

    def _keyed(self, elem, field: str) -> None:
        body = elem.parent  # literal_value
        if body is None or body.type != "literal_value":
            return
        typ = self.literal_type(body)
        if typ is None or typ not in FIELD_TYPES[field]:
            return
        if field == "InsecureSkipVerify" and self._has_custom_verify_key(body):
            return
        struct = self._type_label(typ)
        self._flag(elem, self._message(f"`{field}: true` in {struct}", field))

    def _assignment(self, stmt, target, field: str) -> None:
        op = stmt.child_by_field_name("operator")
        if op is not None and op.type != "=":
            return
        left = stmt.child_by_field_name("left")
        right = stmt.child_by_field_name("right")
        if left is None or right is None:
            return
        lefts, rights = left.named_children, right.named_children
        idx = next((i for i, n in enumerate(lefts) if n.id == target.id), None)
        if idx is None or len(rights) != len(lefts) or rights[idx].type != "true":
            return
        receiver = target.child_by_field_name("operand")
        if not self._receiver_matches(receiver, field, stmt):
            return
        if field == "InsecureSkipVerify" and self._custom_verify_assigned(receiver, stmt):
            return
        what = f"`{self.text(receiver)}.{field} = true`"
        self._flag(stmt if len(lefts) == 1 else target, self._message(what, field))

    def _flag(self, node, message: str) -> None:
        """Report unless the user asked for it (a guarding flag) or the connection only reads
        the peer's certificate."""
        if under_users_setting(node, FUNCS) or self._inspects_peer_certificate(node):
            return
        self.report(node, message)

    def _inspects_peer_certificate(self, node) -> bool:
        """A function that dials TLS to read the server's certificate (``PeerCertificates``)
        and sends nothing: it trusts no data from the peer, so there is nothing to verify."""
        scope = enclosing(node, FUNCS)
        if scope is None:
            return False
        dials = reads_certs = False
        for n in walk(scope):
            if n.type == "selector_expression":
                field = self.text(n.child_by_field_name("field"))
                operand = n.child_by_field_name("operand")
                if field in CERT_DIALS and operand is not None and \
                        self.imports().get(self.text(operand)) == TLS:
                    dials = True
                elif field == "PeerCertificates":
                    reads_certs = True
                elif field in SENDS:
                    return False
        return dials and reads_certs

    # ---- messages ----
    def _type_label(self, typ: GoType) -> str:
        names = {TLS_CONFIG: "a crypto/tls `Config`", REST_TLS: "a client-go `rest.TLSClientConfig`",
                 REST_CONFIG: "a client-go `rest.Config`"}
        return names.get(typ, "a kubeconfig `Cluster`")

    @staticmethod
    def _message(what: str, field: str) -> str:
        if field == "InsecureSkipVerify":
            return (f"{what} disables TLS certificate and host name verification, so any server "
                    "certificate is accepted (machine-in-the-middle); remove it and trust the "
                    "server's CA through `RootCAs` (an `x509.CertPool`) instead")
        if field == "Insecure":
            return (f"{what} makes the Kubernetes client skip verification of the API server "
                    "certificate; remove it and set `CAFile` or `CAData` in `TLSClientConfig` "
                    "to the cluster CA instead (`rest.InClusterConfig()` does this in a pod)")
        return (f"{what} makes the Kubernetes client skip verification of the API server "
                "certificate; remove it and set `CertificateAuthority` or "
                "`CertificateAuthorityData` to the cluster CA instead")

    # ---- typing composite literals ----
    def literal_type(self, body) -> Optional[GoType]:
        """The struct type of a ``literal_value``, following elided element types."""
        return self.resolve_type(self._container_type(body))

    def _container_type(self, body):
        """The type node (pointer stripped) of the literal that ``body`` is the value of:
        its composite literal's type, or the element/key/value type of the enclosing
        slice, array or map literal when the type is elided (``[]*tls.Config{{...}}``)."""
        parent = body.parent
        if parent is not None and parent.type == "composite_literal":
            return strip_pointer(parent.child_by_field_name("type"))
        if parent is None or parent.type != "literal_element":
            return None
        outer = parent.parent
        in_key = False
        if outer is not None and outer.type == "keyed_element":
            in_key = outer.named_children[0].id == parent.id
            outer = outer.parent
        if outer is None or outer.type != "literal_value":
            return None
        container = self._container_type(outer)
        if container is None:
            return None
        if container.type == "map_type":
            return strip_pointer(container.child_by_field_name("key" if in_key else "value"))
        if container.type in ("slice_type", "array_type", "implicit_length_array_type"):
            return strip_pointer(container.child_by_field_name("element"))
        return None

    def resolve_type(self, node) -> Optional[GoType]:
        node = strip_pointer(node)
        if node is None:
            return None
        if node.type == "qualified_type":
            pkg = self.text(node.child_by_field_name("package"))
            name = self.text(node.child_by_field_name("name"))
            return (self.imports().get(pkg, "?" + pkg), name)
        if node.type == "type_identifier":
            name = self.text(node)
            for path in self.ctx.go.imports.dot_imports:  # import . "crypto/tls"
                if (path, name) in _KNOWN_TYPES and not self._declares_type(name):
                    return (path, name)
            return ("", name)
        if node.type == "generic_type":
            return self.resolve_type(node.child_by_field_name("type"))
        return ("", node.type)  # struct{...}, interface, func...: some other type

    def _declares_type(self, name: str) -> bool:
        for decl in self.ctx.tree.root_node.named_children:
            if decl.type == "type_declaration":
                for spec in decl.named_children:
                    if self.text(spec.child_by_field_name("name")) == name:
                        return True
        return False

    def _has_custom_verify_key(self, body) -> bool:
        return any(key in CUSTOM_VERIFY and value.type != "nil"
                   for key, (_, value) in keyed_elements(body).items())

    # ---- typing assignment receivers ----
    def _receiver_matches(self, receiver, field: str, at) -> bool:
        receiver = unwrap(receiver)
        if receiver is None:
            return False
        wanted = FIELD_TYPES[field]
        if field == "Insecure":
            # Insecure is a common field name: report only a receiver known to be a rest config.
            if receiver.type == "selector_expression" and \
                    self.text(receiver.child_by_field_name("field")) == "TLSClientConfig":
                inner = self.expr_type(receiver.child_by_field_name("operand"), at)
                if inner is not None:
                    return inner == REST_CONFIG
                return self.ctx.go.imports.imports_prefix("k8s.io/client-go", "sigs.k8s.io/controller-runtime")
            return self.expr_type(receiver, at) in wanted
        # InsecureSkipVerify / InsecureSkipTLSVerify name verification outright:
        # report unless the receiver is known to be of another type.
        if receiver.type == "selector_expression":
            last = self.text(receiver.child_by_field_name("field"))
            if field == "InsecureSkipVerify" and last == "TLSClientConfig":
                return True  # http.Transport.TLSClientConfig is a *tls.Config
            if field == "InsecureSkipTLSVerify" and last == "ClusterInfo":
                return True  # clientcmd.ConfigOverrides.ClusterInfo is a Cluster
        typ = self.expr_type(receiver, at)
        return typ is None or typ in wanted

    def expr_type(self, expr, at, depth: int = 0) -> Optional[GoType]:
        """The type of a Go expression, from literals and local declarations (None: unknown)."""
        expr = unwrap(expr)
        if expr is None or depth > _MAX_DEPTH:
            return None
        if expr.type == "composite_literal":
            return self.resolve_type(expr.child_by_field_name("type"))
        if expr.type == "identifier":
            decl = self.ctx.go.resolve(expr)
            if decl is None:
                return None
            if decl.type is not None:
                return self.resolve_type(decl.type)
            if decl.kind == "value" or (decl.kind == "multi" and decl.index == 0):
                return self.expr_type(decl.node, at, depth + 1)
            return None
        if expr.type == "call_expression":
            fn = expr.child_by_field_name("function")
            args = expr.child_by_field_name("arguments")
            if fn is not None and fn.type == "identifier" and self.text(fn) == "new" \
                    and args is not None and args.named_child_count == 1:
                return self.resolve_type(args.named_children[0])
            if fn is not None and fn.type == "selector_expression":
                operand = fn.child_by_field_name("operand")
                name = self.text(fn.child_by_field_name("field"))
                if operand is not None and operand.type == "identifier":
                    path = self.imports().get(self.text(operand))
                    if path is not None and (path, name) in REST_CONFIG_FUNCS:
                        return REST_CONFIG
                if name == "Clone":
                    inner = self.expr_type(operand, at, depth + 1)
                    return inner if inner in (TLS_CONFIG,) else None
        return None

    def _custom_verify_assigned(self, receiver, at) -> bool:
        """``x.VerifyPeerCertificate = ...`` / ``x.VerifyConnection = ...`` in the same function."""
        scope = enclosing(at, FUNCS)
        if scope is None:
            return False
        recv = self.text(receiver)
        for node in walk(scope):
            if node.type == "selector_expression" and \
                    self.text(node.child_by_field_name("field")) in CUSTOM_VERIFY and \
                    self.text(node.child_by_field_name("operand")) == recv:
                parent = node.parent
                if parent is not None and parent.type == "expression_list" and \
                        parent.parent is not None and parent.parent.type == "assignment_statement":
                    return True
        return False

