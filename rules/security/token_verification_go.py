"""SEC002 for Go: go-oidc ``Skip*Check``/``InsecureSkipSignatureCheck``,
golang-jwt ``ParseUnverified``/``WithoutClaimsValidation``/``SkipClaimsValidation``,
jwx ``ParseInsecure``/``WithVerify(false)``/``WithValidate(false)`` and go-jose
``UnsafeClaimsWithoutVerification``.

Composite literals are typed from the file's imports; method calls such as
``ParseUnverified`` are reported in files that import one of the JWT libraries.
"""

from __future__ import annotations

import re

from cnlint import TreeSitterRule, golang as go
from cnlint.code_kinds import skips_test_code

from .token_verification import IDENTITY_NAME, REQUEST_TOKEN, UNVERIFIED_NAME, TokenVerificationDisabled

OIDC_FIELDS = ("InsecureSkipSignatureCheck", "SkipExpiryCheck", "SkipIssuerCheck", "SkipClientIDCheck")
UNVERIFIED_CALLS = ("ParseUnverified", "UnsafeClaimsWithoutVerification", "ParseInsecure")
#: calls that verify a token given as their argument (golang-jwt, go-oidc, jwx, your own wrappers)
VERIFYING = re.compile(r"^(Parse|ParseWithClaims|ParseString|ParseSigned|Verify\w*|\w*Verify\w*|Validate\w*)$")
#: a token minted by the function itself
MINTING = re.compile(r"^(sign|create|issue|mint|generate|new)", re.IGNORECASE)
#: parameter types of functions that serve a request
REQUEST_TYPES = re.compile(r"\*http\.Request|http\.ResponseWriter|\*gin\.Context|echo\.Context|\*fiber\.Ctx|"
                           r"fasthttp\.RequestCtx|\*restful\.Request|\*http2\.Request")
#: functions in which an expired ID token is expected (OIDC id_token_hint, logout tokens)
EXPIRY_EXPECTED = re.compile(r"hint|logout", re.IGNORECASE)


def option_owner(option_call):
    """The call an option call is an argument of."""
    args = option_call.parent
    owner = args.parent if args is not None and args.type == "argument_list" else None
    return owner if owner is not None and owner.type == "call_expression" else None


def _is_oidc(path: str) -> bool:
    return path.startswith("github.com/coreos/go-oidc")


def _is_golang_jwt(path: str) -> bool:
    return path.startswith(("github.com/golang-jwt/jwt", "github.com/dgrijalva/jwt-go",
                            "github.com/form3tech-oss/jwt-go"))


def _is_jwx(path: str) -> bool:
    return path.startswith("github.com/lestrrat-go/jwx") and path.endswith("/jwt")


def _is_jose(path: str) -> bool:
    return ("go-jose" in path or "square/go-jose" in path) and path.endswith("/jwt")


class TokenVerificationDisabledGo(TokenVerificationDisabled, TreeSitterRule):
    languages = ("go",)
    requires = ("go-oidc", "jwt")
    query = """
    (keyed_element
      .
      [(literal_element [(identifier) (field_identifier)] @sec002.key)
       (field_identifier) @sec002.key]
      .
      [(literal_element (true)) (true)]
      (#any-of? @sec002.key "InsecureSkipSignatureCheck" "SkipExpiryCheck" "SkipIssuerCheck"
                            "SkipClientIDCheck" "SkipClaimsValidation")) @sec002.elem

    (assignment_statement
      left: (expression_list (selector_expression field: (field_identifier) @sec002.field) @sec002.target)
      right: (expression_list (true))
      (#any-of? @sec002.field "InsecureSkipSignatureCheck" "SkipExpiryCheck" "SkipIssuerCheck"
                              "SkipClientIDCheck" "SkipClaimsValidation")) @sec002.assign

    (call_expression
      function: (selector_expression field: (field_identifier) @sec002.method)
      (#any-of? @sec002.method "ParseUnverified" "UnsafeClaimsWithoutVerification" "ParseInsecure"
                               "WithoutClaimsValidation" "WithVerify" "WithValidate")) @sec002.call
    """

    def on_match(self, captures):
        if skips_test_code(self):
            return
        if "sec002.elem" in captures:
            self._keyed(captures["sec002.elem"][0], self.text(captures["sec002.key"][0]))
        elif "sec002.assign" in captures:
            self._assigned(captures["sec002.assign"][0], self.text(captures["sec002.field"][0]))
        elif "sec002.call" in captures:
            self._call(captures["sec002.call"][0], self.text(captures["sec002.method"][0]))

    def _paths(self) -> set[str]:
        return set(self.ctx.go.imports.names.values())

    # ---- flags ----
    def _keyed(self, elem, field: str) -> None:
        body = elem.parent
        lit = body.parent if body is not None else None
        if lit is None or lit.type != "composite_literal":
            return
        path, name = self.ctx.go.literal_type(lit)
        if field in OIDC_FIELDS and _is_oidc(path) and name == "Config":
            if self._flag_expected(elem, field, lit):
                return
            self.report(elem, self._flag_message(f"`{field}: true`", field))
        elif field == "SkipClaimsValidation" and _is_golang_jwt(path) and name == "Parser":
            if not self._named_unverified(elem):
                self.report(elem, self._flag_message(f"`{field}: true`", field))

    def _assigned(self, stmt, field: str) -> None:
        paths = self._paths()
        if field in OIDC_FIELDS and not any(_is_oidc(p) for p in paths):
            return
        if field == "SkipClaimsValidation" and not any(_is_golang_jwt(p) for p in paths):
            return
        if self._flag_expected(stmt, field, None):
            return
        left = stmt.child_by_field_name("left")
        if left is None or left.named_child_count != 1:
            return
        self.report(stmt, self._flag_message(f"`{self.text(stmt)}`", field))

    def _flag_expected(self, node, field: str, lit) -> bool:
        """Uses of a go-oidc flag that its documentation or the OIDC specs expect."""
        if self._named_unverified(node):
            return True  # guessTokenType, insecureVerifier, WithSkipExpiryCheck...
        if field == "SkipExpiryCheck":
            # id_token_hint and logout tokens may be expired (OIDC RP-Initiated
            # Logout, Back-Channel Logout); or the code checks IDToken.Expiry itself
            names = [go.function_name(f) for f in go.enclosing_functions(node)]
            return any(EXPIRY_EXPECTED.search(n) for n in names) or self._reads_field("Expiry")
        if field == "SkipClientIDCheck":
            return self._checks_audience() or (lit is not None and self._own_key_set(lit))
        return False

    def _named_unverified(self, node) -> bool:
        return any(UNVERIFIED_NAME.search(go.function_name(f)) for f in go.enclosing_functions(node))

    def _reads_field(self, field: str) -> bool:
        for node in go.walk(self.ctx.tree.root_node):
            if node.type == "selector_expression" and self.text(node.child_by_field_name("field")) == field:
                return True
        return False

    def _own_key_set(self, lit) -> bool:
        """``oidc.NewVerifier(issuer, keySet, &oidc.Config{...})`` with a key set that
        is not fetched from a provider: the code verifies tokens it issued itself
        (an identity provider), for every one of its clients."""
        node = lit.parent
        while node is not None and node.type in ("unary_expression", "parenthesized_expression"):
            node = node.parent
        if node is None or node.type != "argument_list" or node.parent is None:
            return False
        call = node.parent
        if go.selector_parts(call)[1] != "NewVerifier":
            return False
        args = go.call_args(call)
        if len(args) < 2:
            return False
        keys = go.unwrap(args[1])
        if keys is not None and keys.type == "identifier":
            # keySet := oidc.NewRemoteKeySet(...) earlier in the function
            name = self.text(keys)
            fn = go.outermost_function(call)
            for node in go.walk(fn) if fn is not None else ():
                if node.type in ("short_var_declaration", "assignment_statement", "var_spec"):
                    left = node.child_by_field_name("left")
                    names = left.named_children if left is not None else node.children_by_field_name("name")
                    if any(self.text(n) == name for n in names) and "NewRemoteKeySet" in self.text(node):
                        return False
        return not (keys is not None and keys.type == "call_expression"
                    and go.selector_parts(keys)[1] == "NewRemoteKeySet")

    def _checks_audience(self) -> bool:
        """The file's code deals with the audience: an ``Audience`` field or
        variable, or an ``"aud"`` claim name (comments do not count)."""
        cached = getattr(self, "_audience", None)
        if cached is not None and cached[0] is self.ctx.tree:
            return cached[1]
        found = False
        for node in go.walk(self.ctx.tree.root_node):
            if node.type in ("field_identifier", "identifier", "type_identifier") and \
                    "audience" in self.text(node).lower():
                found = True
            elif node.type in ("interpreted_string_literal", "raw_string_literal") and \
                    go.string_value(node) in ("aud", "audience"):
                found = True
            if found:
                break
        self._audience = (self.ctx.tree, found)
        return found

    @staticmethod
    def _flag_message(what: str, field: str) -> str:
        if field == "InsecureSkipSignatureCheck":
            return (f"{what} makes the go-oidc verifier accept ID tokens without checking their signature, so "
                    "anyone can forge a token with any `sub`, `email` or groups; remove it and let the verifier "
                    "check the signature with the provider's keys")
        if field == "SkipExpiryCheck":
            return (f"{what} makes the go-oidc verifier accept expired ID tokens, so a token that leaked once "
                    "works forever; remove it (go-oidc already allows for small clock skew)")
        if field == "SkipIssuerCheck":
            return (f"{what} makes the go-oidc verifier accept ID tokens from any issuer (`iss`) that shares the "
                    "keys; remove it, or for a multi-tenant provider check `idToken.Issuer` against the tenants "
                    "you trust")
        if field == "SkipClientIDCheck":
            return (f"{what} makes the go-oidc verifier skip the audience (`aud`) check, so an ID token the same "
                    "provider issued to any other application is accepted here (token substitution); set "
                    "`ClientID` and remove it, or check `idToken.Audience` against your client IDs yourself")
        return (f"{what} makes the golang-jwt parser skip `exp`, `nbf` and `iat` validation, so expired tokens "
                "are accepted; remove it (use `jwt.WithLeeway` for clock skew)")

    # ---- calls ----
    def _call(self, call, method: str) -> None:
        operand, _ = go.selector_parts(call)
        paths = self._paths()
        pkg_path = self.ctx.go.imports.names.get(self.text(operand)) if operand is not None and \
            operand.type == "identifier" else None
        if method == "ParseUnverified":
            if any(_is_golang_jwt(p) for p in paths):
                self._unverified(call, method, "golang-jwt")
        elif method == "UnsafeClaimsWithoutVerification":
            if any(_is_jose(p) for p in paths):
                self._unverified(call, method, "go-jose")
        elif method == "ParseInsecure":
            if pkg_path is not None and _is_jwx(pkg_path):
                self._unverified(call, method, "jwx")
        elif method == "WithoutClaimsValidation":
            if pkg_path is not None and _is_golang_jwt(pkg_path) and self._parser_parses(call):
                self.report(call, f"`{self.text(call)}` turns off validation of `exp`, `nbf` and `iat`, so expired "
                                  "or not-yet-valid tokens are accepted (a leaked token works forever); remove it, "
                                  "and use `jwt.WithLeeway(...)` if clocks drift")
        elif method in ("WithVerify", "WithValidate"):
            args = go.call_args(call)
            if pkg_path is not None and _is_jwx(pkg_path) and len(args) == 1 and args[0].type == "false":
                if method == "WithVerify":
                    owner = option_owner(call)
                    owner_args = go.call_args(owner) if owner is not None else []
                    if self._named_unverified(call) or not self._serves_request(
                            call, owner_args[0] if owner_args else None):
                        return
                    msg = ("turns off the signature check, so anyone can forge a token with any claims; remove it "
                           "and pass the key set with `jwt.WithKeySet(...)` or `jwt.WithKey(...)`")
                else:
                    msg = ("turns off validation of `exp`, `nbf` and `iat`, so expired tokens are accepted; remove "
                           "it (use `jwt.WithAcceptableSkew` for clock skew)")
                self.report(call, f"`{self.text(call)}` {msg}")

    def _unverified(self, call, method: str, lib: str, token=None) -> None:
        fn = go.outermost_function(call)
        if self._named_unverified(call):
            return
        args = go.call_args(call)
        if token is None:
            token = args[0] if args and method != "UnsafeClaimsWithoutVerification" else None
        if method == "UnsafeClaimsWithoutVerification":
            operand = go.selector_parts(call)[0]
            if fn is not None and self._jose_verified(fn, operand):
                return
        elif token is not None and fn is not None and (self._verified_elsewhere(fn, call, token)
                                                       or self._minted(fn, call, token)):
            return
        if not self._serves_request(call, token):
            return  # a CLI reading its stored token, a refresh helper reading exp: not an identity decision
        shown = " ".join(self.text(call).split())
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        self.report(call, f"`{shown}` decodes the JWT without checking its signature ({lib}): its claims are "
                          "whatever the sender wrote, so they must not be used for authentication or "
                          "authorisation; verify it (golang-jwt: `jwt.ParseWithClaims(token, claims, keyFunc)`), "
                          "or, if you only read `iss`/`kid` to choose the key or the expiry of a token you minted, "
                          "verify the same token in this function or move the read into a helper named "
                          "`...Unverified`")

    def _serves_request(self, call, token) -> bool:
        """The unverified claims feed an identity decision: the token comes from an
        incoming request (a request parameter, a header or cookie, gRPC incoming
        metadata), or the function's name says it derives the caller's identity."""
        functions = go.enclosing_functions(call)
        if any(IDENTITY_NAME.search(go.function_name(f)) for f in functions):
            return True
        if token is not None and REQUEST_TOKEN.search(self.text(token)):
            return True
        for f in functions:
            params = f.child_by_field_name("parameters")
            if params is not None and REQUEST_TYPES.search(self.text(params)):
                return True
        outer = functions[-1] if functions else None
        return outer is not None and "FromIncomingContext" in self.text(outer)

    def _verified_elsewhere(self, fn, call, token) -> bool:
        """Another call in the function passes the same token to a verifying function."""
        wanted = self.text(token)
        for node in go.walk(fn):
            if node.type != "call_expression" or node.id == call.id:
                continue
            fn_node = node.child_by_field_name("function")
            name = self.text(fn_node.child_by_field_name("field")) if fn_node is not None and \
                fn_node.type == "selector_expression" else self.text(fn_node)
            if VERIFYING.match(name or "") and any(self.text(a) == wanted for a in go.call_args(node)):
                return True
        return False

    def _minted(self, fn, call, token) -> bool:
        """The token is a local variable assigned from ``Sign...``/``Create...``/``Issue...`` here."""
        if token.type != "identifier":
            return False
        name = self.text(token)
        for node in go.walk(fn):
            if node.start_byte >= call.start_byte:
                break
            if node.type in ("short_var_declaration", "assignment_statement"):
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is None or right is None or not any(self.text(n) == name for n in left.named_children):
                    continue
                value = right.named_children[0] if right.named_child_count else None
                if value is not None and value.type == "call_expression":
                    fn_node = value.child_by_field_name("function")
                    callee = self.text(fn_node.child_by_field_name("field")) if fn_node.type == "selector_expression" \
                        else self.text(fn_node)
                    if MINTING.match(callee):
                        return True
        return False

    def _jose_verified(self, fn, operand) -> bool:
        """go-jose: ``tok.Claims(key, ...)`` on the same token in the function."""
        if operand is None:
            return False
        wanted = self.text(operand)
        for node in go.walk(fn):
            if node.type == "call_expression":
                op, method = go.selector_parts(node)
                if method == "Claims" and op is not None and self.text(op) == wanted and go.call_args(node):
                    return True
        return False

    def _parser_parses(self, option_call) -> bool:
        """Whether the parser configured with this option verifies tokens with it
        (``Parse``/``ParseWithClaims``), rather than only ``ParseUnverified``."""
        args = option_call.parent
        owner = args.parent if args is not None and args.type == "argument_list" else None
        if owner is None or owner.type != "call_expression":
            return False
        _, name = go.selector_parts(owner)
        if name in ("Parse", "ParseWithClaims"):
            return True  # jwt.Parse(raw, keyFunc, jwt.WithoutClaimsValidation())
        if name != "NewParser":
            return False
        sel = owner.parent
        if sel is not None and sel.type == "selector_expression":
            return self.text(sel.child_by_field_name("field")) in ("Parse", "ParseWithClaims")
        target = go.bound_name(owner)
        fn = go.outermost_function(owner)
        if target is None or fn is None:
            return False
        for node in go.walk(fn):
            if node.type == "call_expression":
                op, method = go.selector_parts(node)
                if method in ("Parse", "ParseWithClaims") and op is not None and self.text(op) == self.text(target):
                    return True
        return False
