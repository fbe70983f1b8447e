"""NET001 for Go: ``http.Get``/``http.DefaultClient`` and ``http.Client``
literals without ``Timeout``.

One query finds the candidate calls (selector calls named like the helpers),
``Client`` composite literals and ``new(pkg.Client)``; the import table then
decides whether ``pkg`` is ``net/http``. Function-level facts (a deadline
context, ``c.Timeout = ...``) are looked up only for those candidates.
"""

from __future__ import annotations

import re

from cnlint import TreeSitterRule, golang as go
from cnlint.code_kinds import skips_test_code

from .http_timeout import HttpClientWithoutTimeout

HTTP = "net/http"
TIME = "time"
CONTEXT = "context"

HELPERS = ("Get", "Post", "Head", "PostForm")
DEADLINES = ("WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause")
#: k8s.io/apimachinery/pkg/util/wait: the condition's ctx carries the overall timeout
POLL_DEADLINES = ("PollUntilContextTimeout",)
_STREAMING = re.compile(r"dial|stream|watch|websocket|upgrade|tunnel|spdy", re.IGNORECASE)
_DEFAULT_TIMEOUT_SET = re.compile(rb"DefaultClient\s*\.\s*Timeout\s*=[^=]")


class HttpClientWithoutTimeoutGo(HttpClientWithoutTimeout, TreeSitterRule):
    languages = ("go",)
    requires = ('"net/http"',)
    query = """
    (call_expression
      function: (selector_expression field: (field_identifier) @net001.fn)
      (#any-of? @net001.fn "Get" "Post" "Head" "PostForm" "Do")) @net001.call

    (composite_literal
      type: (qualified_type name: (type_identifier) @net001.type)
      body: (literal_value) @net001.body
      (#eq? @net001.type "Client")) @net001.lit

    (call_expression
      function: (identifier) @net001.new
      arguments: (argument_list . (qualified_type name: (type_identifier) @net001.newtype) .)
      (#eq? @net001.new "new")
      (#eq? @net001.newtype "Client")) @net001.newcall
    """

    def on_match(self, captures):
        if skips_test_code(self):
            return
        if "net001.call" in captures:
            self._call(captures["net001.call"][0], self.text(captures["net001.fn"][0]))
        elif "net001.lit" in captures:
            self._literal(captures["net001.lit"][0], captures["net001.body"][0])
        elif "net001.newcall" in captures:
            self._new(captures["net001.newcall"][0])

    # ---- http.Get / http.DefaultClient.Do ----
    def _call(self, call, method: str) -> None:
        operand, _ = go.selector_parts(call)
        http = self.ctx.go.imports.names_for(HTTP)
        if not http or operand is None:
            return
        if operand.type == "identifier" and self.text(operand) in http and method in HELPERS:
            if self._default_client_timeout_set():
                return
            name = f"{self.text(operand)}.{method}"
            self.report(call, f"`{name}` sends the request with `http.DefaultClient`, which has no timeout, so it "
                              "blocks forever if the server accepts the connection but never answers; use a client "
                              f"with a timeout (`client := &{self.text(operand)}.Client{{Timeout: "
                              f"{self._duration(self._time_name() or 'time')}}}`, "
                              f"then `client.{method}(...)`)")
            return
        if operand.type != "selector_expression" or self.text(operand.child_by_field_name("field")) != "DefaultClient":
            return
        pkg = operand.child_by_field_name("operand")
        if pkg is None or pkg.type != "identifier" or self.text(pkg) not in http:
            return
        if self._default_client_timeout_set():
            return
        if method == "Do" and self._deadline_in_function(call):
            return
        what = f"{self.text(operand)}.{method}"
        advice = ("build the request with `http.NewRequestWithContext` and a `context.WithTimeout` deadline"
                  if method == "Do" else f"call `{method}` on it")
        self.report(call, f"`{what}` uses `http.DefaultClient`, which has no timeout, so the request blocks forever "
                          "if the server accepts the connection but never answers; use your own client "
                          f"(`&{self.text(pkg)}.Client{{Timeout: {self._duration(self._time_name() or 'time')}}}`) "
                          f"or {advice}")

    def _default_client_timeout_set(self) -> bool:
        return bool(_DEFAULT_TIMEOUT_SET.search(self.ctx.source.data))

    # ---- http.Client{...} ----
    def _literal(self, lit, body) -> None:
        if self.ctx.go.literal_type(lit) != (HTTP, "Client"):
            return
        keys, positional = go.keyed_elements(body), go.has_positional_elements(body)
        if positional or "Timeout" in keys:
            return
        if "Transport" in keys and self._transport_bounded(keys["Transport"][1], lit):
            return
        if self._timeout_assigned_later(lit) or self._deadline_in_function(lit) or self._streaming(lit):
            return
        typ = self.text(lit.child_by_field_name("type"))
        shown = ("&" if lit.parent is not None and lit.parent.type == "unary_expression" else "") + typ + (
            "{}" if not keys else "{...}")
        time_name = self._time_name()
        duration = self._duration(time_name or "time")
        where = lit.parent if shown.startswith("&") else lit
        self.report(where, f"`{shown}` has no `Timeout`, so a request to a server that accepts the connection but "
                         "never answers blocks forever (holding its goroutine and connection); set "
                         f"`Timeout: {duration}` (it bounds connecting, redirects and reading the body), or give "
                         "each request a `context.WithTimeout` deadline",
                    fix=self._literal_fix(body, keys, duration, time_name))

    def _literal_fix(self, body, keys, duration: str, time_name):
        field = f"Timeout: {duration}"
        elements = [c for c in body.named_children if c.type != "comment"]
        if not elements:
            edit = self.edit(body, "{" + field + "}")
        else:
            brace = body.children[0]
            first = elements[0]
            if first.start_point[0] == brace.start_point[0]:
                edit = self.insert(brace.end_byte, field + ", ")
            else:
                # one field per line: a line of its own, before the first field
                # (after any comment on the brace's line); gofmt realigns the values
                data = self.ctx.source.data
                line_start = data.rfind(b"\n", 0, first.start_byte) + 1
                indent = data[line_start:first.start_byte].decode("utf-8", "replace")
                if indent.strip():
                    indent = "\t"
                edit = self.insert(first.start_byte, field + ",\n" + indent)
        if time_name:
            return self.fix(f"Add `{field}`", edit, applicability="unsafe")
        return self.fix(f"Add `{field}` (and import \"time\")", edit, applicability="suggestion")

    def _new(self, call) -> None:
        arg = go.call_args(call)[0]
        pkg = self.text(arg.child_by_field_name("package"))
        if self.ctx.go.imports.names.get(pkg) != HTTP:
            return
        if self._timeout_assigned_later(call) or self._deadline_in_function(call):
            return
        time_name = self._time_name()
        duration = self._duration(time_name or "time")
        replacement = f"&{self.text(arg)}{{Timeout: {duration}}}"
        fix = self.fix(f"Replace with `{replacement}`", self.edit(call, replacement),
                       applicability="unsafe" if time_name else "suggestion")
        self.report(call, f"`{self.text(call)}` is a client without a `Timeout`, so a request to a server that "
                          "accepts the connection but never answers blocks forever; use "
                          f"`{replacement}` (or give each request a `context.WithTimeout` deadline)", fix=fix)

    # ---- what makes a client bounded ----
    def _streaming(self, lit) -> bool:
        """The client is handed straight to a dialer or stream (SPDY/WebSocket
        upgrades, watches), where a ``Timeout`` would cut the stream."""
        node = lit.parent
        while node is not None and node.type in ("unary_expression", "parenthesized_expression"):
            node = node.parent
        if node is None or node.type != "argument_list" or node.parent is None:
            return False
        fn = node.parent.child_by_field_name("function")
        name = self.text(fn.child_by_field_name("field") if fn is not None and fn.type == "selector_expression"
                         else fn)
        return bool(_STREAMING.search(name))

    def _transport_bounded(self, value, at) -> bool:
        """A ``&http.Transport{...}`` (inline or a local variable) with both a dial
        timeout and ``ResponseHeaderTimeout``."""
        lit = self._local_literal(value, at)
        if lit is None or self.ctx.go.literal_type(lit) != (HTTP, "Transport"):
            return False
        keys = go.keyed_elements(lit.child_by_field_name("body"))
        if "ResponseHeaderTimeout" not in keys:
            return False
        for dial in ("DialContext", "Dial"):
            if dial in keys and self._dialer_has_timeout(keys[dial][1], at):
                return True
        return False

    def _dialer_has_timeout(self, value, at) -> bool:
        if "Timeout" in self.text(value):
            return True
        # DialContext: dialer.DialContext, with dialer := &net.Dialer{Timeout: ...}
        if value is not None and value.type == "selector_expression":
            lit = self._local_literal(value.child_by_field_name("operand"), at)
            return lit is not None and "Timeout" in go.keyed_elements(lit.child_by_field_name("body"))
        return False

    def _local_literal(self, value, at):
        """``value`` as a composite literal: itself, or the literal a local
        variable of that name was declared with in the enclosing function."""
        value = go.unwrap(value)
        if value is None:
            return None
        if value.type == "composite_literal":
            return value
        if value.type != "identifier":
            return None
        for assigned in go.values_assigned_before(at, self.text(value)):
            lit = go.unwrap(assigned)
            if lit is not None and lit.type == "composite_literal":
                return lit
        return None

    def _timeout_assigned_later(self, expr) -> bool:
        """``c.Timeout = ...`` in the same function, for the variable ``expr`` is bound to."""
        target = go.bound_name(expr)
        fn = go.outermost_function(expr)
        if target is None or fn is None:
            return False
        wanted = self.text(target) + ".Timeout"
        for node in go.walk(fn):
            if node.type == "assignment_statement":
                left = node.child_by_field_name("left")
                if left is not None and any(self.text(n) == wanted for n in left.named_children):
                    return True
        return False

    def _deadline_in_function(self, node) -> bool:
        """The function builds a deadline context and attaches it to a request;
        or, for a client handed out by a factory or accessor (returned, or stored
        in a field), the file does both somewhere: its requests are bounded by
        their contexts."""
        fn = go.outermost_function(node)
        if fn is not None and self._deadline_in(fn):
            return True
        return self._handed_out(node) and self._deadline_in(self.ctx.tree.root_node)

    def _handed_out(self, node) -> bool:
        parent = node.parent
        while parent is not None and parent.type in ("unary_expression", "parenthesized_expression"):
            parent = parent.parent
        if parent is not None and parent.type == "expression_list" and parent.parent is not None:
            stmt = parent.parent
            if stmt.type == "return_statement":
                return True
            target = go.bound_name(node)
            return target is not None and target.type == "selector_expression"
        return parent is not None and parent.type in ("keyed_element", "literal_element")

    def _deadline_in(self, scope) -> bool:
        cache = getattr(self, "_deadline_cache", None)
        if cache is None or cache[0] is not self.ctx.tree:
            cache = self._deadline_cache = (self.ctx.tree, {})
        if scope.id in cache[1]:
            return cache[1][scope.id]
        deadline = attached = False
        for n in go.walk(scope):
            if n.type != "call_expression":
                continue
            if self.ctx.go.package_call(n, CONTEXT) in DEADLINES or \
                    go.selector_parts(n)[1] in POLL_DEADLINES:
                deadline = True
            elif self.ctx.go.package_call(n, HTTP) == "NewRequestWithContext":
                attached = True
            elif go.selector_parts(n)[1] == "WithContext":
                attached = True
        cache[1][scope.id] = deadline and attached
        return deadline and attached

    # ---- fix text ----
    def _time_name(self):
        names = sorted(self.ctx.go.imports.names_for(TIME))
        return names[0] if names else None

    def _duration(self, time_name: str) -> str:
        seconds = self.timeout_seconds()
        if float(seconds).is_integer():
            return f"{int(seconds)} * {time_name}.Second"
        return f"{int(round(seconds * 1000))} * {time_name}.Millisecond"
