"""Whether "return a value instead" is correct advice for one of PERF001's escapes.

The escape analysis (go_flow.py) answers "does this allocation reach a
result?". A maintainer acts only when returning a value is both possible and
cheaper, so this module answers the rest, from the syntax and the package
index (go_package.py), for the few escapes found:

* ``must_stay_pointer``: the allocated type must not be copied or is used by
  address by its API: what ``go vet``'s copylocks flags (``sync`` and
  ``sync/atomic`` values, ``noCopy`` fields) and library types with the same
  contract (``tls.Config``, ``http.Client``, ``bytes.Buffer``...), protobuf
  messages (``protoimpl.MessageState``, ``XXX_`` fields, packages of
  ``*.pb.go`` files) and Kubernetes API objects (``k8s.io/api/...``,
  ``metav1.TypeMeta``/``ObjectMeta``/``ListMeta`` embedded, ``runtime.Object``).
* ``returned_as_interface``: the result is an interface (``error``, ``any``,
  an interface type): a value would be boxed, which allocates anyway.
* ``inline_cost``: an estimate of the compiler's inlining cost (budget 80);
  a function the compiler inlines allocates in its caller's frame, where
  the copy usually does not escape (0 allocs/op).
"""

from __future__ import annotations

import os
import re

from cnlint.golang import text
from cnlint.golang.imports import package_clause, source_directories

from .go_package import IFACE, NAMED, PREDECLARED_TYPES, Type, TypeInfo, package_index

#: (import path, type name) of library types that must not be copied or are
#: shared by address by design (copylocks' sync types, plus the ones whose
#: documentation says "should not be copied" or "safe for concurrent use",
#: which a copy would break).
NO_COPY_TYPES = {
    ("crypto/tls", "Config"), ("net/http", "Client"), ("net/http", "Transport"), ("net/http", "Server"),
    ("net/http", "Request"), ("net/http", "ServeMux"), ("net/http/httputil", "ReverseProxy"),
    ("bytes", "Buffer"), ("strings", "Builder"), ("strings", "Reader"), ("bytes", "Reader"),
    ("bufio", "Reader"), ("bufio", "Writer"), ("bufio", "Scanner"), ("crypto/x509", "CertPool"),
    ("database/sql", "DB"), ("log", "Logger"), ("log/slog", "Logger"), ("os", "File"),
    ("regexp", "Regexp"), ("text/template", "Template"), ("html/template", "Template"),
    ("math/big", "Int"), ("math/big", "Float"), ("math/big", "Rat"), ("hash/maphash", "Hash"),
    ("golang.org/x/time/rate", "Limiter"), ("google.golang.org/grpc", "Server"),
    ("google.golang.org/grpc", "ClientConn"),
}
#: packages all of whose struct types hold locks or atomics
NO_COPY_PACKAGES = ("sync", "sync/atomic", "go.uber.org/atomic", "unique")
#: Kubernetes API packages: every object there is passed by pointer (runtime.Object)
K8S_API_PREFIXES = ("k8s.io/api/", "k8s.io/apimachinery/", "k8s.io/apiextensions-apiserver/pkg/apis/",
                    "k8s.io/kube-aggregator/pkg/apis/", "k8s.io/metrics/pkg/apis/",
                    "sigs.k8s.io/gateway-api/apis/", "sigs.k8s.io/controller-runtime/pkg/")
K8S_META_FIELDS = frozenset({"TypeMeta", "ObjectMeta", "ListMeta"})
PROTO_FIELDS = frozenset({"MessageState", "XXX_NoUnkeyedLiteral", "XXX_unrecognized", "XXX_sizecache",
                          "sizeCache", "unknownFields"})
_PROTO_PATH = re.compile(r"(?:^|/)(?:genproto|[a-z0-9_]*pb(?:v\d+)?|proto)(?:/|$)|^google\.golang\.org/protobuf/")

INLINE_BUDGET = 80
INLINE_CALL_COST = 57
#: builtins and conversions that cost nothing like a call
_CHEAP_CALLS = frozenset({"len", "cap", "append", "new", "make", "copy", "panic", "min", "max", "delete",
                          "clear", "complex", "real", "imag", "string", "int", "int8", "int16", "int32",
                          "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "float32",
                          "float64", "byte", "rune", "bool", "unsafe.Pointer", "unsafe.Sizeof"})
#: statements the compiler never inlines a function with
_NOT_INLINABLE = frozenset({"go_statement", "defer_statement", "select_statement"})


class Advice:
    """Answers for one file: its imports and module, through the package index."""

    def __init__(self, types: TypeInfo, imports, go_mod):
        self.types = types
        self.imports = imports
        self.go_mod = go_mod
        self._same: dict[str, str | None] = {}

    # ---- types that stay pointers ----
    def must_stay_pointer(self, typ: Type | None) -> str | None:
        """Why values of ``typ`` are used by address (None when nothing says so)."""
        if typ is None:
            return None
        node = typ.node
        if typ.ptr is not None or node is None:
            return None
        return self._named_reason(node, self.types, self.imports, 0)

    def _named_reason(self, node, types: TypeInfo, imports, depth: int) -> str | None:
        while node is not None and node.type in ("parenthesized_type", "generic_type"):
            inner = node.child_by_field_name("type") if node.type == "generic_type" else None
            node = inner if inner is not None else (node.named_children[0] if node.named_children else None)
        if node is None or depth > 3:
            return None
        if node.type == "qualified_type":
            pkg, name = text(node.child_by_field_name("package")), text(node.child_by_field_name("name"))
            path = imports.path_of(pkg) if imports is not None else None
            return self._imported_reason(path, name, depth) if path else None
        if node.type == "type_identifier":
            name = text(node)
            if name == "noCopy":
                return "it holds a `noCopy` marker (go vet's copylocks)"
            if types.package is None:
                return None
            decl = types.package.type_decl(name)
            if decl is None:
                return None
            return self._named_reason(decl[0], types, imports, depth + 1)
        if node.type == "struct_type":
            return self._struct_reason(node, types, imports, depth)
        return None

    def _struct_reason(self, struct, types: TypeInfo, imports, depth: int) -> str | None:
        fields = next((c for c in struct.named_children if c.type == "field_declaration_list"), None)
        if fields is None:
            return None
        for fd in fields.named_children:
            if fd.type != "field_declaration":
                continue
            names = [text(n) for n in fd.children_by_field_name("name")]
            ftype = fd.child_by_field_name("type")
            if ftype is None:
                continue
            base = text(ftype).split(".")[-1].split("[")[0]
            if not names and base in K8S_META_FIELDS:
                return f"it is a Kubernetes API object (it embeds `{base}`), used as `runtime.Object` by pointer"
            if base in PROTO_FIELDS or any(n.startswith("XXX_") for n in names):
                return "it is a protobuf message (generated code relies on its address)"
            if "noCopy" in names or base == "noCopy":
                return "it holds a `noCopy` marker (go vet's copylocks)"
            if ftype.type in ("pointer_type", "slice_type", "map_type", "function_type", "channel_type",
                              "interface_type"):
                continue
            why = self._named_reason(ftype, types, imports, depth + 1)
            if why is not None:
                return why if why.startswith(("it holds", "it is a")) else "it holds " + why
        return None

    def _imported_reason(self, path: str, name: str, depth: int) -> str | None:
        if path in NO_COPY_PACKAGES:
            return f"it holds a `{path.rsplit('/', 1)[-1]}.{name}`, which must not be copied (go vet's copylocks)"
        if (path, name) in NO_COPY_TYPES:
            return f"`{path.rsplit('/', 1)[-1]}.{name}` must not be copied (or is shared by address)"
        if path.startswith(K8S_API_PREFIXES) or "/apis/" in path + "/":
            return "it is a Kubernetes API type, used by pointer (`runtime.Object`)"
        if _PROTO_PATH.search(path):
            return "it is a protobuf message (generated code relies on its address)"
        directory = self._directory(path)
        if directory is None:
            return None
        try:
            names = os.listdir(directory)
        except OSError:
            return None
        if any(n.endswith(".pb.go") for n in names):
            return "it is a protobuf message (generated code relies on its address)"
        pkg = package_clause(directory)
        if pkg is None:
            return None
        other = TypeInfo(package_index(directory, pkg, with_tests=False))
        decl = other.package.type_decl(name)
        if decl is None:
            return None
        return self._named_reason(decl[0], other, _Unresolved(), depth + 1)

    def _directory(self, path: str) -> str | None:
        if path not in self._same:
            self._same[path] = next((d for d in source_directories(path, self.go_mod) if os.path.isdir(d)), None)
        return self._same[path]

    # ---- results ----
    @staticmethod
    def held_in_returned_value(result_typ: Type | None, type_text: str, kind: str, via=(), notes=()) -> bool:
        """Whether the address reaches the result inside another value (a
        field of a returned struct, a pointer of another type, another
        allocation on the way, ``via``): the pointer
        is that value's field type, and returning the result by value would
        not remove it."""
        node = result_typ.node if result_typ is not None else None
        while node is not None and node.type == "parenthesized_type" and node.named_children:
            node = node.named_children[0]
        if node is None:
            return False
        if node.type != "pointer_type" or any(getattr(dst, "kind", "") in ("composite", "new") for dst in via):
            return True  # a slice (`arr[:]` needs heap memory as much as `make`), a struct, a func...
        if any(_stored_in_field(note) for note in notes):
            return True
        if kind == "variable" or not type_text or not node.named_children:
            return False
        return _squash(text(node.named_children[-1])) != _squash(type_text)

    @staticmethod
    def optional_result(fn, result) -> bool:
        """Whether a ``return`` of ``fn`` gives ``nil`` for ``result``: the
        pointer also says "none", which a value cannot without a new API."""
        try:
            i = fn.results.index(result)
        except ValueError:
            return False
        body = fn.node.child_by_field_name("body") if fn.node is not None else None
        stack = [body] if body is not None else []
        while stack:
            n = stack.pop()
            if n.type == "return_statement":
                values = next((c for c in n.named_children if c.type == "expression_list"), None)
                items = values.named_children if values is not None else []
                if i < len(items) and items[i].type == "nil":
                    return True
            elif n.type != "func_literal":  # a closure's returns are its own
                stack.extend(n.named_children)
        return False

    def pointer_api(self, typ: Type | None) -> str | None:
        """Why values of ``typ`` are used through pointers by its own API: a
        type of another package (that package's API decides, and most take
        and return ``*T``), or a same-package type with pointer-receiver methods."""
        node = typ.node if typ is not None and typ.ptr is None else None
        while node is not None and node.type in ("parenthesized_type", "generic_type"):
            inner = node.child_by_field_name("type") if node.type == "generic_type" else None
            node = inner if inner is not None else (node.named_children[0] if node.named_children else None)
        if node is None:
            return None
        if node.type == "qualified_type":
            return "it is another package's type"
        if node.type == "type_identifier" and text(node) in PREDECLARED_TYPES:
            return "a pointer to a basic value is an optional value (nil means unset)"
        if node.type == "type_identifier" and self.types.package is not None \
                and _has_pointer_methods(self.types.package, text(node)):
            return "its methods take a pointer receiver"
        return None

    @staticmethod
    def stored_elsewhere(fn_node, names: set[str]) -> bool:
        """Whether the allocation (through one of ``names``) is also stored in a
        map, a slice element, a field of something else, appended or sent:
        it is on the heap whether or not it is returned."""
        if not names or fn_node is None:
            return False
        stack = [fn_node]
        while stack:
            n = stack.pop()
            t = n.type
            if t == "assignment_statement":
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                rights = [_unaddr(r) for r in (right.named_children if right is not None else ())]
                if any(r.type == "identifier" and text(r) in names for r in rights):
                    for target in (left.named_children if left is not None else ()):
                        if target.type == "index_expression" or (
                                target.type == "selector_expression"
                                and text(target.child_by_field_name("operand")) not in names):
                            return True
            elif t == "send_statement":
                v = n.child_by_field_name("value")
                if v is not None and _unaddr(v).type == "identifier" and text(_unaddr(v)) in names:
                    return True
            elif t == "call_expression" and text(n.child_by_field_name("function")) == "append":
                args = n.child_by_field_name("arguments")
                if args is not None and any(_unaddr(a).type == "identifier" and text(_unaddr(a)) in names
                                            for a in args.named_children[1:]):
                    return True
            stack.extend(n.named_children)
        return False

    def passed_to_opaque_call(self, fn_node, names: set[str], package_methods: frozenset) -> bool:
        """Whether the allocation (through one of ``names``) is an argument of
        another package's function or of a method this package does not
        declare: such parameters are usually kept or boxed (``json.Unmarshal(b,
        &v)``, ``fmt.Sprint(p)``), so it escapes whether or not it is returned."""
        if not names or fn_node is None:
            return False
        stack = [fn_node]
        while stack:
            n = stack.pop()
            if n.type == "call_expression":
                f = n.child_by_field_name("function")
                opaque = self._opaque_callee(f, package_methods)
                args = n.child_by_field_name("arguments")
                for i, a in enumerate(args.named_children if args is not None else ()):
                    if not opaque and not self._interface_parameter(f, i):
                        continue
                    addr = text(a).startswith("&")
                    a = _unaddr(a)
                    while addr and a is not None and a.type == "selector_expression":
                        a = a.child_by_field_name("operand")  # &v.field: the field's address keeps v
                    if a is None:
                        continue
                    if a.type == "identifier" and text(a) in names:
                        return True
            stack.extend(n.named_children)
        return False

    def _opaque_callee(self, f, package_methods: frozenset) -> bool:
        if f is None or f.type != "selector_expression":
            return False
        operand, field_ = f.child_by_field_name("operand"), f.child_by_field_name("field")
        if operand is not None and operand.type == "identifier" and self.imports is not None \
                and self.imports.path_of(text(operand)) is not None:
            return True
        return field_ is not None and text(field_) not in package_methods

    def _interface_parameter(self, f, i: int) -> bool:
        """Whether argument ``i`` of a call of this package's function or method
        ``f`` goes to an ``interface{}``/``any`` parameter (a decode target such
        as ``c.CallAPI(ctx, path, &out)``, which the callee passes on and keeps)."""
        if f is None or self.types.package is None:
            return False
        if f.type == "selector_expression":
            name = text(f.child_by_field_name("field"))
        elif f.type == "identifier":
            name = text(f)
        else:
            return False
        for decl in self.types.package.func_decls(name):
            params = decl.child_by_field_name("parameters")
            types_ = []  # (variadic, type text) per parameter, in order
            for p in params.named_children if params is not None else ():
                if p.type in ("parameter_declaration", "variadic_parameter_declaration"):
                    count = max(1, len(p.children_by_field_name("name")))
                    types_ += [(p.type.startswith("variadic"), text(p.child_by_field_name("type")))] * count
            if (i < len(types_) or (types_ and types_[-1][0])) \
                    and _squash(types_[min(i, len(types_) - 1)][1]) in ("interface{}", "any"):
                return True
        return False

    def returned_as_interface(self, result_typ: Type | None) -> bool:
        """Whether the result the address flows into is an interface: the value
        would be boxed on return, which allocates too."""
        if result_typ is None:
            return False
        kind, node, _ = self.types.resolve(result_typ)
        if kind == IFACE:
            return True
        # another package's named type that holds an address directly: an interface
        # (runtime.Object, http.Handler, client.Object...), or a pointer type, rarely
        return kind == NAMED and node is not None and not isinstance(node, Type) and node.type == "qualified_type"


def _unaddr(node):
    """``x`` of ``&x`` or ``(x)``."""
    while node is not None and node.named_children and (
            node.type == "parenthesized_expression" or (node.type == "unary_expression" and text(node)[:1] == "&")):
        node = node.named_children[-1]
    return node


_POINTER_METHODS: dict = {}


def _has_pointer_methods(package, name: str) -> bool:
    key = (package.directory, package.package, name)
    found = _POINTER_METHODS.get(key)
    if found is None:
        rx = re.compile(rb"\nfunc\s*\(\s*(?:[A-Za-z_][A-Za-z0-9_]*\s+)?\*\s*" + re.escape(name.encode()) + rb"\b")
        found = _POINTER_METHODS[key] = any(rx.search(data) for _, data in package.files())
    return found


def _stored_in_field(note) -> bool:
    """Whether a flow step is a store into a field or element (``r.Field = &x``)."""
    n = note
    while n is not None and n.type not in ("assignment_statement", "short_var_declaration", "block",
                                            "function_declaration", "method_declaration", "func_literal"):
        n = n.parent
    if n is None or n.type != "assignment_statement":
        return False
    left = n.child_by_field_name("left")
    return left is not None and any(t.type in ("selector_expression", "index_expression")
                                    for t in left.named_children)


def _squash(type_text: str) -> str:
    return "".join(type_text.split())


class _Unresolved:
    """The imports of another package's file, which are not read: its own
    qualified field types stay unknown (the common cases are caught by name)."""

    @staticmethod
    def path_of(name: str):
        return None


def inline_cost(func_node) -> int:
    """A rough estimate of the compiler's inlining cost of a function (it
    inlines up to INLINE_BUDGET): one per syntax node, INLINE_CALL_COST per call
    that is not a builtin or a conversion; functions with go, defer, select
    or recover are never inlined (returns INLINE_BUDGET + 1 as soon as it is over)."""
    body = func_node.child_by_field_name("body")
    if body is None:
        return INLINE_BUDGET + 1
    cost = 0
    stack = [body]
    while stack:
        n = stack.pop()
        t = n.type
        cost += 1
        if t == "call_expression":
            f = n.child_by_field_name("function")
            name = text(f) if f is not None and f.type in ("identifier", "selector_expression") else ""
            if name == "recover":
                return INLINE_BUDGET + 1
            if name not in _CHEAP_CALLS:
                cost += INLINE_CALL_COST
        elif t in _NOT_INLINABLE:
            return INLINE_BUDGET + 1
        if cost > INLINE_BUDGET:
            return cost
        stack.extend(n.named_children)
    return cost
