"""NET001 for Go: ``http.Get``/``http.DefaultClient`` (also through a
variable) and ``http.Client`` literals without ``Timeout``.

One query finds the candidate calls (selector calls named like the helpers),
``Client`` composite literals and ``new(pkg.Client)``; the import table then
decides whether ``pkg`` is ``net/http``. What else bounds a request (a deadline
context, the context of the request a server handles, an upgraded stream, a
``Timeout`` assigned elsewhere) is looked up only for those candidates, in
``http_timeout_go_bounds``.
"""

from __future__ import annotations

import re

from cnlint import TreeSitterRule, golang as go
from cnlint.code_kinds import SKIP_TEST_FILES, skips_test_code

from .http_timeout import CLIENT_LITERALS, HttpClientWithoutTimeout
from .http_timeout_go_bounds import RequestBounds, is_test_double

HTTP = "net/http"
TIME = "time"

HELPERS = ("Get", "Post", "Head", "PostForm")
# A whole-request Timeout also cuts a large download or upload that is still moving
_LONG_TRANSFERS = ("; for a long download or upload, bound the wait instead with a `Transport` whose dialer "
                   "has a `Timeout` and which sets `ResponseHeaderTimeout`")
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

    def begin_file(self, root) -> None:
        self._bounds = None

    @property
    def bounds(self) -> RequestBounds:
        if self._bounds is None:
            self._bounds = RequestBounds(self.ctx.go, self.ctx.tree.root_node)
        return self._bounds

    def on_match(self, captures):
        if skips_test_code(self):
            return
        node = next(iter(captures.values()))[0]
        if self.options.get(SKIP_TEST_FILES) and is_test_double(go.enclosing(node, go.NAMED_FUNCS)):
            return
        if "net001.call" in captures:
            self._call(captures["net001.call"][0], self.text(captures["net001.fn"][0]))
        elif not self.options.get(CLIENT_LITERALS):
            return  # a client built without Timeout is often bounded per request elsewhere (help page)
        elif "net001.lit" in captures:
            self._literal(captures["net001.lit"][0], captures["net001.body"][0])
        elif "net001.newcall" in captures:
            self._new(captures["net001.newcall"][0])

    # ---- http.Get / http.DefaultClient.Do / client := http.DefaultClient ----
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
                              f"{self._duration(self._time_import()[0])}}}`, "
                              f"then `client.{method}(...)`){_LONG_TRANSFERS}")
            return
        alias = self._default_client_alias(operand)
        if alias is None and not self._is_default_client(operand):
            return
        if self._default_client_timeout_set() or (alias is not None and self.bounds.timeout_assigned(alias)):
            return
        if method == "Do" and self._bounded_in_function(call):
            return
        pkg = sorted(http)[0]
        what = f"{self.text(operand)}.{method}"
        via = "" if alias is None else f" (`{self.text(operand)}` is `{self.text(alias)}`)"
        advice = ("build the request with `http.NewRequestWithContext` and a `context.WithTimeout` deadline"
                  if method == "Do" else f"call `{method}` on it")
        self.report(call, f"`{what}` uses `http.DefaultClient`{via}, which has no timeout, so the request blocks "
                          "forever if the server accepts the connection but never answers; use your own client "
                          f"(`&{pkg}.Client{{Timeout: {self._duration(self._time_import()[0])}}}`) "
                          f"or {advice}{_LONG_TRANSFERS}")

    def _is_default_client(self, expr) -> bool:
        return expr is not None and self.ctx.go.qualified(expr) == (HTTP, "DefaultClient")

    def _default_client_alias(self, operand):
        """``http.DefaultClient`` when ``operand`` is a variable that holds it
        and is never given another value (``client := http.DefaultClient``)."""
        if operand.type != "identifier" or self.text(operand) in self.ctx.go.imports.names:
            return None
        value = go.unwrap(self.ctx.go.constant_value(operand))
        return value if self._is_default_client(value) else None

    def _default_client_timeout_set(self) -> bool:
        return bool(_DEFAULT_TIMEOUT_SET.search(self.ctx.source.data))

    def _bounded_in_function(self, node) -> bool:
        """The function around ``node`` attaches a deadline to its requests,
        binds them to the request a server handles, or upgrades the connection."""
        fn = go.outermost_function(node)
        return fn is not None and (self.bounds.deadline_attached(fn) or self.bounds.server_bound(fn)
                                   or self.bounds.upgraded_stream(fn))

    def _bounded_client(self, client) -> bool:
        """A client literal or ``new(http.Client)`` whose requests are bounded
        by something else, or that carries streams a ``Timeout`` would cut."""
        b = self.bounds
        if b.timeout_assigned(client) or b.handed_to_stream(client) or self._bounded_in_function(client):
            return True
        # a factory or accessor: its requests are made elsewhere in the file
        root = self.ctx.tree.root_node
        return b.handed_out(client) and (b.deadline_attached(root) or b.server_bound(root))

    # ---- http.Client{...} ----
    def _literal(self, lit, body) -> None:
        if self.ctx.go.literal_type(lit) != (HTTP, "Client"):
            return
        keys, positional = go.keyed_elements(body), go.has_positional_elements(body)
        if positional or "Timeout" in keys:
            return
        if "Transport" in keys and self._transport_bounded(keys["Transport"][1], lit):
            return
        if self._bounded_client(lit):
            return
        typ = self.text(lit.child_by_field_name("type"))
        shown = ("&" if lit.parent is not None and lit.parent.type == "unary_expression" else "") + typ + (
            "{}" if not keys else "{...}")
        time_name, import_time = self._time_import()
        duration = self._duration(time_name)
        where = lit.parent if shown.startswith("&") else lit
        self.report(where, f"`{shown}` has no `Timeout`, so a request to a server that accepts the connection but "
                         "never answers blocks forever (holding its goroutine and connection); set "
                         f"`Timeout: {duration}` (it bounds connecting, redirects and reading the body), or give "
                         "each request a `context.WithTimeout` deadline",
                    fix=self._literal_fix(body, duration, import_time))

    def _literal_fix(self, body, duration: str, import_time):
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
        return self._timeout_fix(f"Add `{field}`", edit, import_time)

    def _timeout_fix(self, description: str, edit, import_time):
        if import_time is None:
            return self.fix(description, edit, applicability="unsafe")
        return self.fix(description + ' and import "time"', edit, import_time, applicability="unsafe")

    def _new(self, call) -> None:
        arg = go.call_args(call)[0]
        pkg = self.text(arg.child_by_field_name("package"))
        if self.ctx.go.imports.names.get(pkg) != HTTP:
            return
        if self._bounded_client(call):
            return
        time_name, import_time = self._time_import()
        replacement = f"&{self.text(arg)}{{Timeout: {self._duration(time_name)}}}"
        fix = self._timeout_fix(f"Replace with `{replacement}`", self.edit(call, replacement), import_time)
        self.report(call, f"`{self.text(call)}` is a client without a `Timeout`, so a request to a server that "
                          "accepts the connection but never answers blocks forever; use "
                          f"`{replacement}` (or give each request a `context.WithTimeout` deadline)", fix=fix)

    # ---- what makes a client bounded ----
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

    # ---- fix text ----
    def _time_import(self):
        """The name of package ``time`` in this file, and the edit that imports
        it when the file does not (None when it does)."""
        return self.ctx.go.ensure_import(self, TIME, "time")

    def _duration(self, time_name: str) -> str:
        seconds = self.timeout_seconds()
        if float(seconds).is_integer():
            return f"{int(seconds)} * {time_name}.Second"
        return f"{int(round(seconds * 1000))} * {time_name}.Millisecond"
