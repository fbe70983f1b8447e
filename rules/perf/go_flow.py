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

The analysis is split by what it walks: go_flow_graph (locations, functions,
escapes), go_flow_statements and go_flow_expressions (mixins of ``Analyzer``);
this module sets an analysis up, declares variables, adds edges and solves.
"""

from __future__ import annotations

import re

from .go_flow_expressions import BIG_TYPES, BUILTIN_NO_FLOW, BUILTIN_TYPES, Expressions
from .go_flow_graph import COMPOSITE, NEW, VARIABLE, Escape, Fn, Loc, text_of, unparen, unparen_type
from .go_flow_statements import Statements
from .go_package import ConstEnv, Type, TypeInfo

INLINE_BUDGET = 80
INLINE_CALL_COST = 57
CAPTURE_BY_VALUE_MAX = 128

_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")


class Analyzer(Statements, Expressions):
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
                names.update(text_of(n) for n in d.children_by_field_name("name"))
        return frozenset(names)

    def type_name(self, typ: Type | None) -> tuple[str, bool] | None:
        """(name, is pointer) of a same-package named type, or of big.Int & co."""
        ptr = False
        if typ is not None and typ.ptr is not None:
            typ, ptr = typ.ptr, True
        node = unparen_type(typ.node) if typ is not None else None
        if node is not None and node.type == "pointer_type" and node.named_children:
            node, ptr = unparen_type(node.named_children[-1]), True
        if node is None:
            return None
        if node.type == "generic_type":
            node = node.child_by_field_name("type")
        if node is None:
            return None
        if node.type == "type_identifier":
            name = text_of(node)
            if name in typ.tparams or name in BUILTIN_TYPES:
                return None
            return name, ptr
        if node.type == "qualified_type" and text_of(node) in BIG_TYPES:
            return text_of(node), ptr
        return None

    # ------------------------------------------------------------------
    # functions and scopes
    # ------------------------------------------------------------------
    def declare(self, ident, kind="var", typ: Type | None = None, *, param=False, result=False) -> Loc | None:
        name = text_of(ident)
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
        name = text_of(ident)
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
                    names.update(text_of(n) for n in d.children_by_field_name("name"))
        recv = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
        if recv is not None:
            for p in recv.named_children:
                t = p.child_by_field_name("type")
                while t is not None and t.type in ("pointer_type", "parenthesized_type"):
                    t = t.named_children[-1] if t.named_children else None
                if t is not None and t.type == "generic_type":
                    args = t.child_by_field_name("type_arguments")
                    for a in args.named_children if args is not None else ():
                        names.add(text_of(a))
        return frozenset(names)

    def func(self, node, *, static=False):
        """Analyse a function or func literal; returns its Fn."""
        parent = self.fn
        fn = Fn(node, parent, frozenset())
        self.fn = fn
        fn.tparams = self.tparams_of(node)
        name = node.child_by_field_name("name")
        fn.name = text_of(name) if name is not None else ""
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
                f = unparen(n.child_by_field_name("function"))
                if not (f is not None and f.type == "identifier" and text_of(f) in BUILTIN_NO_FLOW | BUILTIN_TYPES
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
            lit = unparen(loc.node.child_by_field_name("operand"))
            tnode = lit.child_by_field_name("type") if lit is not None else None
            type_text = text_of(tnode)
            what = "&" + type_text + "{...}" if lit is not None and lit.child_by_field_name("body") is not None \
                and lit.child_by_field_name("body").named_children else "&" + type_text + "{}"
            return Escape(COMPOSITE, loc.node, loc.node, what, type_text, loc.typ, loc.fn, r, steps)
        if loc.kind == NEW:
            args = loc.node  # the argument list "(T)"
            inner = args.named_children[0] if args.named_children else None
            type_text = text_of(inner)
            return Escape(NEW, args, args, f"new({type_text})", type_text, loc.typ, loc.fn, r, steps)
        typ = loc.typ
        return Escape(VARIABLE, loc.node, loc.node, loc.name, typ.text() if typ is not None else "",
                      typ, loc.fn, r, steps, closure=closure)

