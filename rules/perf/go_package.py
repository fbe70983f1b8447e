"""What PERF001 knows about a Go package without a type checker.

Package-level ``const`` and ``type`` declarations of every file of the
package (the ``.go`` files of the directory with the same ``package`` clause;
``_test.go`` files only when a test file is linted), read lazily, once per
directory and process, and only when a rule asks. Files are not fully parsed:
the top-level ``const``/``type`` declarations are cut out with a regular
expression (gofmt puts them at column 0) and only those are parsed, which is
a small fraction of a package's bytes.

It answers three questions:

* the value of a constant expression (``false``, ``!debug``, ``n > 2``,
  ``"a" == "b"``), for the dead code the compiler drops before escape
  analysis (``if false {...}``, ``if debug {...}`` with ``const debug =
  false``, statements after ``return``/``panic``). A constant defined twice
  with different values (per-OS files) is unknown, as are other packages'
  constants (``runtime.GOOS``);
* the kind of a type (struct, array, pointer, slice...) and the type of a
  struct's field, to tell ``&v.f`` of a local struct (an allocation) from
  ``&p.f`` through a pointer (none);
* the size of a type in bytes (64-bit layout) from basic types and
  same-package declarations, for the ``min-size`` option and for closures,
  which capture variables over 128 bytes by reference.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from functools import lru_cache

import tree_sitter as ts

try:  # the engine's cached parser when running inside cnlint
    from cnlint.backends.treesitter import parser as _ts_parser
except ImportError:  # pragma: no cover - standalone use
    import tree_sitter_go as _tsgo

    @lru_cache(maxsize=None)
    def _ts_parser(name: str) -> ts.Parser:
        return ts.Parser(ts.Language(_tsgo.language()))


PTR_SIZE = 8

BASIC_SIZES = {
    "bool": 1, "int8": 1, "uint8": 1, "byte": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
    "rune": 4, "float32": 4, "int": 8, "uint": 8, "uintptr": 8, "int64": 8, "uint64": 8, "float64": 8,
    "complex64": 8, "complex128": 16, "string": 16, "unsafe.Pointer": 8, "error": 16, "any": 16,
}
BASIC_ALIGN = {"complex128": 8, "complex64": 4, "string": 8, "error": 8, "any": 8}
PREDECLARED_TYPES = set(BASIC_SIZES) | {"comparable"}

# Kinds of types, as answered by TypeInfo.kind()
STRUCT, ARRAY, POINTER, SLICE, MAP, CHAN, FUNC, IFACE, BASIC, TYPEPARAM, NAMED, UNKNOWN = (
    "struct", "array", "pointer", "slice", "map", "chan", "func", "interface", "basic", "typeparam",
    "named", "unknown")
#: kinds whose values are one pointer word an interface holds directly (no boxing)
DIRECT_KINDS = {POINTER, MAP, CHAN, FUNC}
#: the kind of a type literal, by its tree-sitter node type
_TYPE_KINDS = {"pointer_type": POINTER, "slice_type": SLICE, "array_type": ARRAY,
               "implicit_length_array_type": ARRAY, "map_type": MAP, "channel_type": CHAN,
               "function_type": FUNC, "interface_type": IFACE, "struct_type": STRUCT}

_PACKAGE_RE = re.compile(rb"^package\s+([A-Za-z_][A-Za-z0-9_]*)", re.M)
_DECL_START = re.compile(rb"\n(?:const|type)\b")
# "type Name ..." / "const A, B = ..." / "const (" (group 2: a block)
_DECL_HEAD = re.compile(rb"(?:const|type)\s*(?:(\()|([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*))")
_BLOCK_MEMBER = re.compile(rb"^\s+([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)", re.M)
_ANY_TOP = re.compile(rb"\n(?:func|type|const|var|import)\b")
# func Name( / func Name[ / func (r *Recv) Name( / func (Recv[T]) Name(
_FUNC_DECL = re.compile(rb"\nfunc\s*(?:\(\s*(?:[A-Za-z_][A-Za-z0-9_]*\s+)?\*?\s*([A-Za-z_][A-Za-z0-9_]*)"
                        rb"(?:\[[^\]]*\])?\s*\)\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*[\[(]")


class Type:
    """A type as written in the source (``node``), or a pointer to one (``ptr``).

    ``scope`` is the set of type parameter names visible where it was written.
    """

    __slots__ = ("node", "ptr", "basic", "tparams")

    def __init__(self, node=None, ptr: "Type | None" = None, basic: str | None = None,
                 tparams: frozenset = frozenset()):
        self.node, self.ptr, self.basic, self.tparams = node, ptr, basic, tparams

    def text(self) -> str:
        if self.ptr is not None:
            return "*" + self.ptr.text()
        if self.basic is not None:
            return self.basic
        return _text(self.node)


def _text(node) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else "?"


def _unparen_type(node):
    while node is not None and node.type in ("parenthesized_type", "type_elem") and node.named_children:
        node = node.named_children[0]
    return node


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

class Unknown(Exception):
    pass


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "0": "\0"}


def _int_literal(text: str) -> int:
    t = text.replace("_", "").lower()
    if t.startswith(("0x", "0b", "0o")):
        return int(t, 0)
    if len(t) > 1 and t.startswith("0") and t.isdigit():
        return int(t, 8)
    return int(t)


def _string_literal(node) -> str:
    raw = _text(node)
    if node.type == "raw_string_literal":
        return raw[1:-1]
    body = raw[1:-1]
    if "\\" not in body:
        return body
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise Unknown()


class ConstEnv:
    """Constant values by name: a function's own ``const`` declarations on top
    of the package's. ``lookup(name)`` raises Unknown for anything else."""

    def __init__(self, package: "PackageIndex | None", local: dict | None = None):
        self.package = package
        self.local = local or {}

    def lookup(self, name: str):
        if name in self.local:
            v = self.local[name]
            if v is _UNKNOWN:
                raise Unknown()
            return v
        if name in ("true", "false"):
            return name == "true"
        if self.package is not None:
            return self.package.const_value(name)
        raise Unknown()


_UNKNOWN = object()
NOT_CONST = _UNKNOWN  # a name in ConstEnv.local that is not a constant (a local variable)


def evaluate(node, env: ConstEnv, iota: int | None = None):
    """The value of a constant expression, or raise Unknown."""
    t = node.type
    if t == "true":
        return True
    if t == "false":
        return False
    if t == "int_literal":
        return _int_literal(_text(node))
    if t == "float_literal":
        try:
            return float(_text(node).replace("_", ""))
        except ValueError:
            raise Unknown()
    if t in ("interpreted_string_literal", "raw_string_literal"):
        return _string_literal(node)
    if t == "rune_literal":
        s = _text(node)[1:-1]
        if len(s) == 1:
            return ord(s)
        if s.startswith("\\") and len(s) == 2 and s[1] in _ESCAPES:
            return ord(_ESCAPES[s[1]])
        raise Unknown()
    if t == "parenthesized_expression":
        return evaluate(node.named_children[0], env, iota)
    if t == "identifier":
        name = _text(node)
        if name == "iota" and iota is not None:
            return iota
        return env.lookup(name)
    if t == "unary_expression":
        op = node.child_by_field_name("operator").type
        v = evaluate(node.child_by_field_name("operand"), env, iota)
        if op == "!" and isinstance(v, bool):
            return not v
        if op == "-" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v
        if op == "+" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
        if op == "^" and isinstance(v, int) and not isinstance(v, bool):
            return ~v
        raise Unknown()
    if t == "binary_expression":
        op = node.child_by_field_name("operator").type
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if op == "&&":
            a = evaluate(left, env, iota)
            return bool(a) and bool(evaluate(right, env, iota)) if a else False
        if op == "||":
            a = evaluate(left, env, iota)
            return True if a else bool(evaluate(right, env, iota))
        a, b = evaluate(left, env, iota), evaluate(right, env, iota)
        if isinstance(a, bool) != isinstance(b, bool) or isinstance(a, str) != isinstance(b, str):
            raise Unknown()
        try:
            if op == "==":
                return a == b
            if op == "!=":
                return a != b
            if op == "<":
                return a < b
            if op == "<=":
                return a <= b
            if op == ">":
                return a > b
            if op == ">=":
                return a >= b
            if isinstance(a, bool):
                raise Unknown()
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            if op == "/":
                return a // b if isinstance(a, int) and isinstance(b, int) else a / b
            if op == "%":
                return a % b
            if op == "<<":
                return a << b
            if op == ">>":
                return a >> b
            if op == "&":
                return a & b
            if op == "|":
                return a | b
            if op == "^":
                return a ^ b
            if op == "&^":
                return a & ~b
        except (TypeError, ZeroDivisionError, ValueError, OverflowError):
            raise Unknown()
        raise Unknown()
    if t == "call_expression":
        fn = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        argv = args.named_children if args is not None else []
        if fn is not None and fn.type == "identifier" and len(argv) == 1:
            name = _text(fn)
            if name == "len":
                v = evaluate(argv[0], env, iota)
                if isinstance(v, str):
                    return len(v.encode("utf-8"))
                raise Unknown()
            if name in BASIC_SIZES or (env.package is not None and env.package.has_type(name)):
                return evaluate(argv[0], env, iota)  # a conversion keeps the value
        raise Unknown()
    if t == "type_conversion_expression":
        return evaluate(node.child_by_field_name("operand"), env, iota)
    raise Unknown()


def static_bool(node, env: ConstEnv) -> int:
    """The compiler's ``staticBool``: +1 always true, -1 always false, 0 unknown."""
    try:
        v = evaluate(node, env)
        if isinstance(v, bool):
            return 1 if v else -1
        return 0
    except Unknown:
        pass
    while node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    if node.type == "unary_expression" and node.child_by_field_name("operator").type == "!":
        # sic: the compiler returns the operand's answer unchanged here
        return static_bool(node.child_by_field_name("operand"), env)
    if node.type == "binary_expression":
        op = node.child_by_field_name("operator").type
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op == "&&":
            x = static_bool(left, env)
            if x < 0:
                return x
            y = static_bool(right, env)
            if x > 0 or y < 0:
                return y
        elif op == "||":
            x = static_bool(left, env)
            if x > 0:
                return x
            y = static_bool(right, env)
            if x < 0 or y > 0:
                return y
    return 0


# ---------------------------------------------------------------------------
# The package index
# ---------------------------------------------------------------------------

class PackageIndex:
    """Package-level ``const`` and ``type`` declarations of one package."""

    def __init__(self, directory: str, package: str, with_tests: bool):
        self.directory = directory
        self.package = package
        self.with_tests = with_tests
        self._consts: dict[str, list] | None = None  # name -> [(value expr, iota, file key)]
        self._types: dict[str, list] | None = None  # name -> [(type node, tparam names)]
        self._const_values: dict[str, object] = {}
        self._trees: list = []  # keep the parsed snippets alive
        self._files: list[tuple[str, bytes]] | None = None
        self._funcs: dict = {}
        self._func_index: dict | None = None
        self._callables: tuple | None = None
        self._decls_by_name: dict | None = None
        #: function summaries computed by go_flow (shared by the package's files)
        self.summaries: dict = {}

    def files(self) -> list[tuple[str, bytes]]:
        """(name, bytes) of the package's files."""
        if self._files is None:
            self._files = [(name, data) for name, data, package in _directory_files(self.directory)
                           if package == self.package and (self.with_tests or not name.endswith("_test.go"))]
        return self._files

    def _funcs_by_name(self) -> dict:
        if self._func_index is None:
            self._func_index = {}
            for fname, data in self.files():
                for m in _FUNC_DECL.finditer(data):
                    r = m.group(1)
                    k = (m.group(2).decode(), r.decode() if r else None)
                    self._func_index.setdefault(k, []).append((data, m.start() + 1))
        return self._func_index

    def callable_names(self) -> tuple[frozenset, frozenset, frozenset]:
        """(function names, method names of any receiver, const and type
        names) declared in the package, from the name index only (nothing is
        parsed): whether a call ``f(x)`` or ``v.M(x)`` can be a call of
        this package's code or a conversion to one of its types."""
        if self._callables is None:
            index = self._funcs_by_name()
            self._index()
            self._callables = (frozenset(n for n, r in index if r is None),
                               frozenset(n for n, r in index if r is not None),
                               frozenset(self._decl_chunks))
        return self._callables

    def func_decl(self, name: str, recv: str | None = None):
        """The declaration node of a package-level function (or of method
        ``name`` of type ``recv``), if exactly one file declares it."""
        key = (name, recv)
        if key in self._funcs:
            return self._funcs[key]
        node = None
        hits = self._funcs_by_name().get(key, ())
        if len(hits) == 1:
            data, start = hits[0]
            end = _ANY_TOP.search(data, start)
            chunk = data[start:end.start() + 1 if end is not None else len(data)]
            tree = _ts_parser("go").parse(b"package p\n" + chunk)
            self._trees.append(tree)
            node = next((c for c in tree.root_node.children
                         if c.type in ("function_declaration", "method_declaration")), None)
        self._funcs[key] = node
        return node

    def func_decls(self, name: str) -> list:
        """The declarations of every function and method named ``name`` that
        one file declares once (a method name may belong to several types)."""
        if self._decls_by_name is None:
            self._decls_by_name = {}
            for n, r in self._funcs_by_name():
                self._decls_by_name.setdefault(n, []).append(r)
        return [d for d in (self.func_decl(name, r) for r in self._decls_by_name.get(name, ())) if d is not None]

    # ---- loading: a regex index of names, chunks parsed on demand ----
    def _index(self) -> None:
        if self._types is not None:
            return
        self._consts, self._types = {}, {}
        self._decl_chunks: dict[str, list] = {}  # name -> [chunk key], for const and type names
        self._chunks: dict[int, tuple[bytes, bool]] = {}  # key -> (bytes, parsed?)
        for fname, data in self.files():
            starts = [m.start() + 1 for m in _DECL_START.finditer(data)]
            if not starts:
                continue
            bounds = [m.start() + 1 for m in _ANY_TOP.finditer(data)] + [len(data)]
            for s in starts:
                e = bounds[bisect_right(bounds, s)]
                chunk = data[s:e]
                key = len(self._chunks)
                self._chunks[key] = (chunk, False)
                head = _DECL_HEAD.match(chunk)
                if head is None:
                    continue
                if head.group(1) is not None:  # a ( ... ) block: one member per line
                    names = {n.group(1) for n in _BLOCK_MEMBER.finditer(chunk)}
                    for n in names:
                        for part in n.split(b","):
                            self._decl_chunks.setdefault(part.strip().decode(), []).append(key)
                elif head.group(2) is not None:
                    for part in head.group(2).split(b","):
                        self._decl_chunks.setdefault(part.strip().decode(), []).append(key)

    def _parse_for(self, name: str) -> None:
        """Parse the chunks that may declare ``name``."""
        self._index()
        for key in self._decl_chunks.get(name, ()):
            chunk, done = self._chunks[key]
            if done:
                continue
            self._chunks[key] = (chunk, True)
            tree = _ts_parser("go").parse(b"package p\n" + chunk)
            self._trees.append(tree)
            for node in tree.root_node.children:
                if node.type == "const_declaration":
                    self._add_consts(node, key)
                elif node.type == "type_declaration":
                    for spec in node.named_children:
                        if spec.type in ("type_spec", "type_alias"):
                            n = spec.child_by_field_name("name")
                            typ = spec.child_by_field_name("type")
                            if n is None or typ is None:
                                continue
                            tps = spec.child_by_field_name("type_parameters")
                            tparams = frozenset(_type_param_names(tps)) if tps is not None else frozenset()
                            self._types.setdefault(_text(n), []).append((typ, tparams))

    def _add_consts(self, decl, fkey) -> None:
        last_values = None
        for i, spec in enumerate(c for c in decl.named_children if c.type == "const_spec"):
            names = [c for c in spec.children_by_field_name("name")]
            values = spec.child_by_field_name("value")
            if values is not None:
                last_values = values.named_children
            if last_values is None:
                continue
            for j, n in enumerate(names):
                if j < len(last_values):
                    self._consts.setdefault(_text(n), []).append((last_values[j], i, fkey))

    # ---- questions ----
    def const_value(self, name: str, _depth: int = 0):
        if name in self._const_values:
            v = self._const_values[name]
            if v is _UNKNOWN:
                raise Unknown()
            return v
        self._parse_for(name)
        defs = self._consts.get(name)
        value = _UNKNOWN
        if defs and _depth < 20:
            self._const_values[name] = _UNKNOWN  # cycles
            vals = set()
            for expr, iota, _ in defs:
                try:
                    vals.add(evaluate(expr, ConstEnv(self), iota))
                except (Unknown, RecursionError):
                    vals.add(_UNKNOWN)
            if len(vals) == 1:
                value = vals.pop()
        self._const_values[name] = value
        if value is _UNKNOWN:
            raise Unknown()
        return value

    def has_type(self, name: str) -> bool:
        self._parse_for(name)
        return name in self._types

    def type_decl(self, name: str):
        """(type node, type parameter names) of a package-level type, if one definition."""
        self._parse_for(name)
        defs = self._types.get(name)
        if not defs or len({_text(d[0]) for d in defs}) != 1:
            return None
        return defs[0]


def _type_param_names(tps) -> list[str]:
    out = []
    for d in tps.named_children:
        if d.type == "type_parameter_declaration":
            out.extend(_text(n) for n in d.children_by_field_name("name"))
    return out


@lru_cache(maxsize=4)
def _directory_files(directory: str) -> list[tuple[str, bytes, str]]:
    """(name, bytes, package name) of a directory's .go files, read once for
    the packages that share it (``foo`` and its external tests ``foo_test``)."""
    out = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        names = []
    for name in names:
        if not name.endswith(".go"):
            continue
        try:
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
        except OSError:
            continue
        m = _PACKAGE_RE.search(data)
        if m is not None:
            out.append((name, data, m.group(1).decode()))
    return out


@lru_cache(maxsize=16)
def package_index(directory: str, package: str, with_tests: bool = True) -> PackageIndex:
    """The index of one package (its test files included: declarations in
    ``_test.go`` files of the same package name are visible to both)."""
    return PackageIndex(directory, package, with_tests)


# ---------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------

class TypeInfo:
    """Kinds, fields and sizes of types, resolved through a package index."""

    def __init__(self, package: PackageIndex | None):
        self.package = package
        self._sizes: dict[str, int | None] = {}

    def resolve(self, t: Type | None, depth: int = 0):
        """(kind, node-or-Type, tparams) after following same-package named types."""
        if t is None or depth > 12:
            return UNKNOWN, None, frozenset()
        if t.ptr is not None:
            return POINTER, t, t.tparams
        if t.basic is not None:
            return (IFACE if t.basic in ("error", "any") else BASIC), t, t.tparams
        node = _unparen_type(t.node)
        if node is None:
            return UNKNOWN, None, t.tparams
        nt = node.type
        if nt in _TYPE_KINDS:
            return _TYPE_KINDS[nt], node, t.tparams
        if nt == "generic_type":
            base = node.child_by_field_name("type")
            if base is not None and base.type == "type_identifier":
                return self._named(_text(base), t.tparams, depth)
            return NAMED, node, t.tparams
        if nt == "type_identifier":
            return self._named(_text(node), t.tparams, depth)
        if nt == "qualified_type":
            if _text(node) == "unsafe.Pointer":
                return POINTER, node, t.tparams
            return NAMED, node, t.tparams
        if nt == "negated_type":
            return UNKNOWN, node, t.tparams
        return UNKNOWN, node, t.tparams

    def _named(self, name: str, tparams: frozenset, depth: int):
        if name in tparams:
            return TYPEPARAM, None, tparams
        if name in ("error", "any"):
            return IFACE, None, tparams
        if name in BASIC_SIZES or name == "comparable":
            return BASIC, Type(basic=name), tparams
        if self.package is not None:
            d = self.package.type_decl(name)
            if d is not None:
                return self.resolve(Type(d[0], tparams=d[1]), depth + 1)
        return NAMED, None, tparams

    def kind(self, t: Type | None) -> str:
        return self.resolve(t)[0]

    def elem(self, t: Type | None) -> Type | None:
        """Element type of a pointer, slice, array, map (value) or channel."""
        kind, node, tps = self.resolve(t)
        if node is None:
            return None
        if isinstance(node, Type):
            return node.ptr if kind == POINTER else None
        if kind == POINTER:
            kids = node.named_children
            return Type(kids[-1], tparams=tps) if kids else None
        if kind in (SLICE, ARRAY, CHAN):
            e = node.child_by_field_name("element") or (node.named_children[-1] if node.named_children else None)
            return Type(e, tparams=tps) if e is not None else None
        if kind == MAP:
            v = node.child_by_field_name("value")
            return Type(v, tparams=tps) if v is not None else None
        return None

    def field(self, t: Type | None, name: str, depth: int = 0) -> tuple[bool, Type | None]:
        """(found, type) of field ``name`` of struct type ``t`` (embedded fields too)."""
        kind, node, tps = self.resolve(t)
        if kind != STRUCT or node is None or isinstance(node, Type) or depth > 4:
            return False, None
        fl = next((c for c in node.named_children if c.type == "field_declaration_list"), None)
        if fl is None:
            return False, None
        embedded = []
        for fd in fl.named_children:
            if fd.type != "field_declaration":
                continue
            ftype = fd.child_by_field_name("type")
            names = fd.children_by_field_name("name")
            if names:
                if any(_text(n) == name for n in names):
                    return True, Type(ftype, tparams=tps) if ftype is not None else None
            elif ftype is not None:
                embedded.append(ftype)
        for e in embedded:
            base = _unparen_type(e)
            is_ptr = base is not None and base.type == "pointer_type"
            inner = base.named_children[-1] if is_ptr and base.named_children else base
            ename = _text(inner).split(".")[-1].split("[")[0]
            if ename == name:
                return True, Type(e, tparams=tps)
            if is_ptr:
                continue  # a field promoted through an embedded pointer is behind a pointer
            found, ft = self.field(Type(inner, tparams=tps), name, depth + 1)
            if found:
                return True, ft
        return False, None

    # ---- sizes (amd64 layout) ----
    def size(self, t: Type | None) -> int | None:
        r = self._size_align(t, 0)
        return r[0] if r else None

    def _size_align(self, t: Type | None, depth: int):
        if t is None or depth > 12:
            return None
        kind, node, tps = self.resolve(t)
        if kind in (POINTER, MAP, CHAN, FUNC):
            return PTR_SIZE, PTR_SIZE
        if kind == SLICE:
            return 3 * PTR_SIZE, PTR_SIZE
        if kind == IFACE:
            return 2 * PTR_SIZE, PTR_SIZE
        if kind == BASIC:
            name = node.basic if isinstance(node, Type) else None
            if name in BASIC_SIZES:
                s = BASIC_SIZES[name]
                return s, BASIC_ALIGN.get(name, s)
            return None
        if kind == ARRAY and node is not None and not isinstance(node, Type):
            if node.type == "implicit_length_array_type":
                return None
            length = node.child_by_field_name("length")
            try:
                n = evaluate(length, ConstEnv(self.package)) if length is not None else None
            except (Unknown, RecursionError):
                return None
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                return None
            e = self._size_align(self.elem(Type(node, tparams=tps)), depth + 1)
            if e is None:
                return None
            return n * e[0], e[1]
        if kind == STRUCT and node is not None and not isinstance(node, Type):
            fl = next((c for c in node.named_children if c.type == "field_declaration_list"), None)
            off, align = 0, 1
            last_zero = False
            for fd in fl.named_children if fl is not None else ():
                if fd.type != "field_declaration":
                    continue
                ft = fd.child_by_field_name("type")
                sa = self._size_align(Type(ft, tparams=tps), depth + 1) if ft is not None else None
                if sa is None:
                    return None
                for _ in range(max(1, len(fd.children_by_field_name("name")))):
                    s, a = sa
                    off = (off + a - 1) // a * a + s
                    align = max(align, a)
                    last_zero = s == 0
            if last_zero and off > 0:
                off += 1  # a final zero-size field gets padding
            return (off + align - 1) // align * align, align
        return None


try:  # inside cnlint: the language server forgets package facts with the other project facts
    from cnlint.project import on_clear
except ImportError:  # pragma: no cover - used as a library
    pass
else:
    on_clear(package_index.cache_clear)
    on_clear(_directory_files.cache_clear)
