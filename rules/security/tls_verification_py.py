"""SEC001 for Python: ``verify=False``, ``ssl._create_unverified_context``,
``CERT_NONE`` and ``verify_ssl = False``.

Calls are recognised by their qualified names (``qualified_names`` resolves ``import requests as r`` and ``from requests import get``). Session
and context objects are tracked by the dotted name they are bound to in a
function (or, for ``self.x``, in a class), so ``session.verify = False`` is
reported only for a ``requests.Session``; those checks are resolved when the
module has been visited, so the order of methods in a class does not matter.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst.helpers import get_full_name_for_node

from cnlint import PythonRule
from cnlint.code_kinds import skips_test_code
from cnlint.python import bool_value, keyword_arg, string_value

from .tls_guards import ELSE, THEN, guarded_branches
from .tls_verification import TlsVerificationDisabled

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

#: callables whose ``verify=False`` disables certificate verification -> advice
VERIFY_CALLS: dict[str, str] = {}
_CA_BUNDLE = 'pass `verify="/path/to/ca-bundle.pem"` to trust a private CA'
_SSL_CTX = "pass `verify=ssl.create_default_context(cafile=...)` to trust a private CA"
for _verb in HTTP_VERBS:
    VERIFY_CALLS[f"requests.{_verb}"] = _CA_BUNDLE
    VERIFY_CALLS[f"requests.api.{_verb}"] = _CA_BUNDLE
    VERIFY_CALLS[f"httpx.{_verb}"] = _SSL_CTX
VERIFY_CALLS.update({
    "httpx.stream": _SSL_CTX,
    "httpx.Client": _SSL_CTX,
    "httpx.AsyncClient": _SSL_CTX,
    "httpx.HTTPTransport": _SSL_CTX,
    "httpx.AsyncHTTPTransport": _SSL_CTX,
    "boto3.client": _CA_BUNDLE,
    "boto3.resource": _CA_BUNDLE,
    "hvac.Client": _CA_BUNDLE,
})

REQUESTS_SESSION = "requests.Session"
AIOHTTP_SESSION = "aiohttp.ClientSession"
BOTO3_SESSION = "boto3.Session"
SSL_CLIENT = "ssl client context"
SSL_SERVER = "ssl server context"

#: constructors whose result we track, by qualified name -> kind
TRACKED_CTORS = {
    "requests.Session": REQUESTS_SESSION,
    "requests.session": REQUESTS_SESSION,
    "requests.sessions.Session": REQUESTS_SESSION,
    "requests.sessions.session": REQUESTS_SESSION,
    "requests_cache.CachedSession": REQUESTS_SESSION,
    "aiohttp.ClientSession": AIOHTTP_SESSION,
    "boto3.Session": BOTO3_SESSION,
    "boto3.session.Session": BOTO3_SESSION,
}
#: methods of a tracked object that take the keyword -> (keyword(s), advice)
TRACKED_METHODS = {
    REQUESTS_SESSION: ({*HTTP_VERBS, "send"}, ("verify",), _CA_BUNDLE),
    AIOHTTP_SESSION: ({*HTTP_VERBS, "ws_connect"}, ("ssl", "verify_ssl"),
                      "pass `ssl=ssl.create_default_context(cafile=...)` to trust a private CA"),
    BOTO3_SESSION: ({"client", "resource"}, ("verify",), _CA_BUNDLE),
}
SSL_CONTEXT_CTORS = {"ssl.create_default_context", "ssl.SSLContext"}
SERVER_MARKERS = {"ssl.Purpose.CLIENT_AUTH", "ssl.PROTOCOL_TLS_SERVER"}
CERT_NONE = {"ssl.CERT_NONE", "ssl.VerifyMode.CERT_NONE"}
UNVERIFIED_CONTEXT = "ssl._create_unverified_context"
DEFAULT_CONTEXT = "ssl._create_default_https_context"
AIOHTTP_CONNECTOR = "aiohttp.TCPConnector"


def _exits(body: cst.BaseSuite) -> bool:
    """Whether an ``if`` body ends in ``return`` or ``raise``."""
    last = body.body[-1] if body.body else None
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else None
    return isinstance(last, (cst.Return, cst.Raise))


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


class TlsVerificationDisabledPython(TlsVerificationDisabled, PythonRule):
    # "verify" also covers verify_ssl and verify_mode
    requires = ("verify", "CERT_NONE", "cert_reqs", "_create_unverified_context", "ssl=False", "TCPConnector")

    # ---- per-module state ----
    def visit_Module(self, node: cst.Module) -> None:
        self._skip = skips_test_code(self)
        self._module = node
        self._scopes: list[cst.CSTNode] = [node]  # functions and classes, innermost last
        self._bound: dict[tuple[int, str], Optional[str]] = {}  # (scope id, dotted name) -> kind
        self._hostname_off: dict[tuple[int, str], cst.CSTNode] = {}
        self._pending: list[tuple] = []
        self._handled: set[int] = set()  # nodes already reported as part of a call
        self._factory_names: set[str] = set()  # local names of ssl._create_unverified_context
        self._branches: list[tuple[cst.BaseExpression, str]] = []  # the `if` branches we are in
        self._guarded_rest = [False]  # per block: after `if not insecure: return ...`
        self._patching_default_context = False  # in `ssl._create_default_https_context = ...`

    def leave_Module(self, original_node: cst.Module) -> None:
        # e.g. ``self.session.verify = False`` in a method above ``__init__``
        for check in self._pending:
            self._resolve(*check, final=True)
        self._pending = []

    def _resolve(self, kind: str, node, keys, data, final: bool = False) -> None:
        """Run a check that depends on what the receiver is bound to; while the
        receiver is still unknown, retry when the whole module has been seen."""
        present = next((k for k in keys if k in self._bound), None)
        bound = self._bound[present] if present is not None else None
        if present is None and not final:
            if not self._users_setting():  # (the `if` around it is known only now)
                self._pending.append((kind, node, keys, data))
        elif kind == "session-verify" and bound == REQUESTS_SESSION:
            self._emit(node, data)
        elif kind == "method-call" and bound in TRACKED_METHODS:
            self._check_tracked_call(data, bound)
        elif kind == "verify-mode" and bound != SSL_SERVER:
            related = [(self._hostname_off[k], "`check_hostname` is also turned off here")
                       for k in keys if k in self._hostname_off][:1]
            self._emit(node, data, related=related)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._scopes.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes.append(node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()

    def _keys(self, dotted: str) -> list[tuple[int, str]]:
        """Where a binding of ``dotted`` may live, innermost first: the enclosing
        class for ``self.x``/``cls.x``; else the enclosing functions (closures see
        their parents' names), then the module."""
        if dotted.split(".", 1)[0] in ("self", "cls"):
            cls = next((s for s in reversed(self._scopes) if isinstance(s, cst.ClassDef)), None)
            return [(id(cls), dotted)] if cls is not None else []
        fns = [(id(s), dotted) for s in reversed(self._scopes) if isinstance(s, (cst.FunctionDef, cst.Lambda))]
        return fns + [(id(self._module), dotted)]

    def _bind(self, target: cst.CSTNode, kind: Optional[str]) -> None:
        dotted = get_full_name_for_node(target)
        if dotted is None:
            return
        keys = self._keys(dotted)
        if isinstance(self._scopes[-1], cst.ClassDef) and isinstance(target, cst.Name):
            # a class attribute is what ``self.x`` reads in the methods
            keys = [(id(self._scopes[-1]), "self." + dotted)]
        if keys:  # None: bound to something we do not track (shadows outer bindings)
            self._bound[keys[0]] = kind

    def _emit(self, node, message: str, related=(), severity: str | None = None) -> None:
        if not self._skip and not self._users_setting():
            self.report(node, message, related=related, severity=severity)

    # ---- the user's explicit setting ----
    def visit_If_body(self, node: cst.If) -> None:
        self._branches.append((node.test, THEN))

    def leave_If_body(self, node: cst.If) -> None:
        self._branches.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        self._branches.append((node.test, ELSE))

    def leave_If_orelse(self, node: cst.If) -> None:
        self._branches.pop()

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._guarded_rest.append(False)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._guarded_rest.pop()

    def leave_If(self, original_node: cst.If) -> None:
        # `if not self.insecure: return ctx`: the rest of the block is the `else`
        if original_node.orelse is None and _exits(original_node.body) and \
                ELSE in guarded_branches(self._module.code_for_node(original_node.test)):
            self._guarded_rest[-1] = True

    def _users_setting(self) -> bool:
        """Inside an `if` that branches on the user's "do not verify" setting
        (`if self.insecure:`, `if not verify_ssl:`), or after one that returns
        otherwise: honouring the setting is no defect."""
        return any(self._guarded_rest) or any(
            branch in guarded_branches(self._module.code_for_node(test)) for test, branch in self._branches)

    # ---- what an expression is ----
    def _qnames(self, node) -> set[str]:
        return self.qualified_names(node)

    def _kind_of(self, value) -> Optional[str]:
        """The tracked kind of the object an expression creates."""
        if not isinstance(value, cst.Call):
            return None
        names = self._qnames(value.func)
        for name in names:
            if name in TRACKED_CTORS:
                return TRACKED_CTORS[name]
        if names & SSL_CONTEXT_CTORS:
            for arg in value.args:
                if self._qnames(arg.value) & SERVER_MARKERS:
                    return SSL_SERVER
            return SSL_CLIENT
        return None

    def _is_cert_none(self, node) -> bool:
        return bool(self._qnames(node) & CERT_NONE)

    # ---- bindings ----
    def visit_Assign(self, node: cst.Assign) -> None:
        self._patching_default_context = any(
            DEFAULT_CONTEXT in self._qnames(t.target) for t in node.targets)
        kind = self._kind_of(node.value)
        for t in node.targets:
            self._bind(t.target, kind)
            self._check_attribute_assignment(node, t.target, node.value)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self._patching_default_context = False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is None:
            return
        self._bind(node.target, self._kind_of(node.value) or self._annotation_kind(node.annotation))
        self._check_attribute_assignment(node, node.target, node.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, self._kind_of(node.item))

    def visit_Param(self, node: cst.Param) -> None:
        kind = self._annotation_kind(node.annotation) if node.annotation is not None else None
        self._bind(node.name, kind)

    def _annotation_kind(self, annotation: cst.Annotation) -> Optional[str]:
        ann = annotation.annotation
        if isinstance(ann, cst.Subscript):  # Optional[requests.Session]
            elems = [e.slice.value for e in ann.slice if isinstance(e.slice, cst.Index)]
            ann = elems[0] if len(elems) == 1 else ann
        if isinstance(ann, cst.BinaryOperation):  # requests.Session | None
            ann = ann.left
        for name in self._qnames(ann):
            if name in TRACKED_CTORS:
                return TRACKED_CTORS[name]
        return None

    # ---- attribute assignments ----
    def _check_attribute_assignment(self, stmt, target, value) -> None:
        if not isinstance(target, cst.Attribute):
            return
        attr = target.attr.value
        receiver = target.value
        if attr not in ("verify_ssl", "verify", "check_hostname", "verify_mode"):
            return
        dotted = get_full_name_for_node(receiver)
        code = self._module.code_for_node(stmt).strip()
        if attr == "verify_ssl" and bool_value(value) is False:
            self._emit(stmt, f"`{code}` turns off TLS certificate verification for this API client "
                             "(the kubernetes client's and OpenAPI-generated clients' `Configuration`), "
                             "so any server certificate is accepted; remove it and set `ssl_ca_cert` to "
                             "the CA file (`/var/run/secrets/kubernetes.io/serviceaccount/ca.crt` in a pod) instead")
        elif attr == "verify" and bool_value(value) is False:
            message = (f"`{code}` makes every request of this `requests.Session` skip TLS certificate "
                       "verification, so any server certificate is accepted; remove it, or set "
                       "`verify = \"/path/to/ca-bundle.pem\"` to trust a private CA")
            if self._kind_of(receiver) == REQUESTS_SESSION:
                self._emit(stmt, message)
            elif dotted is not None:
                self._resolve("session-verify", stmt, self._keys(dotted), message)
        elif attr == "check_hostname" and bool_value(value) is False and dotted is not None:
            keys = self._keys(dotted)
            if keys:
                self._hostname_off.setdefault(keys[0], stmt)
        # (``self.verify_mode = ...`` on a bare ``self`` is a context class setting its own default)
        elif attr == "verify_mode" and dotted not in ("self", "cls") and self._is_cert_none(value):
            message = (f"`{code}` turns off certificate verification for this SSL context, so any "
                       "server certificate is accepted; keep the default `ssl.CERT_REQUIRED` (and "
                       "`check_hostname = True`) and trust a private CA with "
                       "`load_verify_locations(cafile=...)` instead")
            if self._kind_of(receiver) is not None or dotted is None:
                if self._kind_of(receiver) != SSL_SERVER:
                    self._emit(stmt, message)
            else:
                self._resolve("verify-mode", stmt, self._keys(dotted), message)

    # ---- calls ----
    def visit_Call(self, node: cst.Call) -> None:
        names = self._qnames(node.func)
        if UNVERIFIED_CONTEXT in names:
            self._handled.add(id(node.func))
            self._emit(node, f"`{self._short(node)}` creates an SSL context that does not verify "
                             "certificates or host names; use `ssl.create_default_context()` "
                             "(with `cafile=...` for a private CA) instead")
            return
        for name in sorted(names):
            if name in VERIFY_CALLS:
                arg = keyword_arg(node, "verify")
                if arg is not None and bool_value(arg.value) is False:
                    self._emit(arg, self._verify_message(name, VERIFY_CALLS[name]))
                break
        if names & {AIOHTTP_CONNECTOR}:
            for kw in ("ssl", "verify_ssl"):
                arg = keyword_arg(node, kw)
                if arg is not None and bool_value(arg.value) is False:
                    self._emit(arg, f"`{kw}=False` makes `aiohttp.TCPConnector` skip TLS certificate "
                                    "verification, so any server certificate is accepted; remove it, or pass "
                                    "`ssl=ssl.create_default_context(cafile=...)` to trust a private CA")
        self._check_cert_reqs(node)
        func = node.func
        if isinstance(func, cst.Attribute):
            kind = self._kind_of(func.value)
            if kind in TRACKED_METHODS:
                self._check_tracked_call(node, kind)
            elif kind is None and self._tracked_keyword_present(node):
                dotted = get_full_name_for_node(func.value)
                if dotted is not None:
                    self._resolve("method-call", node, self._keys(dotted), node)

    def _tracked_keyword_present(self, call: cst.Call) -> bool:
        return any(arg.keyword is not None and arg.keyword.value in ("verify", "ssl", "verify_ssl")
                   and bool_value(arg.value) is False for arg in call.args)

    def _check_tracked_call(self, call: cst.Call, kind: str) -> None:
        methods, keywords, advice = TRACKED_METHODS[kind]
        func = call.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in methods:
            return
        for kw in keywords:
            arg = keyword_arg(call, kw)
            if arg is not None and bool_value(arg.value) is False:
                what = self._module.code_for_node(func)
                self._emit(arg, f"`{kw}=False` makes `{what}` ({_article(kind)} `{kind}`) skip TLS certificate "
                                f"verification, so any server certificate is accepted; remove it, or {advice}")

    def _check_cert_reqs(self, call: cst.Call) -> None:
        arg = keyword_arg(call, "cert_reqs")
        if arg is None or not self._cert_none_value(arg.value):
            return
        server = keyword_arg(call, "server_side")
        if server is not None and bool_value(server.value) is not False:
            return  # a server socket that does not ask for client certificates
        self._emit(arg, f"`{self._module.code_for_node(arg).strip()}` turns off certificate verification, "
                        "so any server certificate is accepted; use `cert_reqs=\"CERT_REQUIRED\"` (the "
                        "default) with `ca_certs=\"/path/to/ca.pem\"` to trust a private CA instead")

    def _cert_none_value(self, node) -> bool:
        return self._is_cert_none(node) or string_value(node) in ("CERT_NONE", "NONE")

    def visit_DictElement(self, node: cst.DictElement) -> None:
        # websocket-client: sslopt={"cert_reqs": ssl.CERT_NONE}
        if string_value(node.key) == "cert_reqs" and self._cert_none_value(node.value):
            self._emit(node, f"`{self._module.code_for_node(node).strip()}` turns off certificate "
                             "verification, so any server certificate is accepted; use "
                             "`ssl.CERT_REQUIRED` (the default) with `ca_certs` to trust a private CA instead")

    # ---- references to ssl._create_unverified_context ----
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        # from ssl import _create_unverified_context as unverified
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if get_full_name_for_node(alias.name) == "_create_unverified_context":
                self._factory_names.add(alias.evaluated_alias or "_create_unverified_context")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "_create_unverified_context":
            self._reference(node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self._factory_names:
            self._reference(node)

    def _reference(self, node) -> None:
        if id(node) in self._handled or UNVERIFIED_CONTEXT not in self._qnames(node):
            return
        self._handled.add(id(node))
        if self._patching_default_context:
            # every urllib/http.client connection of the process: a defect wherever it is
            self._emit(node, f"`{self._module.code_for_node(node)}` installed as "
                             "`ssl._create_default_https_context` turns off certificate and host name "
                             "verification for every HTTPS connection of the process (urllib, http.client); "
                             "remove it and trust a private CA with `SSL_CERT_FILE` or "
                             "`ssl.create_default_context(cafile=...)` instead", severity="error")
            return
        self._emit(node, f"`{self._module.code_for_node(node)}` is an SSL context factory that does not "
                         "verify certificates or host names; installing or passing it turns verification "
                         "off; use `ssl.create_default_context()` (with `cafile=...` for a private CA) instead")

    # ---- messages ----
    def _short(self, node) -> str:
        code = " ".join(self._module.code_for_node(node).split())
        return code if len(code) <= 60 else code[:59] + "…"

    @staticmethod
    def _verify_message(name: str, advice: str) -> str:
        return (f"`verify=False` makes `{name}` skip TLS certificate verification, so any server "
                f"certificate is accepted (machine-in-the-middle); remove it, or {advice}")
