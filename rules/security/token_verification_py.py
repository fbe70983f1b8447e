"""SEC002 for Python: PyJWT / python-jose ``decode`` with verification turned
off, ``algorithms=["none"]``, and python-jose ``jws.verify(..., verify=False)``.

Calls are recognised by qualified name. A decode is judged when its function
ends, so a later verifying decode of the same token (the "read ``iss``, then
verify" pattern) keeps it quiet.
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from cnlint import PythonRule
from cnlint.code_kinds import skips_test_code
from cnlint.python import argument, bool_value, full_name, keyword_arg, positional_args, string_value

from .token_verification import IDENTITY_NAME, REQUEST_TOKEN, UNVERIFIED_NAME, TokenVerificationDisabled

DECODES = {
    "jwt.decode": "PyJWT", "jwt.decode_complete": "PyJWT",
    "jwt.api_jwt.decode": "PyJWT", "jwt.api_jwt.decode_complete": "PyJWT",
    "jwt.PyJWT.decode": "PyJWT", "jwt.api_jwt.PyJWT.decode": "PyJWT",
    "jose.jwt.decode": "python-jose",
}
JWS_VERIFY = {"jose.jws.verify"}
SIGNATURE, UNVERIFIED, CLAIMS = "signature", "unverified", "claims"
#: a token assigned from one of these calls was minted by the function itself
MINTING = re.compile(r"^(sign|create|issue|mint|generate|encode|new)", re.IGNORECASE)
REQUEST_PARAMS = {"request", "req", "http_request", "event"}


class TokenVerificationDisabledPython(TokenVerificationDisabled, PythonRule):
    requires = ("jwt", "jose")

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._skip = skips_test_code(self)
        self._functions: list[cst.FunctionDef] = []
        # per function (None: module level): decodes seen, as (call, token code, finding or None)
        self._decodes: dict[Optional[int], list[tuple]] = {}
        self._dicts: dict[str, cst.Dict] = {}  # names bound to a dict literal
        self._minted: set[tuple[Optional[int], str]] = set()  # (function, name) assigned from jwt.encode, sign...

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._flush(id(original_node))
        self._functions.pop()

    def leave_Module(self, original_node: cst.Module) -> None:
        self._flush(None)

    def visit_Assign(self, node: cst.Assign) -> None:
        minted = isinstance(node.value, cst.Call) and bool(MINTING.match(
            (full_name(node.value.func) or "").rsplit(".", 1)[-1]))
        key = id(self._functions[-1]) if self._functions else None
        for t in node.targets:
            name = full_name(t.target)
            if name is None:
                continue
            if minted:
                self._minted.add((key, name))
            else:
                self._minted.discard((key, name))
            if isinstance(node.value, cst.Dict):
                self._dicts[name] = node.value
            else:
                self._dicts.pop(name, None)

    # ---- calls ----
    def visit_Call(self, node: cst.Call) -> None:
        if self._skip:
            return
        names = self.qualified_names(node.func)
        lib = next((DECODES[n] for n in sorted(names) if n in DECODES), None)
        if lib is not None:
            self._decode(node, lib)
        elif names & JWS_VERIFY:
            arg = argument(node, "verify", 3)
            if arg is not None and bool_value(arg.value, numbers=True) is False and not self._named_unverified():
                self.report(arg, "`verify=False` makes python-jose's `jws.verify` return the payload without "
                                 "checking the signature, so anyone can forge it; remove it and pass the key "
                                 "and the expected `algorithms`")

    def _decode(self, call: cst.Call, lib: str) -> None:
        args = positional_args(call)
        token = args[0].value if args else getattr(keyword_arg(call, "jwt") or keyword_arg(call, "token"),
                                                   "value", None)
        token_code = self._module.code_for_node(token) if token is not None else None
        finding = self._finding(call, lib)
        # a script or client reading a token it holds is not an identity decision
        key = id(self._functions[-1]) if self._functions else None
        quiet = finding is not None and finding[2] == UNVERIFIED and (
            not self._serves_request(token_code) or (key, token_code) in self._minted)
        self._decodes.setdefault(key, []).append((call, token_code, finding, quiet))

    def _serves_request(self, token_code: Optional[str]) -> bool:
        """The unverified claims feed an identity decision: the token comes from an
        incoming request (a ``request`` parameter, headers, cookies), or the
        function's name says it derives the caller's identity."""
        if any(IDENTITY_NAME.search(f.name.value) for f in self._functions):
            return True
        if token_code is not None and REQUEST_TOKEN.search(token_code):
            return True
        for f in self._functions:
            for param in (*f.params.params, *f.params.kwonly_params, *f.params.posonly_params):
                annotation = self._module.code_for_node(param.annotation.annotation) \
                    if param.annotation is not None else ""
                if param.name.value in REQUEST_PARAMS or "Request" in annotation:
                    return True
        return False

    def _finding(self, call: cst.Call, lib: str):
        """(node, message, kind) for a decode that skips a check, else None."""
        what = f"`{self._callee(call)}`"
        verify = keyword_arg(call, "verify")
        if verify is not None and bool_value(verify.value, numbers=True) is False:
            return (verify, f"`verify=False` makes {what} return the claims without checking the signature (the "
                            "PyJWT 1.x API; PyJWT 2 ignores it), so anyone can forge a token with any claims; "
                            "remove it and pass the key and `algorithms=[...]`", UNVERIFIED)
        algorithms = keyword_arg(call, "algorithms")
        if algorithms is not None and isinstance(algorithms.value, (cst.List, cst.Tuple, cst.Set)):
            for el in algorithms.value.elements:
                if (string_value(el.value) or "").lower() == "none":
                    return (el, f"`algorithms` of {what} accepts `\"none\"`, so an unsigned token with any "
                                "claims is accepted; list only the algorithms your issuer signs with "
                                "(e.g. `[\"RS256\"]`)", SIGNATURE)
        options_arg = keyword_arg(call, "options")
        options = self._options_dict(call)
        if options is None:
            return None
        # a dict defined elsewhere: report the call's `options=` so the finding is at the call
        at = (lambda el: el) if isinstance(options_arg.value, cst.Dict) else (lambda el: options_arg)
        off: dict[str, cst.DictElement] = {}
        for el in options.elements:
            if isinstance(el, cst.DictElement) and bool_value(el.value, numbers=True) is False:
                key = string_value(el.key)
                if key in ("verify_signature", "verify_exp", "verify_aud"):
                    off.setdefault(key, el)
        if "verify_signature" in off:
            return (at(off["verify_signature"]), f"`\"verify_signature\": False` makes {what} ({lib}) return the "
                                             "claims without checking the signature — or `exp`, `aud` and the "
                                             "other claims — so anyone can forge a token with any claims; remove "
                                             "it and pass the issuer's key and `algorithms=[...]`", UNVERIFIED)
        if off:
            first = min(off.values(), key=lambda el: self.byte_range(el)[0])
            parts = []
            if "verify_exp" in off:
                parts.append("`\"verify_exp\": False` accepts expired tokens, so a leaked token works forever")
            if "verify_aud" in off:
                parts.append("`\"verify_aud\": False` accepts tokens issued for other services (token "
                             "substitution)")
            return (at(first), f"{'; '.join(parts)} ({what}, {lib}; the signature is still checked); remove "
                           f"{'them' if len(off) > 1 else 'it'} — use `leeway=` for clock skew and "
                           "`audience=` for the expected audience", CLAIMS)
        return None

    def _options_dict(self, call: cst.Call) -> Optional[cst.Dict]:
        arg = keyword_arg(call, "options")
        if arg is None:
            return None
        if isinstance(arg.value, cst.Dict):
            return arg.value
        name = full_name(arg.value)
        return self._dicts.get(name) if name else None

    def _callee(self, call: cst.Call) -> str:
        return self._module.code_for_node(call.func)

    def _named_unverified(self) -> bool:
        return any(UNVERIFIED_NAME.search(f.name.value) for f in self._functions)

    # ---- judging a function's decodes ----
    def _flush(self, key: Optional[int]) -> None:
        decodes = self._decodes.pop(key, [])
        if not decodes or (key is not None and self._named_unverified()):
            return
        verified = {code for _, code, finding, _ in decodes if code is not None and
                    (finding is None or finding[2] == CLAIMS)}
        for call, code, finding, quiet in decodes:
            if finding is None or quiet:
                continue
            node, message, kind = finding
            if kind == UNVERIFIED and code is not None and code in verified:
                continue  # the same token is verified in this function: reading iss/kid first
            self.report(node, message)
