"""PERF001 pointer-return-escapes: returning a pointer to memory the function allocates.

The analysis lives next to this module: ``go_flow.py`` (the syntactic escape
analysis), ``go_package.py`` (package-level constants and types) and
``go_escape_compiler.py`` (the compiler-confirmed mode: ``go build
-gcflags=-m=2``, cached per package).
"""

from __future__ import annotations

import os
import re

from cnlint import Option, TreeSitterRule

from . import go_escape_compiler as compiler
from .go_flow import COMPOSITE, NEW, Analyzer, Escape
from .go_package import ConstEnv, TypeInfo, package_index

# Something that can allocate or take an address: &x, new(T), a func literal
# (captures, results), slicing (arr[:]: at its "[").
_CANDIDATE = re.compile(rb"&(?=[^&^=])|\bnew\(|\bfunc\b|\[(?=[^\]\n]*:)")
_CONSTRUCTOR = re.compile(r"^[Nn]ew(?:$|[A-Z0-9_])")
_VERSION = re.compile(r"^(?:go)?(\d+)\.(\d+)")

MODE_SYNTACTIC, MODE_COMPILER = "syntactic", "compiler"


def _first_line(node, limit: int = 48) -> str:
    text = node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""
    line = text.split("\n", 1)[0].strip()
    if len(line) > limit or "\n" in text:
        line = line[:limit].rstrip() + " ..."
    return line


class PointerReturnEscapes(TreeSitterRule):
    id = "PERF001"
    name = "pointer-return-escapes"
    summary = "A returned pointer to memory the function allocates forces that memory onto the heap"
    # A note: the code is correct, and returning a pointer is often the right
    # design (large or shared values, constructors, identity). The finding is
    # a prompt to look at hot paths, not a defect to fix everywhere.
    severity = "note"
    tags = ("performance",)
    precision = "high"
    fixable = None
    languages = ("go",)
    # Reads go.mod (the Go version decides per-iteration loop variables) and,
    # in compiler mode, builds the package.
    uses_project = True
    # Every finding flows to a `return` (bare returns of named results too);
    # "&" and "new(" would miss `return arr[:]` and captures of returned closures.
    requires = ("return",)
    options = {
        "min-size": Option(
            0, "report only allocations whose size PERF001 can compute (basic types and same-package "
               "declarations, 64-bit layout) and is at most this many bytes; 0 reports every size"),
        "only-known-sizes": Option(
            False, "with min-size, also leave out allocations whose size cannot be computed"),
        "report-constructors": Option(
            True, "report in constructor-style functions and methods (New..., new...)"),
        "mode": Option(
            MODE_SYNTACTIC, "syntactic (tree-sitter only) | compiler (confirm each finding with the Go "
                            "compiler's escape analysis, go build -gcflags=-m=2, and add what it finds)"),
        "go": Option("go", "the go binary for mode = \"compiler\" (a name on PATH or a path)"),
    }
    help = """\
## What it does
Reports, inside each Go function or method, every allocation whose address
the function returns, so that the Go compiler must put it on the heap:

- `return &T{...}`, `return new(T)`, `return &x` of a local variable or of a
  value parameter or receiver;
- the same through local variables, in any order and on any path (the
  compiler's escape analysis is flow-insensitive): `p := &T{}` ... `return p`,
  `var v T; p := &v` ... `return p`, reassignments, several returns, named
  results (`func f() (p *T) { p = &T{}; return }`), pointers stored in a
  returned struct value or slice literal;
- `return x[:]` and `return &arr[i]` of a local array, `return &v.field` of a
  local struct;
- in generic functions, methods, range-over-func loop bodies, and closures:
  an allocation returned by a closure that escapes, and variables a returned
  closure captures by reference (`n := 0; return func() int { n++; return n }`).

The finding is placed where the compiler reports the allocation (the `&` of
`&T{}`, the `(` of `new(T)`, the declaration of a moved variable) and names
the allocated type and the `return` it flows to (a related location).

Not reported: addresses of package-level variables; pointers that come from
parameters, calls (`errors.New`, constructors, methods that return their
receiver), map or slice elements, or fields of pointer receivers; values
copied before they are returned (`v := *p; return v`); dead code the
compiler removes (`if false {...}`, `if debug {...}` with a constant
`debug`, statements after `return`).

## Why is this bad?
A value whose address outlives the function cannot live in the function's
stack frame. Every call then costs a heap allocation and, later, garbage
collector work to find and free it. For small values the allocation costs
more than the copy it avoids: a 24-byte struct returned by value is three
register moves; returned by pointer it is a call into the allocator, a write
barrier-protected pointer, and one more object for the GC to mark. In hot
paths (parsers, codecs, per-request helpers) this is often the largest
avoidable cost, and `go test -bench . -benchmem` shows it as `allocs/op`.

## Example
```go
type Point struct{ X, Y float64 }

func Midpoint(a, b Point) *Point {
	return &Point{(a.X + b.X) / 2, (a.Y + b.Y) / 2} // escapes: 1 alloc/op
}

func BenchmarkMidpoint(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink = *Midpoint(Point{0, 0}, Point{2, 2}) // 16 B/op, 1 allocs/op
	}
}
```

## Use instead
Return small values by value, or let the caller provide the memory:

```go
func Midpoint(a, b Point) Point {
	return Point{(a.X + b.X) / 2, (a.Y + b.Y) / 2} // 0 B/op, 0 allocs/op
}

func (p *Point) SetMidpoint(a, b Point) { // the caller's p can live on its stack
	p.X, p.Y = (a.X+b.X)/2, (a.Y+b.Y)/2
}
```

## How to fix
Check the allocation with the compiler: `go build -gcflags=-m=2 ./pkg`
prints `&Point{...} escapes to heap` with the flow that causes it (`flow:
~r0 ← &{storage for &Point{...}}`). Then, if the function is on a hot path:

- return the value itself when it is small (a few words) and not shared;
- take a destination pointer from the caller (`func (p *T) Decode(...)`), or
  reuse buffers (`sync.Pool`, a field of a long-lived object);
- keep the pointer for values that must be shared or mutated by several
  owners, that are large, or whose identity matters (a `sync.Mutex` inside).

When to ignore it: constructors of long-lived objects (`NewServer`), values
that are large or shared anyway, error values (allocated on the failure path
only), and code that is not hot. Set `report-constructors = false` to skip
`New...` functions, `min-size = 64` to report only allocations of at most 64
bytes (where returning by value is clearly cheaper), or suppress one finding
with `// cnlint: ignore[PERF001] -- <reason>`.

With `mode = "compiler"` (and a Go toolchain on PATH, or `go = "/path/to/go"`),
every finding is checked against the compiler's own escape analysis
(`go build -gcflags=-m=2`, cached per package under `.cnlint_cache/go-escape/`),
findings the compiler does not confirm are dropped, escapes through a return
that the syntactic pass missed (through calls the compiler inlined, for
example) are added, and the compiler's explanation is attached as related
locations ("flow step 1: ~r0 ← &{storage for &T{}}"). Without a toolchain, or
when the package does not build, PERF001 says so once and falls back to the
syntactic analysis.

```toml
[options.PERF001]
min-size = 64
report-constructors = false
mode = "compiler"
```
"""

    # ------------------------------------------------------------------
    def check_tree(self, root) -> None:
        ctx = self.ctx
        data = ctx.source.data
        escapes: list[Escape] = []
        tops = []
        imports = None
        names = None  # the package's callable names, for _Callees
        analyzer = None

        def summaries(name: str):
            """A same-package function's summary (go_flow.Analyzer.summary), cached per package."""
            nonlocal analyzer
            if analyzer is None:
                analyzer = self._analyzer(root)
            return analyzer.summary(name, None)
        for node in root.children:
            t = node.type
            if t in ("function_declaration", "method_declaration"):
                body = node.child_by_field_name("body")
                if body is None:
                    continue
                seg = data[body.start_byte:body.end_byte]
                if b"return" not in seg:
                    continue
                # Analysed only if something in it can allocate or take an
                # address *and* reach something that may be returned.
                pointers = None
                returned = None
                callees = None
                for m in _CANDIDATE.finditer(seg):
                    off = body.start_byte + m.start()
                    cand = root.descendant_for_byte_range(off, off + 1)
                    if cand is None or cand.parent is None:
                        continue
                    expr = cand.parent
                    et = expr.type
                    if et not in ("unary_expression", "call_expression", "slice_expression", "func_literal"):
                        continue
                    if imports is None:
                        imports = _imported_names(root)
                    if pointers is None:
                        pointers = _pointer_params(node)
                    if et == "slice_expression" and not _maybe_array(expr, seg, pointers):
                        continue
                    if et == "unary_expression":
                        base = _base_ident(expr.child_by_field_name("operand"))
                        if base is not None and base.text in pointers:
                            continue  # &p.f, &s[i] of a pointer or slice parameter: no allocation
                    if callees is None:
                        if names is None:
                            index = self._package(root)
                            names = index.callable_names() if index is not None else ()
                        callees = _Callees(names, node, seg, summaries) if names else False
                    sink = _relevant(expr, imports, callees or None)
                    if sink is None:
                        continue
                    if sink is not True and sink.type in ("short_var_declaration", "assignment_statement",
                                                          "var_spec"):
                        if returned is None:
                            returned, relevant = _flow_names(seg, node)
                        if not any(n in returned for n in _assigned_names(sink)):
                            continue  # stored in variables that never reach a return
                    if returned is None:
                        returned, relevant = _flow_names(seg, node)
                    tops.append((node, relevant))
                    break
            elif t == "var_declaration":
                seg = data[node.start_byte:node.end_byte]
                if b"func" in seg and b"return" in seg:
                    tops.extend((f, None) for f in _outer_func_literals(node))
        mode = self.options.get("mode", MODE_SYNTACTIC)
        if not tops and mode != MODE_COMPILER:
            return
        if analyzer is None:
            analyzer = self._analyzer(root)
        self._types = analyzer.types
        for top, keep in tops:
            escapes.extend(analyzer.run(top, keep))
        if mode == MODE_COMPILER:
            escapes_c = compiler.confirm(self, root, escapes, analyzer)
            if escapes_c is not None:
                for e, flow in escapes_c:
                    self._report(e, flow)
                return
        for e in escapes:
            self._report(e, None)

    def _package(self, root):
        """The index of the package this file belongs to (None without a package clause)."""
        for node in root.children:
            if node.type == "package_clause":
                ident = node.named_children[0] if node.named_children else None
                if ident is None:
                    return None
                return package_index(os.path.dirname(os.path.abspath(self.ctx.path)), ident.text.decode())
        return None

    def _analyzer(self, root) -> Analyzer:
        ctx = self.ctx
        index = self._package(root)
        per_iteration = True
        try:
            gomod = ctx.project.go_mod
        except Exception:  # pragma: no cover - unreadable go.mod
            gomod = None
        if gomod is not None and gomod.go_version:
            m = _VERSION.match(gomod.go_version)
            if m and (int(m.group(1)), int(m.group(2))) < (1, 22):
                per_iteration = False
        return Analyzer(TypeInfo(index), ConstEnv(index), per_iteration_loops=per_iteration)

    # ------------------------------------------------------------------
    def wanted(self, e: Escape, types: TypeInfo | None = None) -> bool:
        if not self.options.get("report-constructors", True):
            top = e.fn
            while top.parent is not None:
                top = top.parent
            if _CONSTRUCTOR.match(top.name or ""):
                return False
        limit = self.options.get("min-size", 0) or 0
        if limit > 0:
            size = None
            if e.typ is not None and types is not None:
                size = types.size(e.typ)
            if size is None:
                return not self.options.get("only-known-sizes", False)
            return size <= limit
        return True

    def _report(self, e: Escape, flow) -> None:
        if not self.wanted(e, getattr(self, "_types", None)):
            return
        ret_note, ret_dst = (e.steps[-1] if e.steps else (None, e.result))
        if ret_note is not None and ret_note.type == "return_statement":
            where = f"`{_first_line(ret_note)}` at line {ret_note.start_point[0] + 1}"
        elif e.result.name and not e.result.name.startswith("~"):
            where = f"the named result `{e.result.name}`"
            if ret_note is not None:
                where += f", assigned at line {ret_note.start_point[0] + 1}"
        else:
            where = "a result"
        type_text = e.type_text or "value"
        if e.kind == COMPOSITE:
            msg = f"`{e.what}` allocates a new {type_text} on the heap because its address is returned ({where})"
        elif e.kind == NEW:
            msg = f"`{e.what}` allocates a new {type_text} on the heap because it is returned ({where})"
        elif e.closure:
            msg = (f"`{e.what}`{' (' + type_text + ')' if e.type_text else ''} is moved to the heap because "
                   f"a closure that captures it by reference is returned ({where})")
        else:
            msg = (f"`{e.what}`{' (' + type_text + ')' if e.type_text else ''} is moved to the heap because "
                   f"its address is returned ({where})")
        related = []
        for note, dst in e.steps[:-1]:
            if note is not None and dst.kind == "var" and note.type not in ("func_literal",):
                related.append((note, f"flows into `{dst.name}` here"))
        if ret_note is not None:
            related.append((ret_note, "returned here" if ret_note.type == "return_statement"
                            else f"assigned to the result `{e.result.name}` here"))
        related = related[-4:]
        if flow:
            related = related + list(flow)
        if e.kind == COMPOSITE:
            lit = e.node.child_by_field_name("operand")
            while lit is not None and lit.type == "parenthesized_expression" and lit.named_children:
                lit = lit.named_children[0]
            tnode = lit.child_by_field_name("type") if lit is not None else None
            end = tnode if tnode is not None else e.node
            self.report((e.node.start_byte, end.end_byte), msg, related=related)
        else:
            self.report(e.node, msg, related=related)


def _imported_names(root) -> set[bytes]:
    names = set()
    for n in root.children:
        if n.type != "import_declaration":
            continue
        for sp in n.named_children:
            for spec in (sp.named_children if sp.type == "import_spec_list" else [sp]):
                if spec.type != "import_spec":
                    continue
                name = spec.child_by_field_name("name")
                path = spec.child_by_field_name("path")
                if name is not None:
                    names.add(name.text)
                elif path is not None:
                    last = path.text.strip(b'"`').rsplit(b"/", 1)[-1]
                    names.add(last.split(b".")[0].replace(b"-", b"_"))
    names.discard(b"big")  # math/big methods return their receiver
    names.discard(b"unsafe")  # unsafe.Pointer(&x) is a conversion
    return names


_SINKS = frozenset(("return_statement", "short_var_declaration", "assignment_statement", "var_spec",
                    "range_clause", "receive_statement", "send_statement"))
_NOT_A_VALUE = frozenset(("expression_statement", "go_statement", "defer_statement", "inc_statement",
                          "dec_statement", "block", "function_declaration", "method_declaration", "if_statement",
                          "for_statement", "expression_switch_statement", "type_switch_statement",
                          "labeled_statement", "source_file"))
_NO_RESULT_BUILTINS = frozenset((b"len", b"cap", b"copy", b"delete", b"print", b"println", b"close", b"clear",
                                 b"panic", b"complex", b"real", b"imag"))


def _relevant(node, imports: set[bytes], callees: "_Callees | None" = None):
    """Where an allocation or address at ``node`` goes: the statement that
    stores or returns it, True when unsure, None when it cannot reach a
    result (its value only goes into a call of another package, a builtin
    without a pointer result, a call the analysis treats as opaque, a
    condition, a channel, a discarded expression)."""
    child, n = node, node.parent
    while n is not None:
        t = n.type
        if t in _SINKS:
            return None if t == "send_statement" else n
        if t in _NOT_A_VALUE:
            return None
        if t == "argument_list":
            call = n.parent
            f = call.child_by_field_name("function") if call is not None else None
            if f is not None:
                if f.type == "identifier" and f.text in _NO_RESULT_BUILTINS:
                    return None
                if f.type == "identifier" and f.text == b"append" and n.named_children and \
                        n.named_children[0] != child:
                    return None  # appended: to the heap
                if f.type == "selector_expression":
                    op = f.child_by_field_name("operand")
                    if op is not None and op.type == "identifier" and op.text in imports:
                        return None  # pkg.F(&x): the call's result is not our allocation
                if callees is not None and not callees.may_return_arg(f, n, child):
                    return None  # the call's results cannot hold this argument
        elif t in ("index_expression",) and n.child_by_field_name("index") == child:
            return None
        elif t == "binary_expression":
            op = n.child_by_field_name("operator")
            if op is not None and op.type in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
                return None
        child, n = n, n.parent
    return True


_CONVERSION_CALLEES = frozenset(("pointer_type", "slice_type", "array_type", "map_type", "channel_type",
                                  "function_type", "interface_type", "qualified_type", "generic_type",
                                  "func_literal", "unary_expression", "parenthesized_type"))
#: builtins whose arguments may reach the result (go_flow.Analyzer.call)
_FLOW_BUILTINS = frozenset((b"new", b"append", b"min", b"max", b"error", b"any"))


class _Callees:
    """Which calls in one function go_flow's analysis treats as opaque (it
    assumes their results hold none of the function's allocations): calls of
    package-level variables and imports, of local function values that are not
    func literals, of methods no type of this package declares, of builtins
    and conversions without pointers. A candidate passed only to such calls
    cannot reach a return. Every test is a textual over-approximation of the
    analysis' own decision, so the gate never skips a function it reports in."""

    __slots__ = ("funcs", "methods", "decls", "fn", "body", "summary", "_locals", "_closures")

    def __init__(self, names: tuple, fn, body: bytes, summary):
        self.funcs, self.methods, self.decls = names
        self.fn = fn
        self.body = body
        self.summary = summary  # name -> a same-package function's summary, or None
        self._locals: set[bytes] | None = None
        self._closures: set[bytes] | None = None

    def may_return_arg(self, f, args, arg) -> bool:
        """Whether the call of ``f`` with argument list ``args`` may return
        (what) its argument ``arg`` (points to)."""
        while f.type == "parenthesized_expression" and f.named_children:
            f = f.named_children[0]
        if f.type == "identifier":
            name = f.text
            if name in _FLOW_BUILTINS or name in self.closures():
                return True
            name = name.decode()
            if name in self.decls:
                return True  # a conversion to a package type
            if name not in self.funcs:
                return False
            # The analysis uses the callee's summary: does this parameter reach a result?
            summ = self.summary(name)
            if not summ:
                return False
            index = next((i for i, a in enumerate(args.named_children) if a == arg), None)
            return index is None or bool(summ["res"].get(index))
        return not self.opaque(f)

    def opaque(self, f) -> bool:
        t = f.type
        if t == "selector_expression":
            base = f.child_by_field_name("operand")
            while base is not None and base.type == "parenthesized_expression" and base.named_children:
                base = base.named_children[0]
            if base is not None and base.type == "identifier":
                if base.text == b"unsafe":
                    return False
                if base.text not in self.locals():
                    return True  # pkg.F(x) or pkgVar.M(x)
            field = f.child_by_field_name("field")
            return field is None or field.text.decode() not in self.methods
        return t not in _CONVERSION_CALLEES  # fns[i](x), f()(x): a function value

    def closures(self) -> set[bytes]:
        """Names that may hold a func literal (``f := func...``, ``var f = func...``)."""
        if self._closures is None:
            self._closures = {i for m in _FUNC_ASSIGN.finditer(self.body) for i in _IDENT.findall(m.group(1))}
        return self._closures

    def locals(self) -> set[bytes]:
        """Every name the function may declare: its parameters, receiver and
        results, names before a ``:=``, on a var/const/type line or in such a
        block, and in a func literal's parameters."""
        if self._locals is None:
            fn, body = self.fn, self.body
            out = set()
            for f in ("receiver", "parameters", "result"):
                p = fn.child_by_field_name(f)
                if p is not None:
                    out.update(_IDENT.findall(p.text))
            for pattern in _DECLARING:
                for m in pattern.finditer(body):
                    out.update(_IDENT.findall(m.group(0)))
            if _DECL_BLOCK.search(body) is not None:
                out.update(_LINE_START_IDENT.findall(body))
            self._locals = out
        return self._locals


_FUNC_ASSIGN = re.compile(rb"\n([^\n=]*)=\s*\(?\s*func\b")
_DECLARING = (re.compile(rb"\n[^\n]*:="), re.compile(rb"\b(?:var|const|type)\b[^\n]*"),
              re.compile(rb"\bfunc\s*\([^)]*\)"))
_DECL_BLOCK = re.compile(rb"\b(?:var|const|type)\s*\(")
_LINE_START_IDENT = re.compile(rb"(?m)^\s*([A-Za-z_][A-Za-z0-9_]*)")


def _assigned_names(stmt) -> list[bytes]:
    """Base variables a declaration or assignment stores into."""
    if stmt.type == "var_spec":
        return [n.text for n in stmt.children_by_field_name("name")]
    left = stmt.child_by_field_name("left")
    if left is None:
        return []
    out = []
    for e in (left.named_children if left.type == "expression_list" else [left]):
        while e is not None and e.type in ("unary_expression", "parenthesized_expression"):
            e = e.named_children[-1] if e.named_children else None
        b = _base_ident(e)
        if b is not None:
            out.append(b.text)
    return out


_STRIP = re.compile(rb'"(?:[^"\\\n]|\\.)*"|`[^`]*`|\'(?:[^\'\\\n]|\\.)*\'|//[^\n]*|/\*.*?\*/', re.S)
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN_OP = re.compile(rb"(?<![=!<>:+\-*/%&|^])(:=|=)(?!=)")
_RETURN = re.compile(rb"\breturn\b")
_SLICE = re.compile(rb"\[(?=[^\]\n]*:)")
_ADDRESS_OF = re.compile(rb"&(?=[^&^=])\s*([A-Za-z_][A-Za-z0-9_]*)?")
_BRACKETS = re.compile(rb"[(\[{)\]}]")
_LHS_KEYWORDS = re.compile(rb"^\s*(?:(?:else\s+)?if|for|switch|case|var|select)\s+")


def _flow_names(body: bytes, fn) -> tuple[set[bytes], set[bytes]]:
    """(returned, relevant), read from the text line by line, as cheap
    over-approximations of the analysis' flows (in any order, as the analysis
    is flow-insensitive):

    * returned: every variable whose value may flow by assignments into a
      return statement or a named result;
    * touched: every name on a line that can allocate or take an address (see
      _CANDIDATE: ``&``, ``new(``, ``func``, slicing), plus every variable
      such a value may then flow into.

    A flow from an allocation to a result only goes through variables in
    both sets. The gate asks ``returned`` whether a candidate may be
    returned; the analysis skips simple statements that mention nothing
    ``relevant``: the names in both sets and what they are assigned from
    (their types come from there)."""
    text = _STRIP.sub(b" ", body)
    if text.startswith(b"{"):
        text = text[1:-1]
    names: set[bytes] = set()
    res = fn.child_by_field_name("result")
    if res is not None and res.type == "parameter_list":
        for p in res.named_children:
            names.update(n.text for n in p.children_by_field_name("name"))
    results = frozenset(names)
    deps: dict[bytes, set[bytes]] = {}
    touched: set[bytes] = set()
    stack: list[tuple] = []  # per open brace: (names stored into, returned?, touched?, open parens)
    in_touched = 0  # open braces of lines that can allocate (a func literal's body...)
    live = 0  # frames of the stack that store or return something
    stack_live = False
    paren = 0
    lhs: tuple = ()
    ret = False
    for line in text.split(b"\n"):
        start = 0
        if paren <= 0:
            paren = 0
            r = _RETURN.search(line) if b"return" in line else None
            ret = r is not None
            m = _ASSIGN_OP.search(line) if b"=" in line else None
            if m is not None and (r is None or m.start() < r.start()):
                parts = _LHS_KEYWORDS.sub(b"", line[:m.start()]).split(b",")
                lhs = tuple(x.group(0) for x in (_IDENT.search(p) for p in parts) if x is not None)
                start = m.end()
            else:
                lhs = ()
                start = r.end() if r is not None else 0
        # a func literal (whose body captures variables) or a slice of what may
        # be an array: every name on the line; &x and new(T): where they go
        cand = in_touched > 0
        if cand or _CANDIDATE.search(line) is not None:
            if cand or b"func" in line or _SLICE.search(line) is not None:
                cand = True
                touched.update(_IDENT.findall(line))
            else:
                if b"new(" in line:
                    touched.add(b"new")  # keeps the statement that allocates
                for m in _ADDRESS_OF.finditer(line):
                    if m.group(1):
                        touched.add(m.group(1))  # the variable or the composite's type
                    else:
                        touched.update(_IDENT.findall(line))  # &(*p).f ...
                        break
            touched.update(lhs)
            for frame_lhs, _, _, _ in stack:
                touched.update(frame_lhs)
        if lhs or ret or stack_live:
            ids = _IDENT.findall(line, start)
            if ids:
                returned = ret
                for t in lhs:
                    deps.setdefault(t, set()).update(ids)
                for frame_lhs, frame_ret, _, _ in stack:
                    returned = returned or frame_ret
                    for t in frame_lhs:
                        deps.setdefault(t, set()).update(ids)
                if returned:
                    names.update(ids)
        if b"(" in line or b")" in line or b"[" in line or b"]" in line or b"{" in line or b"}" in line:
            for c in _BRACKETS.findall(line):
                if c == b"(" or c == b"[":
                    paren += 1
                elif c == b")" or c == b"]":
                    paren -= 1
                elif c == b"{":
                    # a block inside parentheses (a func literal passed to a call)
                    # holds statements again
                    stack.append((lhs, ret, cand, paren))
                    if lhs or ret:
                        live += 1
                    if cand:
                        in_touched += 1
                    lhs, ret, paren = (), False, 0
                elif stack:
                    lhs, ret, was, paren = stack.pop()
                    if lhs or ret:
                        live -= 1
                    if was:
                        in_touched -= 1
            stack_live = live > 0
    todo = list(names)
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in names:
                names.add(d)
                todo.append(d)
    if touched:
        into: dict[bytes, list[bytes]] = {}
        for t, srcs in deps.items():
            for d in srcs:
                into.setdefault(d, []).append(t)
        todo = list(touched)
        while todo:
            for t in into.get(todo.pop(), ()):
                if t not in touched:
                    touched.add(t)
                    todo.append(t)
    # what the analysis must see: the variables in both sets, and what they
    # are assigned from (their types come from there)
    relevant = (names & touched) | results
    todo = list(relevant)
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in relevant:
                relevant.add(d)
                todo.append(d)
    return names, relevant


_NOT_VALUE_TYPES = ("pointer_type", "slice_type", "map_type", "channel_type", "function_type",
                    "interface_type", "qualified_type", "type_identifier", "generic_type")


def _pointer_params(fn) -> set[bytes]:
    """Parameters and receiver whose address-taking cannot allocate: pointers,
    slices, maps... (a named type counts: ``&t.f`` allocates only for a
    struct value, and that case stays in through ``&t`` / value receivers)."""
    out = set()
    for field in ("receiver", "parameters"):
        plist = fn.child_by_field_name(field)
        for p in plist.named_children if plist is not None else ():
            t = p.child_by_field_name("type")
            if t is not None and t.type in ("pointer_type", "slice_type", "map_type", "channel_type",
                                            "function_type", "interface_type"):
                out.update(n.text for n in p.children_by_field_name("name"))
    return out


def _base_ident(node):
    while node is not None:
        t = node.type
        if t == "identifier":
            return node
        if t in ("selector_expression", "index_expression", "slice_expression"):
            node = node.child_by_field_name("operand")
        elif t == "parenthesized_expression":
            node = node.named_children[0] if node.named_children else None
        else:
            return None
    return None


def _maybe_array(expr, body: bytes, pointers: set[bytes]) -> bool:
    """Whether a slice expression can slice an array value of this function
    (``buf[:n]`` of ``var buf [64]byte``): its variable is declared here as an
    array (or is an array parameter), or it is a field or element of a value
    the analysis must look at (``v.buf[:]``)."""
    operand = expr.child_by_field_name("operand")
    while operand is not None and operand.type == "parenthesized_expression" and operand.named_children:
        operand = operand.named_children[0]
    if operand is None:
        return False
    base = _base_ident(operand)
    if base is None or base.text in pointers:
        return False
    if operand.type != "identifier":
        return True
    # declared here as anything but an obvious slice or string
    name = re.escape(base.text)
    for m in re.finditer(rb"\bvar\s+(?:[\w\s,]*,\s*)?" + name + rb"\b([^\n=]*)|\b" + name
                         + rb"\s*(?:,\s*[\w,\s]*)?:=\s*([^\n]*)", body):
        decl = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
        if not decl.startswith((b"[]", b"make(", b"append(", b'"', b"`", b"string(", b"strings.", b"bytes.")) \
                and _SLICED.match(decl) is None:
            return True
    return False


# `x := y[i:j]`: slicing gives a slice, never an array (whose slicing would take its address)
_SLICED = re.compile(rb"[A-Za-z_][\w.]*\[[^\[\]\n]*:[^\[\]\n]*\]$")


def _outer_func_literals(node):
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type == "func_literal":
            out.append(n)
            continue
        stack.extend(n.named_children)
    return out
