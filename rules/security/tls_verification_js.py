"""SEC001 for JavaScript, TypeScript and TSX: ``rejectUnauthorized: false``
and ``NODE_TLS_REJECT_UNAUTHORIZED = '0'``.

Both names exist only to configure TLS verification, so any object literal
property or member assignment with a disabling literal is reported, wherever
the object goes (https/tls/axios/got/undici/pg/nodemailer options...), except
server options, where ``rejectUnauthorized`` governs client certificates.
"""

from __future__ import annotations

from cnlint import TreeSitterRule, languages
from cnlint.code_kinds import skips_test_code

from .tls_guards import under_users_setting
from .tls_verification import TlsVerificationDisabled

REJECT = "rejectUnauthorized"
ENV = "NODE_TLS_REJECT_UNAUTHORIZED"
_NAME_RE = r"^[\"'`]?(rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED)[\"'`]?$"

#: callees whose options object configures a TLS *server*
SERVER_FACTORIES = {"createServer", "createSecureServer", "Server", "Http2SecureServer"}
#: options that only exist on server sockets
SERVER_KEYS = {"requestCert", "isServer", "SNICallback"}

#: where the search for a guarding condition ends
_FUNCTIONS = ("function_declaration", "function_expression", "arrow_function", "method_definition",
              "generator_function_declaration", "class_body", "program")

_WRAPPERS = ("parenthesized_expression", "as_expression", "satisfies_expression",
             "non_null_expression", "type_assertion")


def _unwrap(node):
    while node is not None and node.type in _WRAPPERS and node.named_child_count:
        node = node.named_children[0] if node.type != "type_assertion" else node.named_children[-1]
    return node


class TlsVerificationDisabledJs(TlsVerificationDisabled, TreeSitterRule):
    languages = languages.JS_TS
    requires = (REJECT, ENV)
    query = f"""
    (pair
      key: [(property_identifier) (string)] @sec001.key
      value: (_) @sec001.value
      (#match? @sec001.key "{_NAME_RE}")) @sec001.pair

    (assignment_expression
      left: [(member_expression property: (property_identifier) @sec001.key)
             (subscript_expression index: [(string) (template_string)] @sec001.key)] @sec001.target
      right: (_) @sec001.value
      (#match? @sec001.key "{_NAME_RE}")) @sec001.assign
    """

    def on_match(self, captures):
        if skips_test_code(self):
            return
        key = self._name(captures["sec001.key"][0])
        raw = captures["sec001.value"][0]
        value = _unwrap(raw)
        if key == REJECT and not self._falsy(value):
            return
        if key == ENV and not self._zero(value):
            return
        if under_users_setting(captures["sec001.key"][0], _FUNCTIONS):
            return  # `if (cluster.skipTLSVerify) opts.rejectUnauthorized = false`: the user's choice
        if "sec001.pair" in captures:
            pair = captures["sec001.pair"][0]
            if key == REJECT and self._server_options(pair.parent):
                return
            self.report(pair, self._pair_message(key, pair), severity=self._severity(key))
        else:
            assign = captures["sec001.assign"][0]
            what = f"`{self.text(captures['sec001.target'][0])} = {self.text(raw)}`"
            self.report(assign, self._message(key, what), severity=self._severity(key))

    @staticmethod
    def _severity(key: str) -> str:
        """NODE_TLS_REJECT_UNAUTHORIZED=0 turns verification off for every connection of the
        process, third-party ones included: a defect wherever it is."""
        return "error" if key == ENV else "warning"

    # ---- messages ----
    def _pair_message(self, key: str, pair) -> str:
        what = f"`{self.text(pair.child_by_field_name('key'))}: {self.text(pair.child_by_field_name('value'))}`"
        return self._message(key, what, in_object=True)

    @staticmethod
    def _message(key: str, what: str, in_object: bool = False) -> str:
        if key == REJECT:
            return (f"{what} turns off TLS certificate verification, so any server certificate is "
                    "accepted (machine-in-the-middle); remove it and pass the server's CA with the "
                    "`ca` option (or NODE_EXTRA_CA_CERTS) instead")
        scope = ("for every HTTPS/TLS connection of the Node.js process that gets this environment"
                 if in_object else "for every HTTPS/TLS connection in this Node.js process")
        return (f"{what} turns off TLS certificate verification {scope}; remove it and give Node "
                "the CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (or the `ca` option) instead")

    # ---- predicates ----
    def _name(self, node) -> str:
        return self.text(node).strip("\"'`")

    def _falsy(self, value) -> bool:
        """A literal that turns ``rejectUnauthorized`` off: false, 0, !1, !true."""
        if value is None:
            return False
        if value.type == "false":
            return True
        if value.type == "number":
            return _number(self.text(value)) == 0
        if value.type == "unary_expression":
            op = value.child_by_field_name("operator")
            arg = _unwrap(value.child_by_field_name("argument"))
            if op is not None and op.type == "!" and arg is not None:
                if arg.type == "true":
                    return True
                if arg.type == "number":
                    n = _number(self.text(arg))
                    return n is not None and n != 0
        return False

    def _zero(self, value) -> bool:
        """``'0'``, ``"0"``, `` `0` `` or ``0``: the only value Node reads as "off"."""
        if value is None:
            return False
        if value.type in ("string", "template_string"):
            if any(c.type == "template_substitution" for c in value.named_children):
                return False
            return self.text(value)[1:-1] == "0"
        if value.type == "number":
            return _number(self.text(value)) == 0
        return False

    def _server_options(self, obj) -> bool:
        """Whether the object literal holds TLS *server* options."""
        if obj is None or obj.type != "object":
            return False
        for pair in obj.named_children:
            if pair.type == "pair":
                key = self._name(pair.child_by_field_name("key"))
                if key in SERVER_KEYS and key != "isServer":
                    return True
                if key == "isServer" and _unwrap(pair.child_by_field_name("value")).type == "true":
                    return True
        args = obj.parent
        call = args.parent if args is not None and args.type == "arguments" else None
        if call is None or call.type not in ("call_expression", "new_expression"):
            return False
        callee = _unwrap(call.child_by_field_name("function") or call.child_by_field_name("constructor"))
        if callee is not None and callee.type == "member_expression":
            callee = callee.child_by_field_name("property")
        return callee is not None and self.text(callee) in SERVER_FACTORIES


def _number(text: str):
    try:
        t = text.replace("_", "").lower().rstrip("n")
        if t.startswith(("0x", "0o", "0b")):
            return int(t, 0)
        return float(t)
    except ValueError:
        return None
