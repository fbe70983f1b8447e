"""NET001 for Python: requests calls without ``timeout=``, and ``timeout=None``
for requests and httpx.

Calls are recognised by qualified name (``import requests as r``, ``from
requests import get``). Sessions and httpx clients are tracked by the name they
are bound to in the function, class (``self.session``) or module.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from cnlint import PythonRule
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code
from cnlint.python import ScopeTracker, full_name, has_star_args, is_none, keyword_arg, positional_args, short

from .http_timeout import TEST_DOUBLE, HttpClientWithoutTimeout

VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
REQUESTS, HTTPX, CUSTOM = "requests", "httpx", "custom"

REQUESTS_FUNCS = {f"requests.{v}" for v in VERBS} | {f"requests.api.{v}" for v in VERBS}
HTTPX_FUNCS = {f"httpx.{v}" for v in VERBS} | {"httpx.stream"}
HTTPX_CLIENTS = {"httpx.Client", "httpx.AsyncClient"}
SESSION_CTORS = {
    "requests.Session": REQUESTS, "requests.session": REQUESTS,
    "requests.sessions.Session": REQUESTS, "requests.sessions.session": REQUESTS,
    "requests_cache.CachedSession": REQUESTS,
    "httpx.Client": HTTPX, "httpx.AsyncClient": HTTPX,
}
STOCK_ADAPTERS = {"requests.adapters.HTTPAdapter", "requests.HTTPAdapter"}
#: Session.request(method, url, params, data, headers, cookies, files, auth, timeout, ...)
_REQUEST_TIMEOUT_POSITION = 8


class HttpClientWithoutTimeoutPython(HttpClientWithoutTimeout, PythonRule, ScopeTracker):
    requires = ("requests", "httpx")

    def visit_Module(self, node: cst.Module) -> None:
        self._skip = skips_test_code(self)
        self._doubles = []  # per enclosing function/class: is it a test double?
        self.scope_reset(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self.scope_finish()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._enter(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._leave()

    def _enter(self, node) -> None:
        self.scope_push(node)
        self._doubles.append(bool(TEST_DOUBLE.match(node.name.value)) and bool(self.options.get(SKIP_TEST_FILES)))

    def _leave(self) -> None:
        self.scope_pop()
        self._doubles.pop()

    # ---- bindings ----
    def _kind_of(self, value) -> Optional[str]:
        if isinstance(value, cst.Call):
            for name in self.qualified_names(value.func):
                if name in SESSION_CTORS:
                    return SESSION_CTORS[name]
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        kind = self._kind_of(node.value)
        for t in node.targets:
            self.bind(t.target, kind)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self.bind(node.target, self._kind_of(node.value))

    def visit_Param(self, node: cst.Param) -> None:
        self.bind(node.name, None)  # a parameter hides an outer binding of its name

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name):
            self.bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, (cst.Name, cst.Attribute)):
            self.bind(node.asname.name, self._kind_of(node.item))

    # ---- calls ----
    def visit_Call(self, node: cst.Call) -> None:
        if self._skip or any(self._doubles):
            return
        names = self.qualified_names(node.func)
        if names & REQUESTS_FUNCS:
            self._check(node, REQUESTS, sorted(names & REQUESTS_FUNCS)[0])
            return
        if names & (HTTPX_FUNCS | HTTPX_CLIENTS):
            self._check(node, HTTPX, sorted(names & (HTTPX_FUNCS | HTTPX_CLIENTS))[0])
            return
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        receiver = func.value
        if method == "mount":
            self._mounted(node, receiver)
            return
        if method not in VERBS and method != "stream":
            return
        kind = self._kind_of(receiver)
        what = short(self._module, func, 40)
        if kind is not None:
            self._check(node, kind, what, session=True)
        else:
            self.when_bound(full_name(receiver), lambda k: self._check(node, k, what, session=True))

    def _mounted(self, call: cst.Call, receiver) -> None:
        """``s.mount(prefix, adapter)`` with a custom adapter: it may set a default timeout."""
        args = positional_args(call)
        adapter = args[1].value if len(args) > 1 else getattr(keyword_arg(call, "adapter"), "value", None)
        if adapter is None:
            return
        if isinstance(adapter, cst.Call) and self.qualified_names(adapter.func) & STOCK_ADAPTERS:
            return
        name = full_name(receiver)
        if name and self.lookup(name) == REQUESTS:
            # the binding that made it a session, wherever it lives
            key = next(k for k in self.keys(name) if self._bound.get(k) == REQUESTS)
            self._bound[key] = CUSTOM

    def _check(self, call: cst.Call, kind: str, what: str, session: bool = False) -> None:
        if kind == CUSTOM:
            return
        if session and kind == REQUESTS and call.func.attr.value == "stream":
            return  # not a requests.Session method
        if has_star_args(call):
            return  # the timeout may be in *args / **kwargs
        arg = keyword_arg(call, "timeout")
        if arg is None:
            if kind != REQUESTS:
                return  # httpx: 5 s by default
            if session and isinstance(call.func, cst.Attribute) and call.func.attr.value == "request" \
                    and len(positional_args(call)) > _REQUEST_TIMEOUT_POSITION:
                return
            target = f"`{what}(...)`" + (" (a `requests.Session`)" if session else "")
            self.report(call, f"{target} has no `timeout`, so it waits forever if the server accepts the "
                              "connection but never answers (requests never times out by default); add "
                              f"`timeout={self._seconds()}` (seconds, or a `(connect, read)` tuple)",
                        fix=self._add_timeout_fix(call))
            return
        if self._unbounded(arg.value):
            lib = "httpx" if kind == HTTPX else "requests"
            default = " (httpx's default is 5 seconds)" if kind == HTTPX else ""
            client = " for every request of this client" if what in HTTPX_CLIENTS else ""
            self.report(arg, f"`timeout={short(self._module, arg.value)}` turns off the {lib} timeout{client}{default}, "
                             "so a request waits forever if the server never answers; use a finite timeout "
                             f"such as `timeout={self._seconds()}`",
                        fix=self.fix(f"Use `timeout={self._seconds()}`",
                                     self.edit(arg.value, self._seconds()), applicability="suggestion"))

    def _unbounded(self, value) -> bool:
        if is_none(value):
            return True
        # httpx.Timeout(None)
        if isinstance(value, cst.Call) and self.qualified_names(value.func) & {"httpx.Timeout"}:
            args = value.args
            return len(args) == 1 and args[0].keyword is None and is_none(args[0].value)
        return False

    # ---- the fix ----
    def _seconds(self) -> str:
        value = self.timeout_seconds()
        return str(int(value)) if float(value).is_integer() else repr(float(value))

    def _add_timeout_fix(self, call: cst.Call):
        """An edit that adds ``timeout=N`` after the last argument, keeping the
        call's layout (one argument per line stays one argument per line)."""
        text = f"timeout={self._seconds()}"
        args = list(call.args)
        if not args:
            return self.fix(f"Add `{text}`", self.insert(self.byte_range(call)[1] - 1, text),
                            applicability="unsafe")
        last = args[-1]
        end = self.byte_range(last.value)[1]
        comma = last.comma
        if isinstance(comma, cst.Comma) and isinstance(comma.whitespace_after, cst.ParenthesizedWhitespace):
            # a line of its own after the last argument's line (and its comment)
            data = self.ctx.source.data
            start = self.byte_range(last)[0]
            line_start = data.rfind(b"\n", 0, start) + 1
            line = data[line_start:start].decode("utf-8", "replace")
            indent = line[: len(line) - len(line.lstrip())]
            eol = data.find(b"\n", end)
            eol = eol if eol >= 0 else len(data)
            edit = self.insert(eol, "\n" + indent + text + ",")
        else:
            edit = self.insert(end, ", " + text)
        return self.fix(f"Add `{text}`", edit, applicability="unsafe")
