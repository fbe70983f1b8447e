"""Expressions for PERF001's escape analysis (a mixin of go_flow.Analyzer):
each expression evaluated into a hole (address-of, dereference, composite
literals, calls with same-package summaries, closures), and the types the
analysis infers without a type checker."""

from __future__ import annotations

import re

from .go_flow_graph import COMPOSITE, NEW, Fn, Loc, text_of, unparen, unparen_type
from .go_package import ARRAY, DIRECT_KINDS, IFACE, MAP, NAMED, POINTER, SLICE, STRUCT, TYPEPARAM, Type

BUILTIN_NO_FLOW = {"len", "cap", "copy", "delete", "print", "println", "close", "clear", "complex", "real",
                   "imag", "recover", "make"}
BUILTIN_TYPES = {"bool", "int8", "uint8", "byte", "int16", "uint16", "int32", "uint32", "rune", "float32",
                 "int", "uint", "uintptr", "int64", "uint64", "float64", "complex64", "complex128", "string",
                 "error", "any"}
#: math/big types, whose methods return their receiver ("z.Add(x, y) sets z to x+y and returns z")
BIG_TYPES = {"big.Int", "big.Float", "big.Rat"}
BIG_RETURNS_RECEIVER = {
    "Abs", "Add", "And", "AndNot", "Binomial", "Copy", "Div", "DivMod", "Exp", "GCD", "Inv", "Lsh", "Mod",
    "ModInverse", "ModSqrt", "Mul", "MulRange", "Neg", "Not", "Or", "Quo", "QuoRem", "Rand", "Rem", "Rsh",
    "Set", "SetBit", "SetBits", "SetBytes", "SetFloat64", "SetFrac", "SetFrac64", "SetInf", "SetInt",
    "SetInt64", "SetMantExp", "SetMode", "SetPrec", "SetRat", "SetString", "SetUint64", "Sqrt", "Sub", "Xor",
}
COPYING_CONVERSIONS = {"[]byte", "[]rune", "[]uint8", "[]int32", "string"}

_SIDE_EFFECTS = re.compile(rb"&[^&]|\bfunc\b|\[[^\]]*:|\+\+|--")
_LEAF_TYPES = frozenset(("identifier", "int_literal", "interpreted_string_literal", "raw_string_literal", "nil",
                         "true", "false", "float_literal", "rune_literal"))



class Expressions:
    """Evaluates expressions into holes and infers their types."""

    def expr(self, k, n) -> None:
        if n is None:
            return
        t = n.type
        if k is None and t not in _LEAF_TYPES:
            # A value that goes nowhere we track only matters for what it does
            # on the way: taking addresses (closures capture those variables by
            # reference), func literals, uses of closure variables.
            text = n.text
            if not _SIDE_EFFECTS.search(text) and not (
                    self.closure_names and any(c in text for c in self.closure_names)):
                return
        if t == "identifier":
            loc = self.lookup(n)
            if loc is not None:
                loc.noncall_uses += 1
                self.flow(k, loc)
            return
        if t == "parenthesized_expression":
            for c in n.named_children:
                self.expr(k, c)
            return
        if t == "unary_expression":
            op = n.child_by_field_name("operator").type
            x = n.child_by_field_name("operand")
            if op == "&":
                self.address(k, x, n)
            elif op == "*" or op == "<-":
                self.expr(self.deref(k), x)
            else:
                self.expr(None, x)
            return
        if t == "composite_literal":
            self.composite(k, n)
            return
        if t == "call_expression":
            self.call(k, n)
            return
        if t == "selector_expression":
            base = unparen(n.child_by_field_name("operand"))
            if base.type == "identifier" and self.lookup_quiet(base) is None:
                return  # pkg.Name, or a field of a package-level variable
            kind = self.value_kind(base)
            self.expr(k if kind in (STRUCT, NAMED) else self.deref(k), base)
            return
        if t == "index_expression":
            base = unparen(n.child_by_field_name("operand"))
            self.expr(None, n.child_by_field_name("index"))
            kind = self.value_kind(base)
            self.expr(k if kind == ARRAY else self.deref(k), base)
            return
        if t == "slice_expression":
            base = unparen(n.child_by_field_name("operand"))
            for f in ("start", "end", "capacity"):
                self.expr(None, n.child_by_field_name(f))
            if self.value_kind(base) == ARRAY:
                self.address(k, base, n)  # slicing an array takes its address
            else:
                self.expr(k, base)
            return
        if t == "type_assertion_expression":
            typ = self.type_of_node(n.child_by_field_name("type"))
            kind = self.types.kind(typ)
            self.expr(k if kind in DIRECT_KINDS or kind in (IFACE, TYPEPARAM) else self.deref(k),
                      n.child_by_field_name("operand"))
            return
        if t == "type_conversion_expression":
            tnode = n.child_by_field_name("type")
            operand = n.child_by_field_name("operand")
            if tnode is not None and tnode.type == "pointer_type":
                # tree-sitter reads *(*T)(p) as a conversion to "*(*T)": it is a dereference
                self.expr(self.deref(k), operand)
            elif tnode is not None and text_of(tnode).replace(" ", "") in COPYING_CONVERSIONS:
                self.expr(None, operand)  # []byte(s), []rune(s): a copy
            else:
                self.expr(k, operand)
            return
        if t == "func_literal":
            self.closure(k, n)
            return
        if t == "binary_expression":
            self.expr(None, n.child_by_field_name("left"))
            self.expr(None, n.child_by_field_name("right"))
            return
        if t in ("expression_list", "argument_list", "literal_value", "literal_element", "keyed_element"):
            for c in n.named_children:
                self.expr(k, c)
            return
        # literals, types, nil, iota...: no pointers

    def lookup_quiet(self, ident):
        name = text_of(ident)
        for scope in reversed(self.scopes):
            if name in scope:
                v = scope[name]
                return v if isinstance(v, Loc) else None
        return None

    def address(self, k, x, at) -> None:
        """``&x``: the hole receives x's address."""
        x = unparen(x)
        t = x.type
        if t == "composite_literal":
            self.alloc(k, x, at, COMPOSITE)
            return
        if t == "identifier":
            loc = self.lookup(x)
            if loc is not None:
                loc.noncall_uses += 1
                self.flow(self.addr(k) if k is not None else (self.heap, -1, None), loc, at)
            return
        if t == "selector_expression":
            base = unparen(x.child_by_field_name("operand"))
            if base.type == "identifier" and self.lookup_quiet(base) is None:
                return  # &pkg.Var: a package-level variable
            kind = self.value_kind(base, addressed=True)
            if kind in (STRUCT, NAMED):
                self.address(k, base, at)
            else:
                self.expr(k, base)  # &p.f is p
            return
        if t == "index_expression":
            base = unparen(x.child_by_field_name("operand"))
            self.expr(None, x.child_by_field_name("index"))
            if self.value_kind(base) == ARRAY:
                self.address(k, base, at)
            else:
                self.expr(k, base)  # &s[i] points into s's backing array
            return
        if t == "unary_expression" and x.child_by_field_name("operator").type == "*":
            self.expr(k, x.child_by_field_name("operand"))  # &*p is p
            return
        self.expr(None, x)

    def alloc(self, k, lit, at, kind) -> Loc:
        loc = Loc(kind, at, self.fn)
        if kind == COMPOSITE:
            tnode = lit.child_by_field_name("type")
            loc.typ = self.type_of_node(tnode)
            self.composite((loc, 0, None), lit)
        else:
            loc.typ = self.type_of_node(lit)
        self.sites.append(loc)
        self.flow(self.addr(k) if k is not None else (self.heap, -1, None), loc, at)
        return loc

    def elements(self, k, body, elem) -> None:
        """Elements of a composite literal stored into hole ``k``; ``elem`` is
        their type when known (slices, arrays, maps)."""
        for el in body.named_children:
            if el.type == "keyed_element":
                kids = el.named_children
                if len(kids) == 2:
                    self.element(None, kids[0], None)
                    self.element(k, kids[1], elem)
            elif el.type == "literal_element":
                self.element(k, el, elem)

    def element(self, k, el, typ) -> None:
        """One element of a literal whose element type is ``typ``."""
        inner = el.named_children[0] if el.type == "literal_element" and el.named_children else el
        if inner.type == "literal_value":
            # an elided type: {...} for T{...}, or for &T{...} when the
            # element type is a pointer
            kind = self.types.kind(typ) if typ is not None else None
            if kind == MAP:
                self.elements((self.heap, 0, None) if self.track_heap else None, inner, None)
            elif kind == POINTER:
                storage = Loc("storage", inner, self.fn)
                self.flow(self.addr(k) if k is not None else None, storage)
                self.elements((storage, 0, None), inner, self.types.elem(typ))
            elif kind == SLICE:
                storage = Loc("storage", inner, self.fn)
                self.flow(self.addr(k) if k is not None else None, storage)
                self.elements((storage, 0, None), inner, self.types.elem(typ))
            else:
                self.elements(k, inner, self.types.elem(typ) if kind == ARRAY else None)
            return
        self.expr(k, inner)

    def composite(self, k, lit) -> None:
        typ = self.type_of_node(lit.child_by_field_name("type"))
        kind = self.types.kind(typ)
        body = lit.child_by_field_name("body")
        if body is None:
            return
        if kind == SLICE:
            storage = Loc("storage", lit, self.fn)
            self.flow(self.addr(k) if k is not None else None, storage)
            self.elements((storage, 0, None), body, self.types.elem(typ))
        elif kind == MAP:
            self.elements((self.heap, 0, None) if self.track_heap else None, body, self.types.elem(typ))
        else:
            self.elements(k, body, self.types.elem(typ) if kind == ARRAY else None)

    def call(self, k, n, ks=None) -> None:
        """A call whose (first) result goes to ``k``; ``ks`` holds the holes of
        all its results in a multi-value context (``a, b := f()``)."""
        if ks is None:
            ks = [k]
        fn = n.child_by_field_name("function")
        args_node = n.child_by_field_name("arguments")
        args = args_node.named_children if args_node is not None else []
        f = unparen(fn)
        if f.type == "identifier":
            name = text_of(f)
            loc = self.lookup_quiet(f)
            if loc is None and not self.shadowed(name):
                if name == "new" and len(args) == 1:
                    self.alloc(k, args[0], args_node, NEW)
                    return
                if name == "append":
                    if args:
                        self.expr(k, args[0])
                        for a in args[1:]:
                            self.to_heap(a)
                    return
                if name in ("min", "max"):
                    for a in args:
                        self.expr(k, a)
                    return
                if name in BUILTIN_TYPES or (self.consts.package is not None and self._is_package_type(name)):
                    # a conversion: string(b) copies, numbers hold no pointer
                    keep = name in ("error", "any") or name not in BUILTIN_TYPES
                    for a in args:
                        self.expr(k if keep else None, a)
                    return
                if name in BUILTIN_NO_FLOW:
                    for a in args:
                        self.expr(None, a)
                    return
                if args and (self.track_heap or any(self.wanted_hole(x) for x in ks)):
                    summ = self.summary(name, None)
                    if summ:
                        self.summarized_call(ks, n, summ, args, None)
                        return
            elif loc is not None and loc.closure is not None:
                # a call of a local closure: its results flow here
                self.lookup(f)
                for a, p in zip(args, self._closure_params(loc.closure)):
                    self.expr(self.hole(p, n), a)
                for r, kk in zip(loc.closure.results, ks):
                    self.flow(kk, r, n)
                return
        elif f.type == "func_literal":
            # called in place (a deferred or go'ed closure is not inlined)
            deferred = n.parent is not None and n.parent.type in ("defer_statement", "go_statement")
            clo = self.closure(None, f, static=not deferred)
            for a, p in zip(args, self._closure_params(clo)):
                self.expr(self.hole(p, n), a)
            for r, kk in zip(clo.results, ks):
                self.flow(kk, r, n)
            return
        elif f.type in ("pointer_type", "slice_type", "array_type", "map_type", "channel_type",
                        "function_type", "interface_type", "qualified_type") or (
                f.type == "unary_expression" and f.child_by_field_name("operator").type == "*"):
            for a in args:
                self.expr(k, a)  # a conversion: (*T)(p), ([]byte)(s)
            return
        elif f.type == "selector_expression":
            base = unparen(f.child_by_field_name("operand"))
            if base.type == "identifier" and self.lookup_quiet(base) is None and not self.shadowed(text_of(base)):
                if text_of(base) == "unsafe":
                    for a in args:
                        self.expr(k, a)  # unsafe.Pointer(p), unsafe.Slice(p, n)...
                    return
            elif self.track_heap or any(self.wanted_hole(x) for x in ks):
                method = text_of(f.child_by_field_name("field"))
                tn = self.type_name(self.infer(base))
                summ = None
                if tn is not None and tn[0] in BIG_TYPES:
                    summ = {"res": {-1: {0: 0}}, "recv_ptr": True} if method in BIG_RETURNS_RECEIVER else None
                elif tn is not None:
                    summ = self.summary(method, tn[0])
                if summ:
                    self.summarized_call(ks, n, summ, args, base)
                    return
            # the receiver of a method we know nothing about: most methods do
            # not keep their receiver (assuming they do loses more than it saves)
            self.expr(None, base)
        else:
            self.discard(f)
        for a in args:
            if a.type in ("type_identifier", "qualified_type", "pointer_type", "slice_type", "map_type"):
                continue
            self.discard(a)

    def wanted_hole(self, k) -> bool:
        """Whether a value put in hole ``k`` may reach a return (else a call's
        summary is not worth computing)."""
        if k is None or k[0] is self.heap:
            return False
        loc = k[0]
        if self.keep is None or loc.kind != "var":
            return True
        return loc.name.encode() in self.keep

    def summarized_call(self, ks, n, summ: dict, args, recv) -> None:
        """A call of a function whose summary says which arguments reach which
        of its results (and, for summaries of summaries, the heap). ``ks`` are
        the holes of the call's results, by index."""
        heap = summ.get("heap", {}) if self.track_heap else {}
        res = summ.get("res", {})
        for i, a in ([(-1, recv)] if recv is not None else []) + list(enumerate(args)):
            holes = []
            for j, d in res.get(i, {}).items():
                k = ks[j] if j < len(ks) else None
                if k is not None and k[0] is not self.heap:
                    holes.append((k[0], k[1] + d, k[2] if k[2] is not None else n))
            h = heap.get(i)
            if h is not None:
                holes.append((self.heap, h, n))
            if not holes:
                self.discard(a)
                continue
            for kk in holes:
                if i == -1 and summ.get("recv_ptr") and self.value_kind(a) in (STRUCT, NAMED, ARRAY):
                    self.address(kk, a, n)  # v.M() with a pointer receiver takes &v
                else:
                    self.expr(kk, a)

    @staticmethod
    def _closure_params(fn: Fn) -> list:
        return fn.params

    def _is_package_type(self, name: str) -> bool:
        pkg = self.consts.package
        try:
            return pkg.has_type(name)
        except Exception:  # pragma: no cover - unreadable package
            return False

    _last_closure: Fn | None = None

    def closure(self, k, n, *, static=False) -> Fn:
        fn = self.func(n, static=static)
        self._last_closure = fn
        self.flow(self.addr(k) if k is not None else None, fn.closure_loc, n)
        self.closures.append((fn, fn.closure_loc, n))
        return fn

    # ------------------------------------------------------------------
    # types of expressions
    # ------------------------------------------------------------------
    def infer(self, n) -> Type | None:
        n = unparen(n)
        if n is None:
            return None
        t = n.type
        if t == "identifier":
            loc = self.lookup_quiet(n)
            return loc.typ if loc is not None else None
        if t == "composite_literal":
            return self.type_of_node(n.child_by_field_name("type"))
        if t == "unary_expression":
            op = n.child_by_field_name("operator").type
            x = n.child_by_field_name("operand")
            if op == "&":
                inner = self.infer(x)
                return Type(ptr=inner) if inner is not None else Type(ptr=Type(None))
            if op == "*":
                return self.types.elem(self.infer(x))
            if op == "<-":
                return self.types.elem(self.infer(x))
            return None
        if t == "call_expression":
            f = unparen(n.child_by_field_name("function"))
            args = n.child_by_field_name("arguments")
            argv = args.named_children if args is not None else []
            if f.type == "identifier" and self.lookup_quiet(f) is None:
                name = text_of(f)
                if name == "new" and argv:
                    return Type(ptr=self.type_of_node(argv[0]))
                if name == "make" and argv:
                    return self.type_of_node(argv[0])
                if name in BUILTIN_TYPES:
                    return Type(basic=name)
                if self._is_package_type(name):
                    return self.type_of_node(f)
                if not self.shadowed(name):
                    rts = self.result_types(name, None)
                    return rts[0] if rts else None
            elif f.type == "selector_expression":
                base = unparen(f.child_by_field_name("operand"))
                if not (base.type == "identifier" and self.lookup_quiet(base) is None):
                    tn = self.type_name(self.infer(base))
                    if tn is not None and tn[0] not in BIG_TYPES:
                        rts = self.result_types(text_of(f.child_by_field_name("field")), tn[0])
                        return rts[0] if rts else None
            if f.type in ("pointer_type", "slice_type", "array_type", "map_type", "qualified_type"):
                return self.type_of_node(f)
            if f.type == "unary_expression" and f.child_by_field_name("operator").type == "*":
                return Type(ptr=self.type_of_node(f.child_by_field_name("operand")))
            return None
        if t == "type_conversion_expression":
            tnode = n.child_by_field_name("type")
            if tnode is not None and tnode.type == "pointer_type":
                inner = tnode.named_children[-1] if tnode.named_children else None
                return self.types.elem(self.type_of_node(inner))
            return self.type_of_node(tnode)
        if t == "type_assertion_expression":
            return self.type_of_node(n.child_by_field_name("type"))
        if t == "selector_expression":
            base = unparen(n.child_by_field_name("operand"))
            bt = self.infer(base)
            if bt is None:
                return None
            if self.types.kind(bt) == POINTER:
                bt = self.types.elem(bt)
            found, ft = self.types.field(bt, text_of(n.child_by_field_name("field")))
            return ft if found else None
        if t == "index_expression":
            bt = self.infer(n.child_by_field_name("operand"))
            kind = self.types.kind(bt)
            if kind == POINTER:
                bt = self.types.elem(bt)
                kind = self.types.kind(bt)
            return self.types.elem(bt) if kind in (SLICE, ARRAY, MAP) else None
        if t == "interpreted_string_literal" or t == "raw_string_literal":
            return Type(basic="string")
        if t == "int_literal":
            return Type(basic="int")
        if t == "float_literal":
            return Type(basic="float64")
        if t in ("true", "false"):
            return Type(basic="bool")
        if t == "func_literal":
            return Type(n)  # a function value
        return None

    def call_result_type(self, call, j: int):
        """The type of result ``j`` of a call, or a function computing it on
        first use (a same-package function's declaration is parsed only if
        some question about the variable needs it)."""
        f = unparen(call.child_by_field_name("function"))
        if f.type == "identifier":
            if self.lookup_quiet(f) is not None or self.shadowed(text_of(f)):
                return None
            name = text_of(f)
            if j == 0 and (name in BUILTIN_TYPES or name in ("new", "make")):
                return self.infer(call)
            return lambda: (lambda rts: rts[j] if j < len(rts) else None)(self.result_types(name, None))
        if f.type == "selector_expression":
            base = unparen(f.child_by_field_name("operand"))
            method = text_of(f.child_by_field_name("field"))
            if base.type == "identifier":
                loc = self.lookup_quiet(base)
                if loc is None:
                    return None  # pkg.F(): another package
                get = lambda: loc.typ  # noqa: E731
            else:
                t = self.infer(base)
                get = lambda: t  # noqa: E731

            def compute():
                tn = self.type_name(get())
                if tn is None or tn[0] in BIG_TYPES:
                    return None
                rts = self.result_types(method, tn[0])
                return rts[j] if j < len(rts) else None
            return compute
        return self.infer(call) if j == 0 else None

    def yield_types(self, typ: Type | None) -> list:
        """What a range-over-func loop yields: iter.Seq[T], iter.Seq2[K, V], func(yield func(K, V) bool)."""
        node = unparen_type(typ.node) if typ is not None and typ.node is not None else None
        if node is None:
            return []
        if node.type == "generic_type":
            base = node.child_by_field_name("type")
            args = node.child_by_field_name("type_arguments")
            if base is not None and text_of(base) in ("iter.Seq", "iter.Seq2") and args is not None:
                return [self.type_of_node(a) for a in args.named_children]
            return []
        if node.type == "function_type":
            params = node.child_by_field_name("parameters")
            ps = params.named_children if params is not None else []
            if len(ps) == 1:
                yt = unparen_type(ps[0].child_by_field_name("type"))
                if yt is not None and yt.type == "function_type":
                    yp = yt.child_by_field_name("parameters")
                    return [self.type_of_node(p.child_by_field_name("type"))
                            for p in (yp.named_children if yp is not None else [])]
        return []

    def value_kind(self, base, *, addressed: bool = False) -> str | None:
        """The kind of ``base``'s type: STRUCT/ARRAY for values, POINTER, SLICE... or None."""
        base = unparen(base)
        typ = self.infer(base)
        if typ is None:
            if base.type == "composite_literal":
                return STRUCT
            return None
        if typ.node is not None and typ.node.type == "func_literal":
            return None
        kind = self.types.kind(typ)
        if kind == NAMED and not addressed:
            # a type of another package: a struct (field access works on values
            # of it) unless it is a pointer type, which we cannot tell
            return NAMED
        return kind

