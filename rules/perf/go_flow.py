"""PERF001's syntactic escape analysis: which allocations' addresses reach a result.

A small copy of the Go compiler's escape analysis (cmd/compile/internal/escape),
run on tree-sitter's syntax tree of one top-level function (with its
closures) instead of the type-checked IR:

* **Locations**: every variable (parameters, receivers, named results,
  locals, range and type-switch variables), every allocation PERF001 reports
  (``&T{...}``, ``new(T)``), the unnamed results of each function (``~r0``),
  the storage of slice literals and of closures.
* **Edges** ``dst <- src`` with a dereference count, built by evaluating each
  expression into a "hole" as the compiler does: ``p := &T{}`` adds
  ``p <- &{storage for &T{}}`` (-1), ``x := *p`` adds ``x <- p`` (+1),
  ``return e`` adds ``~r0 <- e`` (0), ``&v.f`` of a struct value adds
  ``hole <- &v``, ``&p.f`` through a pointer adds ``hole <- p``, ``arr[:]`` of
  an array value adds ``hole <- &arr``. Like the compiler, the analysis is
  flow-insensitive (an assignment anywhere in the function counts) and
  field-insensitive (a struct value is one location).
* **Solving**: from every result of every function, the minimal number of
  dereferences to each location (Bellman-Ford over the incoming edges, with
  the compiler's rule that an address-of bounds the count below at 0); a
  location reached at -1 has its address in the result, so the compiler must
  put it on the heap. A result of a closure outlives the enclosing function's
  variables only if the closure value escapes (``return func() *int { return
  &x }``), not when the closure is only called where it is defined.

Calls: a call of a function of the same package (or a method of one of its
types) uses a summary of that function, computed the same way and cached per
package: which parameters reach which results, and with how many
dereferences, unless they also reach the heap (the compiler's parameter
tags); ``math/big`` methods return their receiver. Every other call is
opaque: its result is never an allocation of this function (``errors.New``,
other packages' constructors), and its arguments are assumed not to be kept.

What it cannot know without types, it leaves out rather than guess: a store
through a pointer (``p.next = &T{}``, ``s[i] = &T{}``) goes to the heap
rather than to a result, and ``&x.f`` / ``x[:]`` / ``&x[i]`` allocate only
when ``x`` is known to be a struct or array value (its declaration, its
initializer, a same-package function's result type, or same-package type
declarations say so). Dead code the compiler removes before escape analysis
is skipped: branches of ``if``/``for``/``switch`` with constant conditions
(same-package constants included) and statements after a terminating
statement. Closures the compiler inlines where they are called and then
drops (they capture variables and are small) report nothing of their own.

``run(top, keep)`` skips the statements (but constant and type declarations)
that mention none of the ``keep`` variables, which go_gate.TextFlows.relevant
reads from the text: those statements cannot add a flow into a result.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from .go_package import (ARRAY, DIRECT_KINDS, IFACE, MAP, NAMED, NOT_CONST, POINTER, SLICE, STRUCT,
                         TYPEPARAM, ConstEnv, Type, TypeInfo, Unknown, evaluate, static_bool)

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
INLINE_BUDGET = 80
INLINE_CALL_COST = 57
CAPTURE_BY_VALUE_MAX = 128

COMPOSITE, NEW, VARIABLE = "composite", "new", "variable"


class Loc:
    """A location of the data-flow graph."""

    __slots__ = ("kind", "node", "fn", "name", "_typ", "_thunk", "edges", "addrtaken", "reassigned", "captured",
                 "param", "result", "noncall_uses", "closure", "defs", "depth", "last_reassign", "first_capture")

    def __init__(self, kind: str, node, fn: "Fn", name: str = "", typ: Type | None = None):
        self.kind = kind  # "var", COMPOSITE, NEW, "result", "closure", "storage", "heap"
        self.node = node
        self.fn = fn
        self.name = name
        self._typ = typ
        self._thunk = None  # computes the type on first use (a call's result type)
        self.edges: list = []  # incoming: (src Loc, derefs, note node)
        self.addrtaken = False
        self.reassigned = False
        self.captured = False
        self.param = False
        self.result = False
        self.noncall_uses = 0
        self.closure = None  # the Fn of a func literal this variable is defined as
        self.defs = 0
        self.depth = 0  # loop depth of the declaration
        self.last_reassign = 0  # event number of the last reassignment
        self.first_capture: "Fn | None" = None  # the closure that captures it first

    @property
    def typ(self) -> Type | None:
        if self._thunk is not None:
            thunk, self._thunk = self._thunk, None
            self._typ = thunk()
        return self._typ

    @typ.setter
    def typ(self, value) -> None:
        self._thunk = None
        if callable(value) and not isinstance(value, Type):
            self._thunk = value
        else:
            self._typ = value

    def __repr__(self) -> str:  # pragma: no cover - debugging
        return f"<{self.kind} {self.name or (self.node.text[:20] if self.node else '')}>"


class Fn:
    __slots__ = ("node", "parent", "results", "named", "closure_loc", "captures", "tparams", "static",
                 "cost", "returns", "name", "params", "depth", "start_seq")

    def __init__(self, node, parent: "Fn | None", tparams: frozenset):
        self.node = node
        self.parent = parent
        self.results: list[Loc] = []
        self.named = False
        self.closure_loc: Loc | None = None
        self.captures: dict[Loc, object] = {}  # captured variable -> first reference node
        self.tparams = tparams
        self.static = False  # a closure only ever called where it is defined
        self.cost = 0
        self.returns: list = []  # return statements
        self.name = ""
        self.params: list[Loc | None] = []  # in order, None for "_"
        self.depth = 0
        self.start_seq = 0

    def encloses(self, other: "Fn") -> bool:
        f = other.parent
        while f is not None:
            if f is self:
                return True
            f = f.parent
        return False


@dataclass
class Escape:
    """An allocation whose address reaches a result."""

    kind: str  # COMPOSITE | NEW | VARIABLE
    node: object  # where to report: the "&", new's "(", the variable's name
    span_end: object  # node whose end ends the reported span
    what: str  # "&T{...}", "new(T)", "x"
    type_text: str
    typ: Type | None
    fn: Fn
    result: Loc
    steps: list = field(default_factory=list)  # [(note node, dst Loc)] from the allocation to the result
    closure: bool = False  # captured by a returned closure


def _t(node) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def _unparen_type_node(node):
    while node is not None and node.type in ("parenthesized_type",) and node.named_children:
        node = node.named_children[0]
    return node


def _unparen(node):
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node


_SIDE_EFFECTS = re.compile(rb"&[^&]|\bfunc\b|\[[^\]]*:|\+\+|--")
_LEAF_TYPES = frozenset(("identifier", "int_literal", "interpreted_string_literal", "raw_string_literal", "nil",
                         "true", "false", "float_literal", "rune_literal"))


class Analyzer:
    """Analyses one top-level function (or package-level func literal)."""

    def __init__(self, types: TypeInfo, consts: ConstEnv, per_iteration_loops: bool = True,
                 summary_depth: int = 0):
        self.types = types
        self.consts = consts
        self.per_iteration = per_iteration_loops
        self.summary_depth = summary_depth
        # Summaries track flows to the heap too (a parameter that leaks to the
        # heap does not leak to a result); findings only need the results.
        self.track_heap = summary_depth > 0

    # ------------------------------------------------------------------
    def run(self, top, keep: set[bytes] | None = None) -> list[Escape]:
        """The escapes of ``top``. ``keep``: the only variables whose flows can
        matter (read from the text); statements that mention none of them are
        skipped."""
        self.keep = keep
        if keep is not None:
            # where the keep variables occur: a statement is skipped when none
            # falls inside it (one scan of the function, not one per statement)
            base = top.start_byte
            self._mentions = [base + m.start() for m in _IDENT.finditer(top.text) if m.group() in keep]
        try:
            self.walk(top)
        finally:
            self.keep = None
        return self.solve()

    keep: set[bytes] | None = None
    _mentions: list[int] = []

    def walk(self, top) -> Fn:
        self.fns: list[Fn] = []
        self.closures: list[tuple[Fn, Loc, object]] = []
        self.sites: list[Loc] = []
        self.vars: list[Loc] = []
        self.scopes: list[dict] = [{}]
        self.fn: Fn | None = None
        self.heap = Loc("heap", None, None)
        self.local_consts: list[dict] = [{}]
        self.depth = 0  # loop depth
        self.seq = 0  # event counter, for "reassigned after the first capture"
        self.closure_names: set[bytes] = set()  # variables holding a func literal
        self._static: dict[int, int] = {}
        fn = self.func(top)
        self.flow_closures()
        return fn

    # ------------------------------------------------------------------
    # summaries of same-package functions: which parameters reach a result
    # ------------------------------------------------------------------
    def param_flows(self, top) -> dict:
        """{parameter index (-1: receiver): dereferences to a result}, plus
        "recv_ptr" (the receiver is a pointer)."""
        fn = self.walk(top)
        recv = None
        out_ptr = False
        if top.type == "method_declaration":
            rl = top.child_by_field_name("receiver")
            for p in rl.named_children if rl is not None else ():
                names = p.children_by_field_name("name")
                if names:
                    recv = self.lookup_in(fn, names[0])
                t = p.child_by_field_name("type")
                out_ptr = t is not None and t.type == "pointer_type"
        wanted = {loc: i for i, loc in enumerate(fn.params) if loc is not None}
        if recv is not None:
            wanted[recv] = -1
        # Like the compiler's parameter tags: walk from the heap first; what
        # escapes there is not walked from the results, and a parameter that
        # reaches the heap with no more dereferences than a result does not
        # leak to that result.
        escaping: set = set()
        heap_d = self._walk_from(self.heap, wanted, escaping, prune=False)
        res: dict = {}
        for j, r in enumerate(fn.results):
            for idx, d in self._walk_from(r, wanted, escaping, prune=True).items():
                if heap_d.get(idx) is None or d < heap_d[idx]:
                    res.setdefault(idx, {})[j] = d
        return {"res": res, "heap": heap_d, "recv_ptr": out_ptr}

    @staticmethod
    def _walk_from(root: Loc, wanted: dict, escaping: set, prune: bool) -> dict:
        found: dict = {}
        dist = {root: 0}
        todo = [root]
        i = 0
        while i < len(todo):
            loc = todo[i]
            i += 1
            d = dist[loc]
            if d < 0 and loc is not root:
                escaping.add(loc)  # its address outlives the function: it is on the heap
                if prune:
                    continue
                d = 0
            idx = wanted.get(loc)
            if idx is not None and (idx not in found or d < found[idx]):
                found[idx] = d
            for src, ed, _ in loc.edges:
                if prune and src in escaping:
                    continue
                nd = d + ed
                old = dist.get(src)
                if old is None or nd < old:
                    dist[src] = nd
                    todo.append(src)
        return found

    def lookup_in(self, fn: Fn, ident) -> Loc | None:
        for loc in self.vars:
            if loc.fn is fn and loc.node is not None and loc.node.start_byte == ident.start_byte:
                return loc
        return None

    def summary(self, name: str, recv: str | None):
        pkg = self.consts.package
        if pkg is None or self.summary_depth >= 1:
            return None
        key = (name, recv)
        cache = pkg.summaries
        if key in cache:
            return cache[key]
        cache[key] = None  # recursion
        node = pkg.func_decl(name, recv)
        if node is None:
            return None
        sub = Analyzer(self.types, self.consts, self.per_iteration, summary_depth=self.summary_depth + 1)
        try:
            result = sub.param_flows(node)
        except RecursionError:  # pragma: no cover - pathological nesting
            result = None
        cache[key] = result
        return result

    def result_types(self, name: str, recv: str | None) -> list:
        """Result types of a same-package function or method (empty if unknown)."""
        pkg = self.consts.package
        if pkg is None:
            return []
        node = pkg.func_decl(name, recv)
        res = node.child_by_field_name("result") if node is not None else None
        if res is None:
            return []
        if res.type != "parameter_list":
            return [Type(res, tparams=self.tparams_of_decl(node))]
        out = []
        tps = self.tparams_of_decl(node)
        for p in res.named_children:
            t = p.child_by_field_name("type")
            out.extend([Type(t, tparams=tps)] * max(1, len(p.children_by_field_name("name"))))
        return out

    @staticmethod
    def tparams_of_decl(node) -> frozenset:
        tps = node.child_by_field_name("type_parameters")
        names = set()
        for d in tps.named_children if tps is not None else ():
            if d.type == "type_parameter_declaration":
                names.update(_t(n) for n in d.children_by_field_name("name"))
        return frozenset(names)

    def type_name(self, typ: Type | None) -> tuple[str, bool] | None:
        """(name, is pointer) of a same-package named type, or of big.Int & co."""
        ptr = False
        if typ is not None and typ.ptr is not None:
            typ, ptr = typ.ptr, True
        node = _unparen_type_node(typ.node) if typ is not None else None
        if node is not None and node.type == "pointer_type" and node.named_children:
            node, ptr = _unparen_type_node(node.named_children[-1]), True
        if node is None:
            return None
        if node.type == "generic_type":
            node = node.child_by_field_name("type")
        if node is None:
            return None
        if node.type == "type_identifier":
            name = _t(node)
            if name in typ.tparams or name in BUILTIN_TYPES:
                return None
            return name, ptr
        if node.type == "qualified_type" and _t(node) in BIG_TYPES:
            return _t(node), ptr
        return None

    # ------------------------------------------------------------------
    # functions and scopes
    # ------------------------------------------------------------------
    def declare(self, ident, kind="var", typ: Type | None = None, *, param=False, result=False) -> Loc | None:
        name = _t(ident)
        if name == "_" or not name:
            return None
        loc = Loc(kind, ident, self.fn, name, typ)
        loc.param, loc.result = param, result
        loc.depth = self.depth
        self.scopes[-1][name] = loc
        if kind == "var":
            self.vars.append(loc)
        return loc

    def lookup(self, ident) -> Loc | None:
        name = _t(ident)
        for scope in reversed(self.scopes):
            loc = scope.get(name)
            if loc is not None:
                if isinstance(loc, Loc) and loc.fn is not self.fn and loc.fn is not None:
                    self.capture(loc, ident)
                return loc if isinstance(loc, Loc) else None
        return None

    def shadowed(self, name: str) -> bool:
        return any(name in s for s in self.scopes)

    def capture(self, loc: Loc, ident) -> None:
        f = self.fn
        outer = None
        while f is not None and f is not loc.fn:
            if f.closure_loc is not None:
                f.captures.setdefault(loc, ident)
                outer = f
            f = f.parent
        if not loc.captured:
            loc.first_capture = outer
        loc.captured = True

    def reassign(self, loc: Loc) -> None:
        self.seq += 1
        loc.reassigned = True
        loc.last_reassign = self.seq

    def tparams_of(self, node) -> frozenset:
        names = set(self.fn.tparams) if self.fn is not None else set()
        tps = node.child_by_field_name("type_parameters")
        if tps is not None:
            for d in tps.named_children:
                if d.type == "type_parameter_declaration":
                    names.update(_t(n) for n in d.children_by_field_name("name"))
        recv = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
        if recv is not None:
            for p in recv.named_children:
                t = p.child_by_field_name("type")
                while t is not None and t.type in ("pointer_type", "parenthesized_type"):
                    t = t.named_children[-1] if t.named_children else None
                if t is not None and t.type == "generic_type":
                    args = t.child_by_field_name("type_arguments")
                    for a in args.named_children if args is not None else ():
                        names.add(_t(a))
        return frozenset(names)

    def func(self, node, *, static=False):
        """Analyse a function or func literal; returns its Fn."""
        parent = self.fn
        fn = Fn(node, parent, frozenset())
        self.fn = fn
        fn.tparams = self.tparams_of(node)
        name = node.child_by_field_name("name")
        fn.name = _t(name) if name is not None else ""
        self.fns.append(fn)
        if node.type == "func_literal":
            fn.closure_loc = Loc("closure", node, parent)
            fn.static = static
            fn.depth = self.depth
            self.seq += 1
            fn.start_seq = self.seq
        self.scopes.append({})
        self.local_consts.append({})
        if node.type == "method_declaration":
            recv = node.child_by_field_name("receiver")
            self.params(recv, param=True)
        fn.params = self.params(node.child_by_field_name("parameters"), param=True, keep_blank=True)
        res = node.child_by_field_name("result")
        if res is not None:
            if res.type == "parameter_list":
                named = any(p.child_by_field_name("name") is not None for p in res.named_children)
                fn.named = named
                if named:
                    fn.results = [loc for loc in self.params(res, result=True)]
                else:
                    fn.results = [Loc("result", p, fn, f"~r{i}", self.type_of_node(p.child_by_field_name("type")))
                                  for i, p in enumerate(res.named_children)]
            else:
                fn.results = [Loc("result", res, fn, "~r0", self.type_of_node(res))]
        body = node.child_by_field_name("body")
        if body is not None:
            # the body's top-level block is the parameters' scope
            for c in body.named_children:
                if c.type == "statement_list":
                    self.stmts(c.named_children)
        self.scopes.pop()
        self.local_consts.pop()
        self.fn = parent
        if body is not None and node.type == "func_literal":
            fn.cost = self.inline_cost(body)
            # The compiler ignores reassignments in straight-line code before
            # the first capture by a closure (same loop depth), not those in
            # the closure's body or after it.
            for v in fn.captures:
                if v.first_capture is fn and v.depth == fn.depth and v.last_reassign < fn.start_seq:
                    v.reassigned = False
        return fn

    def params(self, plist, *, param=False, result=False, keep_blank=False) -> list:
        out = []
        if plist is None:
            return out
        for p in plist.named_children:
            if p.type not in ("parameter_declaration", "variadic_parameter_declaration"):
                continue
            tnode = p.child_by_field_name("type")
            typ = self.type_of_node(tnode)
            if p.type == "variadic_parameter_declaration":
                typ = None  # a slice of the written type
            names = p.children_by_field_name("name")
            for n in names:
                loc = self.declare(n, typ=typ, param=param, result=result)
                if loc is not None:
                    out.append(loc)
                elif result:
                    out.append(Loc("result", n, self.fn, "_", typ))
                elif keep_blank:
                    out.append(None)
        return out

    def type_of_node(self, node) -> Type | None:
        if node is None:
            return None
        return Type(node, tparams=self.fn.tparams if self.fn else frozenset())

    def inline_cost(self, body) -> int:
        """A rough estimate of the compiler's inlining cost of a closure body."""
        cost = 0
        stack = [body]
        while stack:
            n = stack.pop()
            cost += 1
            if cost > INLINE_BUDGET:
                return cost
            if n.type == "call_expression":
                f = _unparen(n.child_by_field_name("function"))
                if not (f is not None and f.type == "identifier" and _t(f) in BUILTIN_NO_FLOW | BUILTIN_TYPES
                        | {"append", "new", "panic", "min", "max"}):
                    cost += INLINE_CALL_COST
            elif n.type in ("for_statement", "select_statement", "go_statement", "defer_statement",
                            "func_literal", "labeled_statement", "goto_statement"):
                return INLINE_BUDGET + 1  # not inlinable (or not worth guessing)
            stack.extend(n.named_children)
        return cost

    # ------------------------------------------------------------------
    # flows
    # ------------------------------------------------------------------
    def flow(self, k, src: Loc | None, note=None) -> None:
        if k is None or src is None:
            return
        dst, derefs, knote = k
        if derefs < 0:
            src.addrtaken = True
        if dst is self.heap and not self.track_heap:
            return
        if dst is src and derefs >= 0:
            return
        dst.edges.append((src, derefs, knote if knote is not None else note))

    @staticmethod
    def addr(k):
        return None if k is None else (k[0], k[1] - 1, k[2])

    @staticmethod
    def deref(k):
        return None if k is None else (k[0], k[1] + 1, k[2])

    def hole(self, loc: Loc | None, note=None):
        return (loc, 0, note) if loc is not None else None

    def discard(self, n) -> None:
        """Evaluate an expression whose value goes somewhere we do not track (an
        argument of a call we know nothing about: assumed not to keep it)."""
        if n is not None:
            self.expr(None, n)

    def to_heap(self, n) -> None:
        """Evaluate an expression whose value certainly goes to the heap (sent on
        a channel, appended, given to a goroutine...)."""
        if n is not None:
            self.expr((self.heap, 0, None) if self.track_heap else None, n)

    # ------------------------------------------------------------------
    # statements
    # ------------------------------------------------------------------
    def block(self, node) -> None:
        self.scopes.append({})
        self.local_consts.append({})
        for c in node.named_children:
            if c.type == "statement_list":
                self.stmts(c.named_children)
            else:
                self.stmts([c])
        self.scopes.pop()
        self.local_consts.pop()

    def stmts(self, stmts) -> None:
        last_label = max((i for i, s in enumerate(stmts) if s.type == "labeled_statement"), default=-1)
        dead = False
        keep = self.keep
        mentions = self._mentions
        for i, s in enumerate(stmts):
            if dead and i > last_label and s.type != "labeled_statement":
                continue
            if keep is None or s.type in _NOT_PRUNABLE:
                self.stmt(s)
            else:
                j = bisect_left(mentions, s.start_byte)
                if j < len(mentions) and mentions[j] < s.end_byte:
                    self.stmt(s)
            # only worth knowing when something follows
            dead = i + 1 < len(stmts) and self.terminates(s)

    def const_env(self) -> ConstEnv:
        return _ScopedConsts(self)

    def static(self, cond) -> int:
        """+1 / -1 when ``cond`` is a constant true / false, else 0 (cached)."""
        if cond is None:
            return 0
        key = cond.start_byte
        v = self._static.get(key)
        if v is None:
            if cond.type == "binary_expression" and _NIL_COMPARE.search(cond.text):
                v = 0  # x != nil, err == nil: never constant
            else:
                v = static_bool(cond, self.const_env())
            self._static[key] = v
        return v

    def terminates(self, s) -> bool:
        t = s.type
        if t in ("return_statement", "goto_statement"):
            return True
        if t == "expression_statement":
            c = _unparen(s.named_children[0]) if s.named_children else None
            if c is not None and c.type == "call_expression":
                f = c.child_by_field_name("function")
                return f is not None and f.type == "identifier" and _t(f) == "panic" and not self.shadowed("panic")
            return False
        if t == "if_statement":
            cond = self.static(s.child_by_field_name("condition"))
            then = s.child_by_field_name("consequence")
            alt = s.child_by_field_name("alternative")
            return (cond < 0 or (then is not None and self.terminates(then))) and \
                (cond > 0 or (alt is not None and self.terminates(alt)))
        if t == "block":
            kids = s.named_children
            if kids and kids[0].type == "statement_list":
                kids = kids[0].named_children
            kids = [k for k in kids if k.type != "empty_statement" and k.type != "comment"]
            return bool(kids) and self.terminates(kids[-1])
        return False

    def stmt(self, s) -> None:
        t = s.type
        if t == "comment" or t == "empty_statement":
            return
        m = getattr(self, "s_" + t, None)
        if m is not None:
            m(s)
        else:
            for c in s.named_children:
                if c.type.endswith("_statement") or c.type == "block":
                    self.stmt(c)
                elif c.type not in ("label_name", "comment"):
                    self.discard(c)

    def s_block(self, s):
        self.block(s)

    def s_expression_statement(self, s):
        for c in s.named_children:
            self.expr(None, c)

    def s_labeled_statement(self, s):
        for c in s.named_children:
            if c.type != "label_name":
                self.stmt(c)

    def s_go_statement(self, s):
        for c in s.named_children:
            self.to_heap(c)

    def s_defer_statement(self, s):
        for c in s.named_children:
            self.discard(c)

    def s_send_statement(self, s):
        for c in s.named_children:
            self.to_heap(c)

    def s_inc_statement(self, s):
        for c in s.named_children:
            self.assign_target(c, s)

    s_dec_statement = s_inc_statement

    def s_return_statement(self, s):
        fn = self.fn
        fn.returns.append(s)
        vals = s.named_children
        if not vals:
            return
        vals = vals[0].named_children if vals[0].type == "expression_list" else vals
        if len(vals) == len(fn.results):
            for r, v in zip(fn.results, vals):
                self.expr((r, 0, s), v)
        elif len(vals) == 1 and _unparen(vals[0]).type == "call_expression":
            self.call(None, _unparen(vals[0]), ks=[(r, 0, s) for r in fn.results])  # return f()
        else:
            for v in vals:
                self.expr(None, v)

    def s_var_declaration(self, s):
        for spec in s.named_children:
            specs = spec.named_children if spec.type == "var_spec_list" else [spec]
            for sp in specs:
                if sp.type == "var_spec":
                    self.var_spec(sp)

    def var_spec(self, sp):
        tnode = sp.child_by_field_name("type")
        values = sp.child_by_field_name("value")
        vals = values.named_children if values is not None else []
        names = sp.children_by_field_name("name")
        # the values are evaluated before the names are in scope
        locs = [Loc("var", n, self.fn, _t(n), self.type_of_node(tnode) if tnode is not None
                    else (self.infer(vals[i]) if i < len(vals) else None)) for i, n in enumerate(names)]
        if len(vals) == len(names):
            for loc, v in zip(locs, vals):
                self.expr((loc, 0, sp) if loc.name != "_" else None, v)
                fl = _unparen(v)
                if fl is not None and fl.type == "func_literal":
                    loc.closure = self._last_closure
                    self.closure_names.add(loc.name.encode())
        else:
            for v in vals:
                self.expr(None, v)
        for loc in locs:
            if loc.name != "_":
                loc.defs = 1
                loc.depth = self.depth
                self.scopes[-1][loc.name] = loc
                self.vars.append(loc)

    def s_const_declaration(self, s):
        env = self.const_env()
        consts = self.local_consts[-1]
        last = None
        for i, spec in enumerate(c for c in s.named_children if c.type == "const_spec"):
            values = spec.child_by_field_name("value")
            if values is not None:
                last = values.named_children
            for j, n in enumerate(spec.children_by_field_name("name")):
                name = _t(n)
                try:
                    consts[name] = evaluate(last[j], env, i) if last is not None and j < len(last) else NOT_CONST
                except (Unknown, RecursionError):
                    consts[name] = NOT_CONST
                # a constant shadows outer variables of the same name
                self.scopes[-1][name] = "const"

    def s_type_declaration(self, s):
        for spec in s.named_children:
            n = spec.child_by_field_name("name")
            if n is not None:
                self.scopes[-1][_t(n)] = "type"

    def s_short_var_declaration(self, s):
        self.define(s.child_by_field_name("left"), s.child_by_field_name("right"), s)

    def define(self, left, right, note, *, range_of=None):
        lhs = left.named_children if left is not None and left.type == "expression_list" else (
            [left] if left is not None else [])
        rhs = right.named_children if right is not None and right.type == "expression_list" else (
            [right] if right is not None else [])
        # := redeclares names already declared in the same scope (assignment)
        scope = self.scopes[-1]
        targets = []
        for n in lhs:
            name = _t(n)
            old = scope.get(name)
            if n.type == "identifier" and name != "_" and isinstance(old, Loc) and old.fn is self.fn:
                self.reassign(old)
                targets.append((old, False))
            elif n.type == "identifier" and name != "_":
                targets.append((Loc("var", n, self.fn, name), True))
            else:
                targets.append((None, False))
        if len(lhs) == len(rhs):
            for (loc, new), v in zip(targets, rhs):
                if new:
                    uv = _unparen(v)
                    if uv.type == "call_expression":
                        loc.typ = self.call_result_type(uv, 0)
                    else:
                        loc.typ = self.infer(v)
                self.expr(self.hole(loc, note), v)
                fl = _unparen(v)
                if new and fl is not None and fl.type == "func_literal":
                    loc.closure = self._last_closure
                    self.closure_names.add(loc.name.encode())
        elif len(rhs) == 1:
            self.multi_value(targets, rhs[0], note)
        for loc, new in targets:
            if new:
                loc.defs = 1
                loc.depth = self.depth
                scope[loc.name] = loc
                self.vars.append(loc)

    def multi_value(self, targets, v, note):
        """``a, ok := x.(T)``, ``v, ok := m[k]``, ``v, ok := <-ch``, ``a, b := f()``."""
        v = _unparen(v)
        first = targets[0][0] if targets else None
        if v.type in ("type_assertion_expression", "index_expression") or (
                v.type == "unary_expression" and v.child_by_field_name("operator").type == "<-"):
            if targets and targets[0][1]:
                first.typ = self.infer(v)
            self.expr(self.hole(first, note), v)
        elif v.type == "call_expression":
            for j, (loc, new) in enumerate(targets):
                if new:
                    loc.typ = self.call_result_type(v, j)
            self.call(None, v, ks=[self.hole(loc, note) for loc, _ in targets])
        else:
            self.expr(None, v)

    def s_assignment_statement(self, s):
        left = s.child_by_field_name("left")
        right = s.child_by_field_name("right")
        op = s.child_by_field_name("operator")
        lhs = left.named_children if left.type == "expression_list" else [left]
        rhs = right.named_children if right.type == "expression_list" else [right]
        holes = [self.assign_target(n, s) for n in lhs]
        if op is not None and op.type != "=":
            for v in rhs:
                self.expr(None, v)
            return
        if len(lhs) == len(rhs):
            for k, v in zip(holes, rhs):
                self.expr(k, v)
        elif len(rhs) == 1:
            v = _unparen(rhs[0])
            if v.type in ("type_assertion_expression", "index_expression") or (
                    v.type == "unary_expression" and v.child_by_field_name("operator").type == "<-"):
                self.expr(holes[0] if holes else None, v)
            elif v.type == "call_expression":
                self.call(None, v, ks=holes)
            else:
                self.expr(None, v)

    def assign_target(self, n, note):
        """The hole for an assignment's left-hand side, marking reassignments."""
        n = _unparen(n)
        t = n.type
        if t == "identifier":
            if _t(n) == "_":
                return None
            loc = self.lookup(n)
            if loc is None:
                return (self.heap, 0, note)  # a package-level variable
            self.reassign(loc)
            return (loc, 0, note)
        if t == "selector_expression":
            base = _unparen(n.child_by_field_name("operand"))
            kind = self.value_kind(base)
            if kind in (STRUCT, NAMED):
                k = self.assign_target(base, note)
                return k
            self.discard(base)
            return (self.heap, 0, note)
        if t == "index_expression":
            base = _unparen(n.child_by_field_name("operand"))
            self.discard(n.child_by_field_name("index"))
            if self.value_kind(base) == ARRAY:
                return self.assign_target(base, note)
            self.discard(base)
            return (self.heap, 0, note)
        if t == "unary_expression":
            self.discard(n.child_by_field_name("operand"))
            return (self.heap, 0, note)
        self.discard(n)
        return (self.heap, 0, note)

    def s_if_statement(self, s):
        self.scopes.append({})
        init = s.child_by_field_name("initializer")
        if init is not None:
            self.stmt(init)
        cond = s.child_by_field_name("condition")
        static = self.static(cond)
        if cond is not None:
            self.expr(None, cond)
        then = s.child_by_field_name("consequence")
        alt = s.child_by_field_name("alternative")
        if static >= 0 and then is not None:
            self.block(then)
        if static <= 0 and alt is not None:
            self.stmt(alt)
        self.scopes.pop()

    def s_for_statement(self, s):
        self.scopes.append({})
        body = s.child_by_field_name("body")
        clause = next((c for c in s.named_children if c.type in ("for_clause", "range_clause")), None)
        if clause is not None and clause.type == "for_clause":
            init = clause.child_by_field_name("initializer")
            if init is not None:
                self.stmt(init)
                if self.per_iteration:  # Go 1.22: a new variable per iteration
                    for loc in self.scopes[-1].values():
                        if isinstance(loc, Loc):
                            loc.depth = self.depth + 1
            cond = clause.child_by_field_name("condition")
            if cond is not None and self.static(cond) < 0:
                self.scopes.pop()
                return
            self.depth += 1
            if cond is not None:
                self.expr(None, cond)
            if body is not None:
                self.block(body)
            upd = clause.child_by_field_name("update")
            if upd is not None:
                self.stmt(upd)
            self.depth -= 1
        elif clause is not None:
            self.range_clause(clause)
            self.depth += 1
            if body is not None:
                self.block(body)
            self.depth -= 1
        else:
            cond = next((c for c in s.named_children if c is not body and c.type != "comment"), None)
            if cond is not None and self.static(cond) < 0:
                self.scopes.pop()
                return
            self.depth += 1
            if cond is not None:
                self.expr(None, cond)
            if body is not None:
                self.block(body)
            self.depth -= 1
        self.scopes.pop()

    def range_clause(self, clause):
        left = clause.child_by_field_name("left")
        right = clause.child_by_field_name("right")
        rtyp = self.infer(right) if right is not None else None
        kind = self.types.kind(rtyp) if rtyp is not None else None
        lhs = left.named_children if left is not None and left.type == "expression_list" else (
            [left] if left is not None else [])
        define = any(c.type == ":=" for c in clause.children)
        # the value is copied out of an array value, or loaded through the
        # pointer of a slice, map, channel...
        elem, key = None, None
        if kind == ARRAY:
            k_derefs = 0
            elem = self.types.elem(rtyp)
        else:
            k_derefs = 1
            if kind in (SLICE, MAP, POINTER):
                e = self.types.elem(rtyp)
                elem = self.types.elem(e) if kind == POINTER else e
                if kind == MAP:
                    kn = _unparen_type_node(rtyp.node) if rtyp is not None else None
                    key = self.type_of_node(kn.child_by_field_name("key")) if kn is not None and \
                        kn.type == "map_type" else None
            else:
                yielded = self.yield_types(rtyp)
                if yielded:
                    key = yielded[0]
                    elem = yielded[1] if len(yielded) > 1 else None
        targets, new = [], []
        for i, n in enumerate(lhs):
            if define:
                name = _t(n)
                loc = Loc("var", n, self.fn, name, elem if i == 1 else key) if name != "_" else None
                if loc is not None:
                    loc.defs = 1
                    loc.reassigned = not self.per_iteration
                    loc.depth = self.depth + (1 if self.per_iteration else 0)
                    new.append(loc)
                targets.append((loc, 0, clause) if loc is not None else None)
            else:
                targets.append(self.assign_target(n, clause))
        if right is not None:
            if len(targets) >= 2 and targets[1] is not None:
                k = targets[1]
                self.expr((k[0], k[1] + k_derefs, k[2]), right)
            else:
                self.expr(None, right)
        for loc in new:
            self.scopes[-1][loc.name] = loc
            self.vars.append(loc)

    def s_expression_switch_statement(self, s):
        self.scopes.append({})
        init = s.child_by_field_name("initializer")
        if init is not None:
            self.stmt(init)
        value = s.child_by_field_name("value")
        if value is not None:
            self.expr(None, value)
        clauses = [c for c in s.named_children if c.type in ("expression_case", "default_case")]
        target = self.static_switch(value, clauses)
        for c in clauses:
            if target is not None and c is not target:
                continue
            self.scopes.append({})
            vals = c.child_by_field_name("value")
            if vals is not None:
                self.expr(None, vals)
            self.stmts([x for x in c.named_children if x is not vals and x.type != "comment"]
                       if not any(x.type == "statement_list" for x in c.named_children)
                       else next(x for x in c.named_children if x.type == "statement_list").named_children)
            self.scopes.pop()
        self.scopes.pop()

    def static_switch(self, tag, clauses):
        """The only clause the compiler keeps when the tag and cases are constants."""
        env = self.const_env()
        try:
            tag_value = evaluate(tag, env) if tag is not None else True
        except (Unknown, RecursionError):
            return None
        target = None
        for c in clauses:
            vals = c.child_by_field_name("value")
            if c.type == "default_case":
                target = c
                continue
            for v in vals.named_children if vals is not None else ():
                try:
                    cv = evaluate(v, env)
                except (Unknown, RecursionError):
                    return None
                if cv == tag_value and type(cv) is type(tag_value):
                    target = c
                    break
            else:
                continue
            break
        if target is not None and any(x.type == "fallthrough_statement" for x in self._walk_shallow(target)):
            return None
        return target if target is not None else _NO_CLAUSE

    @staticmethod
    def _walk_shallow(node):
        out = []
        for c in node.named_children:
            out.append(c)
            if c.type == "statement_list":
                out.extend(c.named_children)
        return out

    def s_type_switch_statement(self, s):
        self.scopes.append({})
        init = s.child_by_field_name("initializer")
        if init is not None:
            self.stmt(init)
        alias = s.child_by_field_name("alias")
        value = s.child_by_field_name("value")
        names = alias.named_children if alias is not None else []
        for c in s.named_children:
            if c.type not in ("type_case", "default_case"):
                continue
            self.scopes.append({})
            types = c.children_by_field_name("type")
            if names:
                typ = self.type_of_node(types[0]) if len(types) == 1 else None
                loc = self.declare(names[0], typ=typ)
                if loc is not None:
                    loc.defs = 1
                    kind = self.types.kind(typ) if typ is not None else IFACE
                    derefs = 0 if kind in DIRECT_KINDS or kind in (IFACE, TYPEPARAM) else 1
                    self.expr((loc, derefs, s), value)
            elif value is not None:
                self.expr(None, value)
            body = next((x for x in c.named_children if x.type == "statement_list"), None)
            if body is not None:
                self.stmts(body.named_children)
            self.scopes.pop()
        self.scopes.pop()

    def s_select_statement(self, s):
        for c in s.named_children:
            if c.type not in ("communication_case", "default_case"):
                continue
            self.scopes.append({})
            comm = c.child_by_field_name("communication")
            if comm is not None:
                if comm.type == "receive_statement":
                    left = comm.child_by_field_name("left")
                    right = comm.child_by_field_name("right")
                    if left is not None and any(x.type == ":=" for x in comm.children):
                        self.define(left, right, comm)
                    elif left is not None:
                        lhs = left.named_children if left.type == "expression_list" else [left]
                        ks = [self.assign_target(n, comm) for n in lhs]
                        self.expr(ks[0] if ks else None, right)
                    else:
                        self.expr(None, right)
                else:
                    self.stmt(comm)
            body = next((x for x in c.named_children if x.type == "statement_list"), None)
            if body is not None:
                self.stmts(body.named_children)
            self.scopes.pop()

    # ------------------------------------------------------------------
    # expressions
    # ------------------------------------------------------------------
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
            base = _unparen(n.child_by_field_name("operand"))
            if base.type == "identifier" and self.lookup_quiet(base) is None:
                return  # pkg.Name, or a field of a package-level variable
            kind = self.value_kind(base)
            self.expr(k if kind in (STRUCT, NAMED) else self.deref(k), base)
            return
        if t == "index_expression":
            base = _unparen(n.child_by_field_name("operand"))
            self.expr(None, n.child_by_field_name("index"))
            kind = self.value_kind(base)
            self.expr(k if kind == ARRAY else self.deref(k), base)
            return
        if t == "slice_expression":
            base = _unparen(n.child_by_field_name("operand"))
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
            elif tnode is not None and _t(tnode).replace(" ", "") in COPYING_CONVERSIONS:
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
        name = _t(ident)
        for scope in reversed(self.scopes):
            if name in scope:
                v = scope[name]
                return v if isinstance(v, Loc) else None
        return None

    def address(self, k, x, at) -> None:
        """``&x``: the hole receives x's address."""
        x = _unparen(x)
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
            base = _unparen(x.child_by_field_name("operand"))
            if base.type == "identifier" and self.lookup_quiet(base) is None:
                return  # &pkg.Var: a package-level variable
            kind = self.value_kind(base, addressed=True)
            if kind in (STRUCT, NAMED):
                self.address(k, base, at)
            else:
                self.expr(k, base)  # &p.f is p
            return
        if t == "index_expression":
            base = _unparen(x.child_by_field_name("operand"))
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
        f = _unparen(fn)
        if f.type == "identifier":
            name = _t(f)
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
            base = _unparen(f.child_by_field_name("operand"))
            if base.type == "identifier" and self.lookup_quiet(base) is None and not self.shadowed(_t(base)):
                if _t(base) == "unsafe":
                    for a in args:
                        self.expr(k, a)  # unsafe.Pointer(p), unsafe.Slice(p, n)...
                    return
            elif self.track_heap or any(self.wanted_hole(x) for x in ks):
                method = _t(f.child_by_field_name("field"))
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
        n = _unparen(n)
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
            f = _unparen(n.child_by_field_name("function"))
            args = n.child_by_field_name("arguments")
            argv = args.named_children if args is not None else []
            if f.type == "identifier" and self.lookup_quiet(f) is None:
                name = _t(f)
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
                base = _unparen(f.child_by_field_name("operand"))
                if not (base.type == "identifier" and self.lookup_quiet(base) is None):
                    tn = self.type_name(self.infer(base))
                    if tn is not None and tn[0] not in BIG_TYPES:
                        rts = self.result_types(_t(f.child_by_field_name("field")), tn[0])
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
            base = _unparen(n.child_by_field_name("operand"))
            bt = self.infer(base)
            if bt is None:
                return None
            if self.types.kind(bt) == POINTER:
                bt = self.types.elem(bt)
            found, ft = self.types.field(bt, _t(n.child_by_field_name("field")))
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
        f = _unparen(call.child_by_field_name("function"))
        if f.type == "identifier":
            if self.lookup_quiet(f) is not None or self.shadowed(_t(f)):
                return None
            name = _t(f)
            if j == 0 and (name in BUILTIN_TYPES or name in ("new", "make")):
                return self.infer(call)
            return lambda: (lambda rts: rts[j] if j < len(rts) else None)(self.result_types(name, None))
        if f.type == "selector_expression":
            base = _unparen(f.child_by_field_name("operand"))
            method = _t(f.child_by_field_name("field"))
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
        node = _unparen_type_node(typ.node) if typ is not None and typ.node is not None else None
        if node is None:
            return []
        if node.type == "generic_type":
            base = node.child_by_field_name("type")
            args = node.child_by_field_name("type_arguments")
            if base is not None and _t(base) in ("iter.Seq", "iter.Seq2") and args is not None:
                return [self.type_of_node(a) for a in args.named_children]
            return []
        if node.type == "function_type":
            params = node.child_by_field_name("parameters")
            ps = params.named_children if params is not None else []
            if len(ps) == 1:
                yt = _unparen_type_node(ps[0].child_by_field_name("type"))
                if yt is not None and yt.type == "function_type":
                    yp = yt.child_by_field_name("parameters")
                    return [self.type_of_node(p.child_by_field_name("type"))
                            for p in (yp.named_children if yp is not None else [])]
        return []

    def value_kind(self, base, *, addressed: bool = False) -> str | None:
        """The kind of ``base``'s type: STRUCT/ARRAY for values, POINTER, SLICE... or None."""
        base = _unparen(base)
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

    # ------------------------------------------------------------------
    # closures and solving
    # ------------------------------------------------------------------
    def flow_closures(self) -> None:
        for fn, cl, node in self.closures:
            for v, ref in fn.captures.items():
                size = self.types.size(v.typ) if v.typ is not None else None
                byval = not v.addrtaken and not v.reassigned and (size is None or size <= CAPTURE_BY_VALUE_MAX)
                cl.edges.append((v, 0 if byval else -1, ref))
                if not byval:
                    v.addrtaken = True
        # a closure defined in a variable that is only ever called is static
        for v in self.vars:
            if v.closure is not None and not v.reassigned and v.noncall_uses == 0:
                v.closure.static = True

    @staticmethod
    def inlined(fn: Fn) -> bool:
        """A closure called only where it is defined, capturing variables, small
        enough to inline: the compiler inlines it and drops it, so its
        allocations show up at its call sites, not in it."""
        while fn is not None:
            if fn.closure_loc is not None and fn.static and fn.captures and fn.cost <= INLINE_BUDGET:
                return True
            fn = fn.parent
        return False

    def roots(self, fn: Fn) -> list[Loc]:
        if self.inlined(fn):
            return []  # no results of its own
        return fn.results

    def outlives(self, r: Loc, l: Loc) -> bool:
        rf, lf = r.fn, l.fn
        if rf is lf or rf.encloses(lf):
            return True
        if lf.encloses(rf):
            return not rf.static  # a closure called in place keeps its results
        return False

    def solve(self) -> list[Escape]:
        found: dict[Loc, Escape] = {}
        for fn in self.fns:
            for r in self.roots(fn):
                dist = {r: 0}
                pred: dict[Loc, tuple] = {}
                todo = [r]
                i = 0
                while i < len(todo):
                    loc = todo[i]
                    i += 1
                    d = dist[loc]
                    if d < 0:
                        if loc not in found and loc.kind in (COMPOSITE, NEW, "var") and loc is not r \
                                and self.outlives(r, loc) and not self.inlined(loc.fn):
                            found[loc] = self.escape(loc, r, pred)
                        d = 0
                    for src, ed, note in loc.edges:
                        nd = d + ed
                        old = dist.get(src)
                        if old is None or nd < old:
                            dist[src] = nd
                            pred[src] = (loc, note)
                            todo.append(src)
        return sorted(found.values(), key=lambda e: e.node.start_byte)

    def escape(self, loc: Loc, r: Loc, pred) -> Escape:
        steps = []
        cur = loc
        seen = set()
        closure = False
        while cur is not r and cur in pred and cur not in seen:
            seen.add(cur)
            nxt, note = pred[cur]
            steps.append((note, nxt))
            if nxt.kind == "closure" and cur.kind == "var":
                closure = True
            cur = nxt
        if loc.kind == COMPOSITE:
            lit = _unparen(loc.node.child_by_field_name("operand"))
            tnode = lit.child_by_field_name("type") if lit is not None else None
            type_text = _t(tnode)
            what = "&" + type_text + "{...}" if lit is not None and lit.child_by_field_name("body") is not None \
                and lit.child_by_field_name("body").named_children else "&" + type_text + "{}"
            return Escape(COMPOSITE, loc.node, loc.node, what, type_text, loc.typ, loc.fn, r, steps)
        if loc.kind == NEW:
            args = loc.node  # the argument list "(T)"
            inner = args.named_children[0] if args.named_children else None
            type_text = _t(inner)
            return Escape(NEW, args, args, f"new({type_text})", type_text, loc.typ, loc.fn, r, steps)
        typ = loc.typ
        return Escape(VARIABLE, loc.node, loc.node, loc.name, typ.text() if typ is not None else "",
                      typ, loc.fn, r, steps, closure=closure)


_NO_CLAUSE = object()
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
#: statements analysed even when they mention no ``keep`` variable (they
#: change what names mean in what follows: constants in conditions, types)
_NOT_PRUNABLE = frozenset(("const_declaration", "type_declaration"))
_NIL_COMPARE = re.compile(rb"^[^()&|]*[!=]=\s*nil\s*$")


class _ScopedConsts(ConstEnv):
    """Constants as seen from the analyser's current scope: the function's
    own ``const`` declarations, local variables shadowing package constants,
    then the package's constants."""

    def __init__(self, analyzer: "Analyzer"):
        self.analyzer = analyzer
        self.package = analyzer.consts.package
        self.local = {}

    def lookup(self, name: str):
        an = self.analyzer
        for d in reversed(an.local_consts):
            if name in d:
                v = d[name]
                if v is NOT_CONST:
                    raise Unknown()
                return v
        for scope in reversed(an.scopes):
            v = scope.get(name)
            if isinstance(v, Loc):
                raise Unknown()
        return ConstEnv.lookup(self, name)
