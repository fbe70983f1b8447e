"""PERF001 pointer-return-escapes: returning a pointer to memory the function allocates.

The analysis lives next to this module: ``go_flow.py`` (the syntactic escape
analysis; its graph, statements and expressions in ``go_flow_*.py``),
``go_gate.py`` (which functions and statements it must look at),
``go_package.py`` (package-level constants and types) and
``go_escape_compiler.py`` (the compiler-confirmed mode: ``go build
-gcflags=-m=2``, cached per package).
"""

from __future__ import annotations

import os
import re

from cnlint import Option, TreeSitterRule
from cnlint.code_kinds import SKIP_TEST_FILES, skip_test_files_option, skips_test_code

from . import go_escape_compiler as compiler
from .go_advice import INLINE_BUDGET, Advice, inline_cost
from .go_flow import Analyzer
from .go_flow_graph import COMPOSITE, NEW, VARIABLE, Escape
from .go_gate import FileGate, outer_func_literals
from .go_package import ConstEnv, TypeInfo, package_index

_CONSTRUCTOR = re.compile(r"^[Nn]ew(?:$|[A-Z0-9_])")
_VERSION = re.compile(r"^(?:go)?(\d+)\.(\d+)")

MODE_SYNTACTIC, MODE_COMPILER = "syntactic", "compiler"
REPORT_ACTIONABLE, REPORT_EVERY = "actionable", "every-escape"


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
    # Opt-in: on 16 real repositories it made 98% of all output and none of a
    # sample of 42 was worth changing; the advice pays only on hot paths.
    enabled_by_default = False
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
            False, "report in constructor-style functions and methods (New..., new...): their pointer is "
                   "usually the API (identity, methods on *T, long-lived objects), and small ones are inlined"),
        "report": Option(
            REPORT_ACTIONABLE,
            "actionable (only where returning a value removes an allocation and is right: not in functions the "
            "compiler inlines, not for interface results, types that must stay pointers, optional (nil) results, "
            "pointers held in a returned value, or values also passed to another package) | every-escape (every "
            "allocation whose address is returned, as the compiler's escape analysis sees it)",
            choices=(REPORT_ACTIONABLE, REPORT_EVERY)),
        SKIP_TEST_FILES: skip_test_files_option(True, "allocations in tests are not worth a change"),
        "mode": Option(
            MODE_SYNTACTIC, "syntactic (tree-sitter only) | compiler (confirm each finding with the Go "
                            "compiler's escape analysis, go build -gcflags=-m=2, and add what it finds)",
            choices=(MODE_SYNTACTIC, MODE_COMPILER), trusted_only=True),
        "go": Option("go", "the go binary for mode = \"compiler\" (a name on PATH or a path)",
                     trusted_only=True),
    }
    help = """\
## What it does
Off by default: turn it on (`--select PERF001`, or `extend-select =
["PERF001"]`) for a package that profiling shows allocating on a hot path
(`go test -bench . -benchmem` reports `allocs/op`, `go tool pprof
-sample_index=alloc_objects`): parsers, codecs, per-request or per-item
helpers. Elsewhere the advice does not pay: on 16 real cloud-native
repositories, with every such allocation reported, it made 98% of cnlint's
output and none of a sample of 42 findings was worth changing, and its
escape analysis is the costliest Go rule.

When on, it reports an allocation whose address the function returns, so
that every call allocates on the heap, where returning the value itself
would not allocate and is correct:

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

It stays quiet where a value would not remove the allocation or would be
wrong (`report = "every-escape"` reports every allocation whose address is
returned, as the compiler's escape analysis sees it; constructors stay
behind `report-constructors`):

- functions the compiler inlines (an estimated inlining cost within the
  compiler's budget of 80; in compiler mode, the compiler's `can inline`):
  the allocation then happens in each caller, where it usually does not
  escape (0 allocs/op);
- constructors (`New...`, `new...`): their pointer is the API (identity,
  methods on `*T`, long-lived objects created once), and small ones are
  inlined; set `report-constructors = true` to report them;
- results of interface type (`error`, `any`, `fmt.Stringer`, another
  package's named type such as `runtime.Object`): a value would be boxed,
  which allocates too;
- optional results (a `return nil` for the same result elsewhere in the
  function): the pointer also says "none", which a value cannot say without
  a new API;
- pointers held in a returned value (a field of a returned struct, an
  element of a returned slice literal, a closure called where it is
  defined): the field's type is the pointer, so returning by value changes
  nothing;
- types whose own API is the pointer: a same-package type with
  pointer-receiver methods, or another package's type (that package's API
  decides, and most take and return `*T`: `url.URL`, SDK request types);
- variables captured by a returned closure (the closure allocates anyway);
- allocations also stored in a map, a slice, another value's field, appended
  or sent on a channel: they are on the heap whether or not they are returned;
- allocations also passed to another package's function, to a method the
  package does not declare, or to an `interface{}`/`any` parameter of the
  package's own functions (`json.Unmarshal(b, &v)`, `fmt.Sprint(p)`,
  `c.call(ctx, path, &out)`): such parameters are usually kept or boxed, so
  the value escapes whether or not it is returned;
- types that must not be copied or are used by address by design: structs
  holding `sync` or `sync/atomic` values or a `noCopy` field (what `go vet`'s
  copylocks flags), `tls.Config`, `http.Client`, `http.Transport`,
  `http.Server`, `bytes.Buffer`, `strings.Builder`, `big.Int` and similar
  library types; protobuf messages (`protoimpl.MessageState`, `XXX_` fields,
  packages of `*.pb.go` files); Kubernetes API objects (`k8s.io/api/...`,
  `k8s.io/apimachinery/...`, types that embed `TypeMeta`, `ObjectMeta` or
  `ListMeta`: they are passed as `runtime.Object`);
- generated code (`ctx.is_generated`: `// Code generated ... DO NOT EDIT.`,
  `zz_generated.*`, `*.pb.go`) and test code (`skip-test-files`);
- addresses of package-level variables; pointers that come from
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
type Point struct{ X, Y int }

func parsePoint(s string) *Point { // too large to inline
	var p Point // moved to heap: 1 alloc/op
	for i, part := range strings.Split(s, ",") {
		n, _ := strconv.Atoi(strings.TrimSpace(part))
		if i == 0 {
			p.X = n
		} else {
			p.Y = n
		}
	}
	return &p
}
```

## Use instead
Return small values by value, or let the caller provide the memory:

```go
func parsePoint(s string) Point { // the caller's Point lives on its stack
	var p Point
	// ...
	return p
}

func (p *Point) Parse(s string) error { // or fill the caller's value
	// ...
}
```

## How to fix
Check the allocation with the compiler: `go build -gcflags=-m=2 ./pkg`
prints `moved to heap: p` or `&Point{...} escapes to heap` with the flow that
causes it (`flow: ~r0 ← &{storage for &Point{...}}`), and `can inline
parsePoint` when callers get their own copy. Then, if the function is on a
hot path:

- return the value itself when it is small (a few words) and not shared;
- take a destination pointer from the caller (`func (p *T) Decode(...)`), or
  reuse buffers (`sync.Pool`, a field of a long-lived object);
- keep the pointer for values that must be shared or mutated by several
  owners, that are large, or whose identity matters.

Set `min-size = 64` to report only allocations of at most 64 bytes (where
returning by value is clearly cheaper), or suppress one finding with
`// cnlint: ignore[PERF001] -- <reason>`.

With `mode = "compiler"` (and a Go toolchain on PATH, or `go = "/path/to/go"`),
every finding is checked against the compiler's own escape analysis
(`go build -gcflags=-m=2`, cached per package under `~/.cache/cnlint/go-escape/`),
findings the compiler does not confirm are dropped, escapes through a return
that the syntactic pass missed (through calls the compiler inlined, for
example) are added, the compiler's `can inline` replaces the estimate (a
function it inlines is still reported when an inlined copy escapes at one of
the package's call sites), and the compiler's explanation is attached as
related locations ("flow step 1: ~r0 ← &{storage for &T{}}"). Without a
toolchain, or when the package does not build, PERF001 says so once and
falls back to the syntactic analysis.

```toml
extend-select = ["PERF001"]

[options.PERF001]
min-size = 64
mode = "compiler"
```
"""

    # ------------------------------------------------------------------
    def check_tree(self, root) -> None:
        if self.ctx.is_generated or skips_test_code(self):
            return  # first: the cheapest filter saves the whole analysis
        escapes: list[Escape] = []
        analyzer = None

        def summary(name: str):
            """A same-package function's summary, cached per package (go_flow.Analyzer.summary)."""
            nonlocal analyzer
            if analyzer is None:
                analyzer = self._analyzer(root)
            return analyzer.summary(name, None)

        def callable_names():
            index = self._package(root)  # cached per directory by package_index
            return index.callable_names() if index is not None else None

        gate = FileGate(root, self.ctx.source.data, callable_names, summary)
        tops = []
        for node in root.children:
            t = node.type
            if t in ("function_declaration", "method_declaration"):
                keep = gate.keep(node)
                if keep is not False:
                    tops.append((node, keep))
            elif t == "var_declaration":
                seg = node.text
                if b"func" in seg and b"return" in seg:
                    tops.extend((f, None) for f in outer_func_literals(node))
        mode = self.options.get("mode", MODE_SYNTACTIC)
        if not tops and mode != MODE_COMPILER:
            return
        if analyzer is None:
            analyzer = self._analyzer(root)
        for top, keep in tops:
            escapes.extend(analyzer.run(top, keep))
        self._advice = None
        self._actionable = self.options.get("report", REPORT_ACTIONABLE) == REPORT_ACTIONABLE
        if mode == MODE_COMPILER:
            escapes_c = compiler.confirm(self, root, escapes, analyzer,
                                         keep_inlined=not self._actionable)
            if escapes_c is not None:
                for e, flow in escapes_c:
                    if self.wanted(e, analyzer.types, estimate_inlining=False):
                        self._report(e, flow)
                return
        for e in escapes:
            if self.wanted(e, analyzer.types):
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
    def wanted(self, e: Escape, types: TypeInfo | None = None, *, estimate_inlining: bool = True) -> bool:
        """Whether returning a value instead is correct advice that removes an allocation."""
        top = e.fn
        while top.parent is not None:
            top = top.parent
        if not self.options.get("report-constructors", False) and _CONSTRUCTOR.match(top.name or ""):
            return False
        if self._actionable:
            if estimate_inlining and top.node is not None and inline_cost(top.node) <= INLINE_BUDGET:
                return False
            if types is not None and not self._advice_allows(e, top, types):
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

    def _advice_allows(self, e: Escape, top, types: TypeInfo) -> bool:
        """Returning a value would remove the allocation and is right for the type."""
        advice = self._advice_for(types)
        result_fn = getattr(e.result, "fn", None)
        if result_fn is not None and result_fn.closure_loc is not None and result_fn.static:
            return False  # a closure called where it is defined: its result goes into the caller's value
        rtyp = getattr(e.result, "typ", None)
        if advice.returned_as_interface(rtyp) or advice.held_in_returned_value(
                rtyp, e.type_text, e.kind, [dst for _, dst in e.steps], [n for n, _ in e.steps if n is not None]):
            return False
        if result_fn is not None and advice.optional_result(result_fn, e.result):
            return False
        if e.closure:
            return False  # captured by a returned closure, which allocates anyway: a value is not the fix
        typ = e.typ if e.typ is not None else types.elem(rtyp) if rtyp is not None else None
        if advice.must_stay_pointer(typ) is not None or advice.pointer_api(typ) is not None:
            return False
        names = {dst.name for _, dst in e.steps if getattr(dst, "kind", "") == "var" and dst.name}
        if e.kind == VARIABLE:
            names.add(e.what)
        index = types.package
        methods = index.callable_names()[1] if index is not None else frozenset()
        return not (advice.stored_elsewhere(top.node, names) or advice.passed_to_opaque_call(top.node, names, methods))

    def _advice_for(self, types: TypeInfo) -> Advice:
        if self._advice is None or self._advice.types is not types:
            try:
                gomod = self.ctx.project.go_mod
            except Exception:  # pragma: no cover - unreadable go.mod
                gomod = None
            self._advice = Advice(types, self.ctx.go.imports, gomod)
        return self._advice

    def _report(self, e: Escape, flow) -> None:
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
