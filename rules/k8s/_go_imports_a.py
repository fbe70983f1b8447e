"""Shared Go helpers for the K8S001-K8S005 rules (no rule classes here).

Everything works on tree-sitter-go nodes: the file's import table (so that
``corev1``, ``metav1``, ``kubeinformers`` or a bare ``v1`` resolve to their
import paths), enclosing functions and their names, local declarations,
keyed elements in both grammar shapes, and the evaluation of Go
``time.Duration`` expressions to nanoseconds.
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from cnlint import Option
from cnlint.golang import import_specs as _import_specs
from cnlint.golang import literal_value, strip_pointer, text  # noqa: F401 - the K8S rules use them from here
from cnlint.golang import unwrap as _unwrap

# ---- import paths ----
CORE_V1 = "k8s.io/api/core/v1"
POLICY_V1 = "k8s.io/api/policy/v1"
META_V1 = "k8s.io/apimachinery/pkg/apis/meta/v1"
WATCH = "k8s.io/apimachinery/pkg/watch"
CACHE = "k8s.io/client-go/tools/cache"
WATCHTOOLS = "k8s.io/client-go/tools/watch"
TIME = "time"
CONTROLLER_RUNTIME = "sigs.k8s.io/controller-runtime"

FUNCS = ("function_declaration", "method_declaration", "func_literal")
NAMED_FUNCS = ("function_declaration", "method_declaration")

SKIP_TEST_FILES = "skip-test-files"
SKIP_TEST_FILES_OPTION = Option(
    True,
    "do not report in test code (`ctx.is_test_code`: `*_test.go`, `test_*.py`, `test/`, `testdata/`, "
    "test-helper packages such as `testing/`, `fake/`, `e2e/`, test doubles; config `test-code`): fake "
    "clientsets and e2e fixtures manipulate pods, watches and informers in ways that are harmless there",
)


def in_source(ctx, node, *needles: bytes) -> bool:
    """Whether any of ``needles`` occurs in the source text of ``node`` (no copy)."""
    data = ctx.source.data
    return any(data.find(n, node.start_byte, node.end_byte) >= 0 for n in needles)


_VERSION_ELEM = re.compile(r"^v[0-9]+((alpha|beta)[0-9]+)?$")


def default_package_name(path: str) -> str:
    """The package name Go gives an import without an alias.

    Kubernetes API packages are named after their version (``k8s.io/api/core/v1``
    is package ``v1``); only a module's major-version suffix
    (``github.com/org/repo/v2``) names the element before it.
    """
    parts = path.split("/")
    last = parts[-1]
    if _VERSION_ELEM.match(last) and not path.startswith(("k8s.io/", "sigs.k8s.io/")) \
            and len(parts) == 4 and re.match(r"^v[0-9]+$", last):
        last = parts[-2]
    return re.sub(r"[^A-Za-z0-9_]", "", last.split(".")[0])


class PerFileGo:
    """Mixin for Go rules: ``self.go`` is the ``GoFile`` of the file being
    checked, built on first use and once per file."""

    _file_ctx = None
    _go: Optional["GoFile"] = None

    @property
    def go(self) -> "GoFile":
        if self._file_ctx is not self.ctx:
            self._file_ctx = self.ctx
            self._go = GoFile(self.ctx.tree.root_node)
        return self._go


class GoFile:
    """Per-file facts shared by one rule's checks (built lazily, once per file)."""

    def __init__(self, root):
        self.root = root
        self.imports: dict[str, str] = {}  # package name used in the file -> import path
        self.import_decls = []
        for decl in root.named_children:
            if decl.type != "import_declaration":
                continue
            self.import_decls.append(decl)
            for spec in _import_specs(decl):
                path = text(spec.child_by_field_name("path")).strip("\"`")
                name = spec.child_by_field_name("name")
                if name is None:
                    self.imports[default_package_name(path)] = path
                elif name.type == "package_identifier":
                    self.imports[text(name)] = path

    def path_of(self, name: str) -> Optional[str]:
        return self.imports.get(name)

    def alias_for(self, path: str) -> Optional[str]:
        return next((n for n, p in self.imports.items() if p == path), None)

    def imports_prefix(self, *prefixes: str) -> bool:
        return any(p.startswith(prefixes) for p in self.imports.values())

    def is_pkg(self, node, path: str) -> bool:
        """Whether ``node`` is an identifier naming the import ``path``."""
        return node is not None and node.type in ("identifier", "package_identifier") \
            and self.imports.get(text(node)) == path

    def qualified(self, node) -> Optional[tuple[str, str]]:
        """(import path, name) of ``pkg.Name`` (a selector or a qualified type)."""
        if node is None:
            return None
        if node.type == "selector_expression":
            operand, field = node.child_by_field_name("operand"), node.child_by_field_name("field")
            if operand is not None and operand.type == "identifier" and text(operand) in self.imports:
                return self.imports[text(operand)], text(field)
        elif node.type == "qualified_type":
            pkg, name = node.child_by_field_name("package"), node.child_by_field_name("name")
            if text(pkg) in self.imports:
                return self.imports[text(pkg)], text(name)
        elif node.type == "generic_type":
            return self.qualified(node.child_by_field_name("type"))
        return None

    def import_edit_point(self, stdlib: bool = False) -> tuple[int, str, str]:
        """Where and how to add an import: (byte, prefix, suffix) around a spec.
        A standard-library package goes first in the import block (where gofmt
        keeps that group), any other last."""
        for decl in self.import_decls:
            for child in decl.named_children:
                if child.type == "import_spec_list":
                    first, close = child.children[0], child.children[-1]
                    if stdlib and first.type == "(":
                        nl = self.root.text.find(b"\n", first.end_byte)
                        if 0 <= nl < close.start_byte:
                            specs = [c for c in child.named_children if c.type == "import_spec"]
                            first_path = text(specs[0].child_by_field_name("path")).strip("\"`") if specs else ""
                            own_group = specs and "." in first_path.split("/")[0]
                            return nl + 1, "\t", "\n\n" if own_group else "\n"
                    return close.start_byte, "\t", "\n"
        if self.import_decls:
            last = self.import_decls[-1]
            return last.end_byte, "\nimport ", ""
        pkg = next((c for c in self.root.named_children if c.type == "package_clause"), None)
        return (pkg.end_byte if pkg is not None else 0), "\n\nimport ", ""


def ensure_import(rule, gofile: GoFile, path: str, preferred: str):
    """The name to use for package ``path`` and an edit adding the import when
    the file lacks it (None when present)."""
    have = gofile.alias_for(path)
    if have is not None:
        return have, None
    byte, prefix, suffix = gofile.import_edit_point(stdlib="." not in path.split("/")[0])
    default = default_package_name(path)
    spec = f'"{path}"' if preferred == default else f'{preferred} "{path}"'
    return preferred, rule.insert(byte, prefix + spec + suffix)


# ---- syntax helpers ----
def unwrap(node):
    """Strip parentheses, ``&`` and ``*`` from an expression."""
    return _unwrap(node, deref=True)


def keyed(elem) -> tuple[str, object]:
    """(key name, value node) of a ``keyed_element``, for both grammar shapes:
    ``literal_element (identifier)`` (tree-sitter-go >= 0.21) and a bare
    ``field_identifier`` (older grammars)."""
    if elem is None or elem.type != "keyed_element" or elem.named_child_count < 2:
        return "", None
    key = literal_value(elem.named_children[0])
    return text(key), literal_value(elem.named_children[-1])


def keyed_elements(body) -> Iterator[tuple[str, object, object]]:
    """(key, value, element) of each keyed element of a ``literal_value``."""
    if body is None:
        return
    for el in body.named_children:
        if el.type == "keyed_element":
            k, v = keyed(el)
            yield k, v, el


def args_of(call) -> list:
    args = call.child_by_field_name("arguments") if call is not None else None
    return [a for a in args.named_children if a.type != "comment"] if args is not None else []


def selector_parts(call) -> tuple[object, str]:
    """(operand, field name) of a call ``operand.Field(...)`` (else (None, ""))."""
    fn = call.child_by_field_name("function") if call is not None else None
    if fn is None or fn.type != "selector_expression":
        return None, ""
    return fn.child_by_field_name("operand"), text(fn.child_by_field_name("field"))


def enclosing(node, types) -> Optional[object]:
    node = node.parent if node is not None else None
    while node is not None and node.type not in types:
        node = node.parent
    return node


def function_name(node) -> str:
    """Name of the nearest named function (declaration or method) around ``node``."""
    fn = enclosing(node, NAMED_FUNCS)
    return text(fn.child_by_field_name("name")) if fn is not None else ""


def walk(node, enter_funcs: bool = True) -> Iterator:
    """Pre-order walk of ``node``'s named descendants (and itself)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if not enter_funcs and n is not node and n.type == "func_literal":
            continue
        stack.extend(reversed(n.named_children))


def contains(outer, inner) -> bool:
    return outer.start_byte <= inner.start_byte and inner.end_byte <= outer.end_byte


_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def words(identifier: str) -> list[str]:
    """``scaleDownNodes`` -> ["scale", "down", "nodes"]; ``drain_node`` -> ["drain", "node"]."""
    return [w.lower() for w in _WORD.findall(identifier)]


_DRAIN_PREFIXES = ("drain", "evict", "rebalanc", "restart", "cordon", "scaledown")
_MOVE = {"move", "moves", "moved", "moving"}


def drain_like(name: str) -> Optional[str]:
    """The word of a function name that says it drains/evicts/moves pods, or None."""
    ws = words(name)
    for i, w in enumerate(ws):
        if w.startswith(_DRAIN_PREFIXES) or w in _MOVE:
            return w
        if w == "scale" and i + 1 < len(ws) and ws[i + 1] == "down":
            return "scale down"
    return None


_NODE_VERBS = {"delete", "remove", "clear", "clean", "cleanup", "empty", "purge", "kill", "migrate",
               "vacate", "free", "decommission", "retire", "replace", "recycle", "terminate", "wipe"}


def empties_node(name: str) -> bool:
    """A function name about removing the pods of a node: ``DeletePodsInNode``, ``clear_node``."""
    ws = set(words(name))
    return bool(ws & {"node", "nodes"}) and bool(ws & _NODE_VERBS)


def drain_verb(word: str) -> str:
    """How a message says what a function named after ``word`` does to pods."""
    for prefix, verb in (("drain", "drains"), ("evict", "evicts"), ("rebalanc", "rebalances"),
                         ("restart", "restarts"), ("cordon", "cordons and drains"), ("scale", "scales down"),
                         ("move", "moves")):
        if word.startswith(prefix):
            return verb
    return "moves"


def selects_finished(cond: str, finished: "re.Pattern", lang: str = "go") -> bool:
    """Whether a condition only lets finished pods through: every ``||``
    alternative has a clause that tests for a finished state positively
    (``== PodFailed``, ``isTerminal(p)``; not ``!=``, ``!isTerminal``, ``not in``)."""
    or_op, and_op = ("||", "&&") if lang == "go" else (" or ", " and ")

    def clause(c: str) -> bool:
        c = c.strip().lstrip("(").strip()
        if not finished.search(c) or "!=" in c:
            return False
        return not (c.startswith("!") if lang == "go" else re.search(r"\bnot\b", c))

    return all(any(clause(c) for c in part.split(and_op)) for part in cond.split(or_op))


# ---- local declarations ----
def declarations(scope, name: str) -> Iterator[tuple[str, object, int, object]]:
    """Declarations of ``name`` in ``scope`` (a function or the file), as
    (kind, node, start byte, statement): kind "value" (node: the initial
    value; for ``a, b := f()`` the call, with kind "multi"), "type" (node: the
    declared type), "range" (node: the range expression), or "param"."""
    if scope.type == "source_file":
        stack = [n for n in reversed(scope.named_children) if n.type in ("var_declaration", "const_declaration")]
    else:
        stack = [scope.child_by_field_name("parameters"), scope.child_by_field_name("receiver"),
                 scope.child_by_field_name("body")]
        stack = [n for n in reversed(stack) if n is not None]
    while stack:
        node = stack.pop()
        t = node.type
        if t == "func_literal":
            continue
        if t == "short_var_declaration" or (t == "assignment_statement"
                                            and text(node.child_by_field_name("operator")) == "="):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            ls = left.named_children if left is not None else []
            rs = right.named_children if right is not None else []
            for i, n in enumerate(ls):
                if n.type == "identifier" and text(n) == name:
                    if len(rs) == len(ls):
                        yield "value", rs[i], node.start_byte, node
                    elif len(rs) == 1:
                        yield "multi", rs[0], node.start_byte, node
        elif t in ("var_spec", "const_spec"):
            names = node.children_by_field_name("name")
            typ = node.child_by_field_name("type")
            value = node.child_by_field_name("value")
            vals = value.named_children if value is not None else []
            for i, n in enumerate(names):
                if text(n) == name:
                    if len(vals) == len(names):
                        yield "value", vals[i], node.start_byte, node
                    elif typ is not None:
                        yield "type", typ, node.start_byte, node
        elif t == "parameter_declaration":
            if any(text(n) == name for n in node.children_by_field_name("name")):
                yield "param", node.child_by_field_name("type"), node.start_byte, node
        elif t == "range_clause":
            left = node.child_by_field_name("left")
            if left is not None:
                idents = left.named_children
                for i, n in enumerate(idents):
                    if text(n) == name:
                        yield ("range" if i == len(idents) - 1 and len(idents) == 2 else "range-key"), \
                            node.child_by_field_name("right"), node.start_byte, node
        stack.extend(reversed(node.named_children))


def resolve(node, name: str, depth_funcs: bool = True):
    """The last declaration of ``name`` before ``node``: in the enclosing
    functions (innermost first), then at file level. None when unknown."""
    scope = enclosing(node, FUNCS)
    while scope is not None:
        found = None
        for decl in declarations(scope, name):
            if decl[2] < node.start_byte and (found is None or decl[2] >= found[2]):
                found = decl
        if found is not None:
            return found
        if not depth_funcs:
            break
        scope = enclosing(scope, FUNCS)
    root = node
    while root.parent is not None:
        root = root.parent
    for decl in declarations(root, name):
        return decl
    return None


# ---- durations ----
UNITS = {
    "Nanosecond": 1, "Microsecond": 10**3, "Millisecond": 10**6,
    "Second": 10**9, "Minute": 60 * 10**9, "Hour": 3600 * 10**9,
}
_DUR_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DUR_RE = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)")


def parse_duration(s: str) -> int:
    """Nanoseconds in a Go duration string such as "1m", "90s", "1h30m"."""
    s = s.strip()
    if s in ("0", ""):
        return 0
    pos, total = 0, 0.0
    for m in _DUR_RE.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _DUR_UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s):
        raise ValueError(f"not a Go duration: {s!r} (write e.g. \"1m\", \"30s\", \"1h30m\")")
    return int(total)


def format_duration(ns: float) -> str:
    """Go's time.Duration.String() for whole values: 1h30m0s, 30s, 500ms, 60ns."""
    ns = int(ns)
    if ns == 0:
        return "0s"
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3)):
            if ns >= size and ns % size == 0:
                return f"{ns // size}{unit}"
        return f"{ns}ns"
    h, rest = divmod(ns, 3600 * 10**9)
    m, rest = divmod(rest, 60 * 10**9)
    s = rest / 10**9
    s_txt = f"{s:g}s"
    if h:
        return f"{h}h{m}m{s_txt}"
    if m:
        return f"{m}m{s_txt}"
    return s_txt


def _int_value(lit: str) -> Optional[float]:
    lit = lit.replace("_", "")
    try:
        if lit.lower().startswith(("0x", "0b", "0o")):
            return int(lit, 0)
        if len(lit) > 1 and lit.startswith("0") and lit.isdigit():
            return int(lit, 8)
        return int(lit)
    except ValueError:
        try:
            return float(lit)
        except ValueError:
            return None


class Duration:
    """The value of a duration expression: nanoseconds and whether a time
    unit (``time.Second``...) took part; ``ident`` names a constant it came from."""

    __slots__ = ("ns", "has_unit", "ident")

    def __init__(self, ns: float, has_unit: bool, ident: str = ""):
        self.ns, self.has_unit, self.ident = ns, has_unit, ident


def eval_duration(gofile: GoFile, node, depth: int = 0) -> Optional[Duration]:
    """Evaluate ``node`` as a ``time.Duration`` (None when it is not a constant
    expression this function understands: flags, fields, function results)."""
    if node is None or depth > 6:
        return None
    t = node.type
    if t == "literal_element":
        return eval_duration(gofile, literal_value(node), depth)
    if t in ("int_literal", "float_literal"):
        v = _int_value(text(node))
        return Duration(v, False) if v is not None else None
    if t == "parenthesized_expression" and node.named_child_count:
        return eval_duration(gofile, node.named_children[0], depth + 1)
    if t == "selector_expression":
        q = gofile.qualified(node)
        if q is not None and q[0] == TIME and q[1] in UNITS:
            return Duration(UNITS[q[1]], True)
        return None
    if t == "unary_expression":
        op = text(node.child_by_field_name("operator"))
        inner = eval_duration(gofile, node.child_by_field_name("operand"), depth + 1)
        if inner is None or op not in ("-", "+"):
            return None
        return Duration(-inner.ns if op == "-" else inner.ns, inner.has_unit, inner.ident)
    if t == "binary_expression":
        op = text(node.child_by_field_name("operator"))
        a = eval_duration(gofile, node.child_by_field_name("left"), depth + 1)
        b = eval_duration(gofile, node.child_by_field_name("right"), depth + 1)
        if a is None or b is None or op not in ("*", "/", "+", "-"):
            return None
        unit = a.has_unit or b.has_unit
        if op == "*":
            v = a.ns * b.ns
        elif op == "/":
            if b.ns == 0:
                return None
            v = a.ns / b.ns
            unit = a.has_unit and not b.has_unit  # time.Minute / time.Second is a plain 60
        elif op == "+":
            v = a.ns + b.ns
        else:
            v = a.ns - b.ns
        return Duration(v, unit, a.ident or b.ident)
    if t == "type_conversion_expression":
        typ = node.child_by_field_name("type")
        if (typ is not None and gofile.qualified(typ) == (TIME, "Duration")) or text(typ) in ("int64", "float64"):
            return eval_duration(gofile, node.child_by_field_name("operand"), depth + 1)
        return None
    if t == "call_expression":
        fn = node.child_by_field_name("function")
        args = args_of(node)
        if len(args) != 1:
            return None
        q = gofile.qualified(fn) if fn is not None else None
        if q == (TIME, "Duration") or (fn is not None and fn.type == "identifier"
                                       and text(fn) in ("int", "int64", "float64", "uint64")):
            return eval_duration(gofile, args[0], depth + 1)
        return None
    if t == "identifier":
        decl = resolve(node, text(node))
        if decl is None or decl[0] != "value":
            return None
        stmt = decl[3]
        if stmt.type == "assignment_statement":
            return None  # reassigned: not a constant
        if stmt.type in ("short_var_declaration", "var_spec") and _reassigned(stmt, text(node)):
            return None
        inner = eval_duration(gofile, decl[1], depth + 1)
        if inner is None:
            return None
        return Duration(inner.ns, inner.has_unit, inner.ident or text(node))
    return None


def _reassigned(decl_stmt, name: str) -> bool:
    """Whether ``name`` declared by ``decl_stmt`` is assigned again in its function."""
    fn = enclosing(decl_stmt, FUNCS)
    if fn is None:  # a package-level var: anywhere in the file
        fn = decl_stmt
        while fn.parent is not None:
            fn = fn.parent
    for n in walk(fn):
        if n.type in ("assignment_statement", "inc_statement", "dec_statement") and n is not decl_stmt:
            left = n.child_by_field_name("left") if n.type == "assignment_statement" else n
            if left is not None and any(c.type == "identifier" and text(c) == name for c in left.named_children):
                return True
        if n.type == "unary_expression" and text(n.child_by_field_name("operator")) == "&":
            op = n.child_by_field_name("operand")
            if op is not None and op.type == "identifier" and text(op) == name and \
                    n.parent is not None and n.parent.type == "argument_list":
                return True  # flag.DurationVar(&d, ...): set elsewhere
    return False
