"""NET001 for Go: what bounds a request without a client ``Timeout``.

A client without ``Timeout`` is fine when something else limits its requests
or when a whole-request limit would be wrong. ``RequestBounds`` answers those
questions for one file, from the shared Go semantic layer, caching what it
walks: a deadline attached to requests, requests bound to the context of the
request a server is handling, upgraded (SPDY/WebSocket) streams, and a
``Timeout`` assigned to the client elsewhere in the file.
"""

from __future__ import annotations

import re

from cnlint import golang as go

from .http_timeout import TEST_DOUBLE

HTTP = "net/http"
HTTPUTIL = "net/http/httputil"
CONTEXT = "context"

DEADLINES = ("WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause")
#: k8s.io/apimachinery/pkg/util/wait: the condition's ctx carries the overall timeout
POLL_DEADLINES = ("PollUntilContextTimeout",)
#: context helpers whose result is cancelled with their parent (first argument)
DERIVED = ("WithValue", "WithCancel", "WithCancelCause", "WithoutCancel") + DEADLINES
#: calls that bind a request to a context: http.NewRequestWithContext(ctx, ...), req.WithContext(ctx), req.Clone(ctx)
ATTACH_METHODS = ("WithContext", "Clone")
REVERSE_PROXY = ("ReverseProxy", "NewSingleHostReverseProxy")

#: packages that upgrade a connection (exec/attach/port-forward, WebSocket): a
#: whole-request Timeout would cut the interactive stream
STREAM_PACKAGES = (
    "k8s.io/client-go/transport/spdy", "k8s.io/client-go/transport/websocket",
    "k8s.io/client-go/tools/remotecommand", "k8s.io/client-go/tools/portforward",
    "k8s.io/apimachinery/pkg/util/httpstream", "k8s.io/streaming/pkg/httpstream",
    "github.com/gorilla/websocket", "golang.org/x/net/websocket", "nhooyr.io/websocket",
    "github.com/coder/websocket", "github.com/moby/spdystream", "github.com/docker/spdystream",
)
#: a function the client is handed to by name: dialers, streams, watches, tunnels
STREAMING_NAME = re.compile(r"dial|stream|watch|websocket|upgrade|tunnel|spdy", re.IGNORECASE)


class RequestBounds:
    """The facts of one Go file that make a client without ``Timeout`` bounded."""

    def __init__(self, sem, root):
        self.go = sem
        self.root = root
        self._scopes: dict[tuple[str, int], bool] = {}
        self._timeout_targets = None

    # ---- per function (or the whole file) ----
    def deadline_attached(self, scope) -> bool:
        """``scope`` builds a deadline context and binds a request to a context."""
        return self._cached("deadline", scope, self._deadline_attached)

    def server_bound(self, scope) -> bool:
        """``scope`` sends requests bound to the context of the request a server
        is handling (``http.NewRequestWithContext(r.Context(), ...)``,
        ``req.WithContext(r.Context())``, ``outreq := r.Clone(ctx)``), or builds an
        ``httputil.ReverseProxy``: the server side cancels them."""
        return self._cached("server", scope, self._server_bound)

    def upgraded_stream(self, scope) -> bool:
        """``scope`` upgrades a connection: SPDY/WebSocket packages
        (remotecommand, portforward, spdy.RoundTripperFor, httpstream, gorilla
        websocket) or an ``Upgrade`` header."""
        return self._cached("stream", scope, self._upgraded_stream)

    def _cached(self, what: str, scope, compute) -> bool:
        key = (what, scope.id)
        if key not in self._scopes:
            self._scopes[key] = compute(scope)
        return self._scopes[key]

    def _deadline_attached(self, scope) -> bool:
        deadline = attached = False
        for n in go.walk(scope):
            if n.type != "call_expression":
                continue
            if self.go.package_call(n, CONTEXT) in DEADLINES or go.selector_parts(n)[1] in POLL_DEADLINES:
                deadline = True
            elif self.go.package_call(n, HTTP) == "NewRequestWithContext" or \
                    go.selector_parts(n)[1] in ATTACH_METHODS:
                attached = True
        return deadline and attached

    def _server_bound(self, scope) -> bool:
        for n in go.walk(scope):
            if n.type == "call_expression":
                if self.go.package_call(n, HTTPUTIL) in REVERSE_PROXY:
                    return True
                args = go.call_args(n)
                operand, method = go.selector_parts(n)
                if self.go.package_call(n, HTTP) == "NewRequestWithContext" and args:
                    ctx = args[0]
                elif method in ATTACH_METHODS and len(args) == 1:
                    if method == "Clone" and self._incoming_request(operand):
                        return True  # r.Clone(...): a copy of the incoming request
                    ctx = args[0]
                else:
                    continue
                if self._server_context(ctx):
                    return True
            elif n.type == "composite_literal" and self.go.literal_type(n) == (HTTPUTIL, "ReverseProxy"):
                return True
        return False

    def _server_context(self, expr, depth: int = 0) -> bool:
        """``expr`` is (derived from) ``r.Context()`` of an incoming request."""
        expr = go.unwrap(expr)
        if expr is None or depth > 3:
            return False
        if expr.type == "call_expression":
            operand, method = go.selector_parts(expr)
            if method == "Context" and not go.call_args(expr):
                return self._incoming_request(operand)
            if self.go.package_call(expr, CONTEXT) in DERIVED and go.call_args(expr):
                return self._server_context(go.call_args(expr)[0], depth + 1)
            return False
        if expr.type == "identifier":
            return any(self._server_context(v, depth + 1)
                       for v in go.values_assigned_before(expr, go.text(expr)))
        return False

    def _incoming_request(self, expr) -> bool:
        """``expr`` is the request a server is handling: the ``*http.Request``
        parameter of an HTTP handler ``(w http.ResponseWriter, r *http.Request)``,
        or ``c.Request`` of a gin/echo handler's ``c`` (a RoundTripper's request
        is an outgoing one)."""
        expr = go.unwrap(expr)
        if expr is not None and expr.type == "selector_expression" and \
                go.text(expr.child_by_field_name("field")) == "Request":
            expr = go.unwrap(expr.child_by_field_name("operand"))
        if expr is None or expr.type != "identifier":
            return False
        decl = self.go.resolve(expr)
        if decl is None or decl.kind != "param":
            return False
        kind = self.go.handler_kind(go.enclosing(decl.stmt, go.FUNCS))
        return kind is not None and kind.endswith(" handler")

    def _upgraded_stream(self, scope) -> bool:
        for n in go.walk(scope):
            if n.type == "call_expression":
                target = self.go.package_function(n)
                if target is not None and target[0].startswith(STREAM_PACKAGES):
                    return True
                _, method = go.selector_parts(n)
                args = go.call_args(n)
                if method in ("Set", "Add") and args and go.string_value(args[0]) in ("Upgrade", "upgrade"):
                    return True
            elif n.type == "composite_literal":
                if self.go.literal_type(n)[0].startswith(STREAM_PACKAGES):  # websocket.Dialer{...}
                    return True
            elif n.type in ("keyed_element", "literal_element") and go.string_value(
                    go.literal_value(n.named_children[0]) if n.named_child_count else None) == "Upgrade" \
                    and n.parent is not None and n.parent.named_children and n.parent.named_children[0].id == n.id:
                return True  # http.Header{"Upgrade": ...}
        return False

    # ---- the client itself ----
    def handed_to_stream(self, client) -> bool:
        """The client (literal or the variable it is bound to) is an argument of
        a dialer, stream, watch or tunnel (``spdy.NewDialer(upgrader, client, ...)``)."""
        if self._streaming_argument(client):
            return True
        name = go.bound_name(client)
        fn = go.outermost_function(client)
        if name is None or name.type != "identifier" or fn is None:
            return False
        wanted = go.text(name)
        return any(n.type == "identifier" and go.text(n) == wanted and self._streaming_argument(n)
                   for n in go.walk(fn) if n.start_byte > client.end_byte)

    @staticmethod
    def _streaming_argument(node) -> bool:
        parent = node.parent
        while parent is not None and parent.type in ("unary_expression", "parenthesized_expression"):
            parent = parent.parent
        if parent is None or parent.type != "argument_list" or parent.parent is None:
            return False
        fn = parent.parent.child_by_field_name("function")
        name = fn.child_by_field_name("field") if fn is not None and fn.type == "selector_expression" else fn
        return bool(STREAMING_NAME.search(go.text(name)))

    def timeout_assigned(self, client) -> bool:
        """``X.Timeout = ...`` for the client: in its function for the variable it
        is bound to; anywhere in the file for a field or package variable it is
        stored in (``c.httpClient.Timeout = c.timeout``), or for the variable a
        caller binds the result of the function that returns it to
        (``c := newHTTPClient(); c.Timeout = ...``)."""
        targets = self._timeout_assignments()
        name = go.bound_name(client)
        fn = go.outermost_function(client)
        if name is not None:
            if name.type == "selector_expression":
                return self._field_timeout(go.text(name.child_by_field_name("field")), targets)
            wanted = go.text(name)
            if any(t == wanted and (fn is None or go.contains(fn, stmt)) for t, stmt in targets):
                return True
            if fn is None or self._is_package_variable(name):
                return any(t == wanted for t, _ in targets)
        field = self.stored_field(client)
        if field is not None:
            return self._field_timeout(field, targets)
        returned_by = self.returned_by(client)
        return returned_by is not None and self._caller_sets_timeout(returned_by, targets)

    def _field_timeout(self, field: str, targets) -> bool:
        return any(t.endswith("." + field) or t == field for t, _ in targets)

    def _caller_sets_timeout(self, function: str, targets) -> bool:
        for t, stmt in targets:
            if "." in t:
                continue
            for value in go.values_assigned_before(stmt, t):
                value = go.unwrap(value)
                fn = value.child_by_field_name("function") if value is not None and \
                    value.type == "call_expression" else None
                if fn is not None and go.text(fn.child_by_field_name("field") if fn.type == "selector_expression"
                                              else fn) == function:
                    return True
        return False

    def _timeout_assignments(self):
        """(text before ``.Timeout``, statement) of every ``X.Timeout = ...`` in the file."""
        if self._timeout_targets is None:
            found = []
            for n in go.walk(self.root):
                if n.type != "assignment_statement":
                    continue
                left = n.child_by_field_name("left")
                for x in left.named_children if left is not None else ():
                    if x.type == "selector_expression" and go.text(x.child_by_field_name("field")) == "Timeout":
                        found.append((go.text(x.child_by_field_name("operand")), n))
            self._timeout_targets = found
        return self._timeout_targets

    def _is_package_variable(self, ident) -> bool:
        decl = self.go.resolve(ident)
        return decl is not None and go.enclosing(decl.stmt, go.FUNCS) is None

    # ---- where the client goes ----
    @staticmethod
    def stored_field(client):
        """``f`` for a client in a struct literal ``T{f: client}``, else None."""
        node, parent = client, client.parent
        while parent is not None and parent.type in ("unary_expression", "parenthesized_expression",
                                                     "literal_element"):
            node, parent = parent, parent.parent
        if parent is not None and parent.type == "keyed_element" and parent.named_child_count == 2 \
                and parent.named_children[1].id == node.id:
            key = go.literal_value(parent.named_children[0])
            return go.text(key) if key is not None and key.type in ("identifier", "field_identifier") else None
        return None

    @staticmethod
    def returned_by(client):
        """The name of the function that returns the client (directly, or the
        variable it is bound to), else None."""
        fn = go.enclosing_function(client)
        if fn is None or fn.type == "func_literal":
            return None
        parent = client.parent
        while parent is not None and parent.type in ("unary_expression", "parenthesized_expression"):
            parent = parent.parent
        if parent is not None and parent.type == "expression_list" and parent.parent is not None \
                and parent.parent.type == "return_statement":
            return go.function_name(fn)
        name = go.bound_name(client)
        if name is None or name.type != "identifier":
            return None
        for n in go.walk(fn, into_funcs=False):
            if n.type == "return_statement" and any(go.text(r) == go.text(name)
                                                     for x in n.named_children for r in x.named_children):
                return go.function_name(fn)
        return None

    def handed_out(self, client) -> bool:
        """The client is used beyond its statement's function: returned, stored
        in a field or struct literal, or in a package variable."""
        parent = client.parent
        while parent is not None and parent.type in ("unary_expression", "parenthesized_expression"):
            parent = parent.parent
        if parent is not None and parent.type in ("keyed_element", "literal_element"):
            return True
        if self.returned_by(client) is not None:
            return True
        name = go.bound_name(client)
        if name is None:
            return False
        return name.type == "selector_expression" or go.outermost_function(client) is None or \
            self._is_package_variable(name)


def is_test_double(fn) -> bool:
    """A fake or mock declared in a production file: a function named
    ``NewFake...``/``mock...``, or a method of a type named so."""
    if fn is None:
        return False
    if TEST_DOUBLE.match(go.function_name(fn)):
        return True
    receiver = fn.child_by_field_name("receiver") if fn.type == "method_declaration" else None
    for param in receiver.named_children if receiver is not None else ():
        typ = go.strip_pointer(param.child_by_field_name("type"))
        if typ is not None and TEST_DOUBLE.match(go.text(typ)):
            return True
    return False
