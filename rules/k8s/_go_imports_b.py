"""Shared helpers of the Kubernetes client rules K8S006-K8S010 (no rule classes here).

Go (tree-sitter): the file's import table (``corev1`` -> ``k8s.io/api/core/v1``),
``pkg.Func`` call targets resolved through it, loops and handlers around a
node, local/package constant lookup and a small evaluator for Go durations
(``15 * time.Second``). Python (libcst): test-file skipping and the
``kubernetes``/``kubernetes_asyncio`` qualified-name prefixes.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from cnlint import Option
from cnlint.golang import literal_value, strip_pointer, text, unwrap  # noqa: F401 - the K8S rules use them from here

SKIP_TEST_FILES = "skip-test-files"


def skip_test_files_option() -> Option:
    return Option(
        True,
        "do not report in test code (`ctx.is_test_code`: `*_test.go`, `test_*.py`, `test/`, `testdata/`, "
        "test-helper packages, fakes and mocks; config `test-code`): fakes, e2e helpers and deliberately "
        "broken configs live there",
    )


def skip_file(rule) -> bool:
    return bool(rule.options.get(SKIP_TEST_FILES)) and rule.ctx.is_test_code


# --------------------------------------------------------------------------- Go

FUNCS = ("function_declaration", "method_declaration", "func_literal")

TIME = "time"
NET_HTTP = "net/http"
METAV1 = "k8s.io/apimachinery/pkg/apis/meta/v1"
CACHE = "k8s.io/client-go/tools/cache"
RESOURCELOCK = "k8s.io/client-go/tools/leaderelection/resourcelock"
LEADERELECTION = "k8s.io/client-go/tools/leaderelection"
CTRL = "sigs.k8s.io/controller-runtime"
CTRL_MANAGER = "sigs.k8s.io/controller-runtime/pkg/manager"
CTRL_CLIENT = "sigs.k8s.io/controller-runtime/pkg/client"
CTRL_RECONCILE = "sigs.k8s.io/controller-runtime/pkg/reconcile"

#: nanoseconds of the ``time`` package's duration constants
TIME_UNITS = {
    "Nanosecond": 1.0, "Microsecond": 1e3, "Millisecond": 1e6,
    "Second": 1e9, "Minute": 60e9, "Hour": 3600e9,
}


def default_name(path: str) -> str:
    """The package name Go gives an import without an alias: API packages are
    named after their version (``k8s.io/api/core/v1`` is ``v1``); only a
    module's major-version suffix (``github.com/labstack/echo/v4``) names the
    element before it."""
    parts = path.split("/")
    last = parts[-1]
    if len(parts) > 1 and re.fullmatch(r"v([2-9]|[1-9][0-9]+)", last) \
            and not path.startswith(("k8s.io/", "sigs.k8s.io/")):
        last = parts[-2]
    return last.split(".")[0].replace("-", "")


def go_imports(ctx) -> dict[str, str]:
    """Package name used in the file -> import path (cached on the file context)."""
    cached = getattr(ctx, "_k8sb_imports", None)
    if cached is not None:
        return cached
    table: dict[str, str] = {}
    for decl in ctx.tree.root_node.named_children:
        if decl.type != "import_declaration":
            continue
        specs = []
        for child in decl.named_children:
            if child.type == "import_spec":
                specs.append(child)
            elif child.type == "import_spec_list":
                specs.extend(c for c in child.named_children if c.type == "import_spec")
        for spec in specs:
            path = text(spec.child_by_field_name("path")).strip("\"`")
            name = spec.child_by_field_name("name")
            if name is None:
                table[default_name(path)] = path
            elif name.type == "package_identifier":
                table[text(name)] = path
    ctx._k8sb_imports = table
    return table


def keyed_elements(literal_value_node) -> dict[str, tuple]:
    """``{Key: value}`` of a struct literal: key text -> (keyed_element, value node)."""
    out = {}
    if literal_value_node is None:
        return out
    for el in literal_value_node.named_children:
        if el.type == "keyed_element" and el.named_child_count >= 2:
            key = literal_value(el.named_children[0])
            out[text(key)] = (el, literal_value(el.named_children[-1]))
    return out


def pkg_member(ctx, node) -> Optional[tuple[str, str]]:
    """``(import path, name)`` for ``pkg.Name`` (a selector on an imported package)."""
    if node is None:
        return None
    if node.type == "qualified_type":
        pkg, name = node.child_by_field_name("package"), node.child_by_field_name("name")
    elif node.type == "selector_expression":
        pkg, name = node.child_by_field_name("operand"), node.child_by_field_name("field")
        if pkg is None or pkg.type != "identifier":
            return None
    else:
        return None
    path = go_imports(ctx).get(text(pkg))
    return (path, text(name)) if path is not None else None


def call_target(ctx, call) -> Optional[tuple[str, str]]:
    """``(import path, function)`` of a ``pkg.Func(...)`` call."""
    if call is None or call.type != "call_expression":
        return None
    fn = call.child_by_field_name("function")
    if fn is not None and fn.type == "generic_type":  # ptr.To[time.Duration](x) parses oddly
        fn = fn.child_by_field_name("type")
    return pkg_member(ctx, fn)


def call_args(call) -> list:
    args = call.child_by_field_name("arguments") if call is not None else None
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def method_name(call) -> str:
    fn = call.child_by_field_name("function") if call is not None else None
    if fn is not None and fn.type == "selector_expression":
        return text(fn.child_by_field_name("field"))
    return ""


def receiver(call):
    fn = call.child_by_field_name("function") if call is not None else None
    if fn is not None and fn.type == "selector_expression":
        return fn.child_by_field_name("operand")
    return None


def root_identifier(expr):
    """``pod`` for ``pod.Spec.Containers[0].Image``, ``*pod.Spec.Replicas``, ``(pod).X``."""
    node = expr
    while node is not None:
        t = node.type
        if t == "identifier":
            return node
        if t == "selector_expression":
            node = node.child_by_field_name("operand")
        elif t in ("index_expression", "slice_expression"):
            node = node.child_by_field_name("operand")
        elif t == "parenthesized_expression" and node.named_child_count:
            node = node.named_children[0]
        elif t == "unary_expression" and text(node.child_by_field_name("operator")) in ("*", "&"):
            node = node.child_by_field_name("operand")
        else:
            return None
    return None


def enclosing_function(node):
    node = node.parent if node is not None else None
    while node is not None and node.type not in FUNCS:
        node = node.parent
    return node


def is_immediately_called(func_literal) -> bool:
    """``func(){...}()`` and ``go func(){...}()``: the literal runs where it stands."""
    parent = func_literal.parent
    return parent is not None and parent.type == "call_expression" and \
        parent.child_by_field_name("function") is not None and \
        parent.child_by_field_name("function").id == func_literal.id


def walk(node, *, into_funcs: bool = False) -> Iterator:
    """Pre-order walk of ``node``'s descendants (not entering nested function literals)."""
    stack = list(reversed(node.named_children))
    while stack:
        n = stack.pop()
        yield n
        if n.type in FUNCS and not into_funcs:
            continue
        stack.extend(reversed(n.named_children))


def enclosing_loops(node) -> Iterator:
    """The ``for`` statements around ``node`` in its function, innermost first; a
    function literal ends the search unless it is called right where it stands."""
    cur = node.parent
    child = node
    while cur is not None:
        if cur.type == "for_statement":
            body = cur.child_by_field_name("body")
            if body is not None and body.id == child.id:
                yield cur
        elif cur.type == "func_literal":
            if not is_immediately_called(cur):
                return
        elif cur.type in ("function_declaration", "method_declaration"):
            return
        child = cur
        cur = cur.parent


def loop_header(loop):
    """(kind, clause): kind is "infinite" (``for {}``), "cond" (``for x {}``),
    "clause" (``for i := 0; i < n; i++``) or "range"."""
    for c in loop.named_children:
        if c.type == "for_clause":
            return "clause", c
        if c.type == "range_clause":
            return "range", c
    body = loop.child_by_field_name("body")
    for c in loop.named_children:
        if body is not None and c.id == body.id:
            continue
        if c.type != "comment":
            return "cond", c
    return "infinite", None


def is_bounded_loop(loop) -> bool:
    """A counting loop: ``for i := 0; i < 5; i++`` (any bound without a call in it,
    so a retry budget), ``for i := range 5`` / ``for range retries``
    (Go 1.22 integer range)."""
    kind, clause = loop_header(loop)
    if kind == "clause":
        cond = clause.child_by_field_name("condition")
        update = clause.child_by_field_name("update")
        if cond is None or update is None:
            return False
        counters = loop_variables(loop) | identifiers_in(update)
        return any(_counter_test(c, counters) for c in _conjuncts(cond))
    if kind == "range":
        right = clause.child_by_field_name("right")
        if right is not None and right.type == "int_literal":
            return True
        if right is not None and right.type == "identifier":
            name = text(right).lower()
            return any(w in name for w in ("retr", "attempt", "tries", "max"))
    return False


def _conjuncts(cond) -> list:
    """``a && b && c`` -> [a, b, c]."""
    while cond is not None and cond.type == "parenthesized_expression" and cond.named_child_count:
        cond = cond.named_children[0]
    if cond is not None and cond.type == "binary_expression" and text(cond.child_by_field_name("operator")) == "&&":
        return _conjuncts(cond.child_by_field_name("left")) + _conjuncts(cond.child_by_field_name("right"))
    return [cond] if cond is not None else []


def _counter_test(cond, counters: set[str]) -> bool:
    """``i < 5``, ``i < maxRetries``, ``i < len(x)``, ``n > 0``: a counter against a bound
    (not a clock: ``time.Since(start) < timeout`` has a call)."""
    if cond.type != "binary_expression":
        return False
    if text(cond.child_by_field_name("operator")) not in ("<", "<=", ">", ">=", "!="):
        return False
    left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
    if left is None or right is None or text(left) not in counters:
        return False
    return not any(n.type == "call_expression" for n in walk(cond)) or text(right).startswith("len(")


def loop_variables(loop) -> set[str]:
    kind, clause = loop_header(loop)
    names: set[str] = set()
    if kind == "range":
        left = clause.child_by_field_name("left")
        if left is not None:
            names |= {text(n) for n in left.named_children if n.type == "identifier"}
    elif kind == "clause":
        init = clause.child_by_field_name("initializer")
        if init is not None and init.type == "short_var_declaration":
            left = init.child_by_field_name("left")
            names |= {text(n) for n in left.named_children if n.type == "identifier"}
    names.discard("_")
    return names


def loop_level_nodes(loop) -> Iterator:
    """Descendants of a loop's body that run once per iteration of THIS loop:
    nested loops and function literals are not entered."""
    body = loop.child_by_field_name("body")
    if body is None:
        return
    stack = list(reversed(body.named_children))
    while stack:
        n = stack.pop()
        yield n
        if n.type in FUNCS or n.type == "for_statement":
            continue
        stack.extend(reversed(n.named_children))


def breaks_loop(loop) -> bool:
    """A plain ``break`` that leaves this loop (not one of a nested switch/select)."""
    body = loop.child_by_field_name("body")
    if body is None:
        return False
    stack = list(body.named_children)
    while stack:
        n = stack.pop()
        if n.type == "break_statement":
            label = n.named_children[0] if n.named_child_count else None
            if label is None:
                return True
            parent = loop.parent
            if parent is not None and parent.type == "labeled_statement" and \
                    text(parent.named_children[0]) == text(label):
                return True
            continue
        if n.type in FUNCS or n.type in ("for_statement", "expression_switch_statement",
                                         "type_switch_statement", "select_statement"):
            # a labelled break inside still may leave our loop
            stack.extend(x for x in walk(n) if x.type == "break_statement" and x.named_child_count)
            continue
        stack.extend(n.named_children)
    return False


def identifiers_in(node) -> set[str]:
    if node is None:
        return set()
    out = {text(n) for n in walk(node, into_funcs=True) if n.type == "identifier"}
    if node.type == "identifier":
        out.add(text(node))
    return out


def params(fn) -> list[tuple[list[str], object]]:
    """``[(names, type node)]`` of a function's parameters."""
    plist = fn.child_by_field_name("parameters") if fn is not None else None
    out = []
    if plist is None:
        return out
    for p in plist.named_children:
        if p.type in ("parameter_declaration", "variadic_parameter_declaration"):
            out.append(([text(n) for n in p.children_by_field_name("name")], p.child_by_field_name("type")))
    return out


def type_ref(ctx, type_node) -> Optional[tuple[str, str]]:
    """(import path, name) of a (pointer to a) qualified type; ("", name) for a local type."""
    t = strip_pointer(type_node)
    if t is None:
        return None
    if t.type == "generic_type":
        t = t.child_by_field_name("type")
    if t is not None and t.type == "qualified_type":
        return pkg_member(ctx, t)
    if t is not None and t.type == "type_identifier":
        return ("", text(t))
    return None


FRAMEWORK_CONTEXTS = ("github.com/gin-gonic/gin", "github.com/labstack/echo", "github.com/gofiber/fiber")


def handler_kind(ctx, fn) -> Optional[str]:
    """A description if ``fn`` serves one request per call: an HTTP handler
    ``(w http.ResponseWriter, r *http.Request)``, a gin/echo/fiber handler, or a
    controller-runtime ``Reconcile(ctx, req)``."""
    ps = params(fn)
    types = [type_ref(ctx, t) for _, t in ps]
    if (NET_HTTP, "ResponseWriter") in types and (NET_HTTP, "Request") in types:
        return "HTTP handler"
    for t in types:
        if t is not None and t[0].startswith(FRAMEWORK_CONTEXTS) and t[1] in ("Context", "Ctx"):
            return f"{default_name(t[0])} handler"  # gin, echo, fiber
    if fn.type == "method_declaration" and text(fn.child_by_field_name("name")) == "Reconcile" and len(types) == 2:
        t = types[1]
        if t is not None and t[1] == "Request" and t[0] in (CTRL, CTRL_RECONCILE):
            return "controller-runtime Reconcile (called once per event)"
    return None


# ---- constants and durations ----

def _declarations(scope, name: str):
    """(kind, value node, statement) of declarations of ``name`` directly in
    ``scope`` (a function body or the file), not entering nested functions."""
    root_level = scope.type == "source_file"
    nodes = scope.named_children if root_level else walk(scope)
    for n in nodes:
        if n.type in ("const_declaration", "var_declaration"):
            specs = [c for c in walk(n) if c.type in ("const_spec", "var_spec")]
            for spec in specs:
                names = spec.children_by_field_name("name")
                value = spec.child_by_field_name("value")
                vals = value.named_children if value is not None else []
                for i, nm in enumerate(names):
                    if text(nm) == name:
                        kind = "const" if spec.type == "const_spec" else "var"
                        yield kind, vals[i] if i < len(vals) and len(vals) == len(names) else None, spec
        elif not root_level and n.type == "short_var_declaration":
            left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
            ls = left.named_children if left is not None else []
            rs = right.named_children if right is not None else []
            for i, nm in enumerate(ls):
                if text(nm) == name:
                    yield "var", rs[i] if len(rs) == len(ls) else None, n


def _mutated(scope, name: str, allowed) -> bool:
    """``name`` is assigned, incremented or has its address taken in ``scope``
    (outside the node ``allowed``)."""
    for n in walk(scope, into_funcs=True):
        if allowed is not None and allowed.start_byte <= n.start_byte < allowed.end_byte:
            continue
        if n.type == "assignment_statement":
            left = n.child_by_field_name("left")
            if left is not None and any(x.type == "identifier" and text(x) == name for x in left.named_children):
                return True
        elif n.type in ("inc_statement", "dec_statement"):
            if n.named_child_count and text(n.named_children[0]) == name:
                return True
        elif n.type == "unary_expression" and text(n.child_by_field_name("operator")) == "&":
            operand = n.child_by_field_name("operand")
            if operand is not None and operand.type == "identifier" and text(operand) == name:
                return True
    return False


def resolve_constant(ctx, ident, allowed=None):
    """The initial value expression of the const/var ``ident`` names, when it is
    declared once in the enclosing function (or at file level) and never
    changed (assigned or its address taken outside ``allowed``); else None."""
    name = text(ident)
    fn = enclosing_function(ident)
    while fn is not None:
        body = fn.child_by_field_name("body")
        decls = [d for d in _declarations(body, name)] if body is not None else []
        decls = [d for d in decls if d[2].start_byte < ident.start_byte]
        if decls:
            if len(decls) != 1 or decls[0][1] is None:
                return None
            kind, value, _ = decls[0]
            if kind == "var" and _mutated(body, name, allowed):
                return None
            return value
        if any(name in ns for ns, _ in params(fn)):
            return None
        fn = enclosing_function(fn)
    root = ctx.tree.root_node
    decls = list(_declarations(root, name))
    if len(decls) != 1 or decls[0][1] is None:
        return None
    kind, value, _ = decls[0]
    if kind == "var" and _mutated(root, name, allowed):
        return None
    return value


_POINTER_HELPERS = {
    ("k8s.io/utils/ptr", "To"), ("k8s.io/utils/pointer", "Duration"),
    ("k8s.io/utils/pointer", "DurationPtr"),
}


def eval_duration(ctx, node, allowed=None, depth: int = 0) -> Optional[float]:
    """The value in nanoseconds of a constant Go duration expression, else None:
    literals, ``time.Second``..., ``* / + -``, ``time.Duration(x)``,
    ``metav1.Duration{Duration: x}``, ``&x``/``ptr.To(x)`` of such a value and
    constants (or never-changed variables) initialised with one."""
    if node is None or depth > 6:
        return None
    t = node.type
    if t == "literal_element":
        return eval_duration(ctx, literal_value(node), allowed, depth + 1)
    if t == "int_literal":
        try:
            return float(int(text(node).replace("_", ""), 0))
        except ValueError:
            return None
    if t == "float_literal":
        try:
            return float(text(node).replace("_", ""))
        except ValueError:
            return None
    if t == "parenthesized_expression" and node.named_child_count:
        return eval_duration(ctx, node.named_children[0], allowed, depth + 1)
    if t == "unary_expression":
        op = text(node.child_by_field_name("operator"))
        v = eval_duration(ctx, node.child_by_field_name("operand"), allowed, depth + 1)
        if v is None:
            return None
        return v if op in ("&", "+") else -v if op == "-" else None
    if t == "selector_expression":
        m = pkg_member(ctx, node)
        if m is not None and m[0] == TIME and m[1] in TIME_UNITS:
            return TIME_UNITS[m[1]]
        return None
    if t == "binary_expression":
        op = text(node.child_by_field_name("operator"))
        a = eval_duration(ctx, node.child_by_field_name("left"), allowed, depth + 1)
        b = eval_duration(ctx, node.child_by_field_name("right"), allowed, depth + 1)
        if a is None or b is None:
            return None
        if op == "*":
            return a * b
        if op == "/":
            return a / b if b else None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        return None
    if t == "call_expression":
        target = call_target(ctx, node)
        args = call_args(node)
        if len(args) == 1 and (target == (TIME, "Duration") or target in _POINTER_HELPERS):
            return eval_duration(ctx, args[0], allowed, depth + 1)
        return None
    if t == "composite_literal":
        if pkg_member(ctx, node.child_by_field_name("type")) == (METAV1, "Duration"):
            kv = keyed_elements(node.child_by_field_name("body"))
            if "Duration" in kv:
                return eval_duration(ctx, kv["Duration"][1], allowed, depth + 1)
        return None
    if t == "identifier":
        value = resolve_constant(ctx, node, allowed)
        return eval_duration(ctx, value, allowed, depth + 1) if value is not None else None
    return None


def fmt_duration(ns: float) -> str:
    """``15s``, ``1m30s``, ``500ms`` like Go's Duration.String (roughly)."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1e9:
        for unit, size in (("ms", 1e6), ("µs", 1e3), ("ns", 1.0)):
            if ns >= size:
                v = ns / size
                return f"{sign}{v:g}{unit}"
    total = ns / 1e9
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    out = ""
    if h:
        out += f"{int(h)}h"
    if h or m:
        out += f"{int(m)}m"
    out += f"{s:g}s"
    return sign + out


# ------------------------------------------------------------------- Python

K8S_PY_PREFIXES = ("kubernetes.", "kubernetes_asyncio.")


def is_k8s_name(qname: str) -> bool:
    return qname.startswith(K8S_PY_PREFIXES)
