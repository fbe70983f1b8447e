"""PERF001's gate: which functions of a file the escape analysis must look at, and which statements.

go_flow's analysis costs about a millisecond per function, more than parsing
the file; most functions cannot have a finding. Everything here is an
over-approximation of the analysis' own decisions, so skipping work never
changes a finding (tests/test_go_escape.py compares the findings with and
without the gate's call test and statement slice):

* a function is analysed only if it holds a candidate (``&x``, ``&T{}``,
  ``new(T)``, a func literal, a slice of what may be an array) whose value
  may reach a return statement or a variable that may be returned
  (``_relevant``): not a value only passed to a call the analysis treats as
  opaque (``_Callees``), compared, sent, or discarded;
* the analysis then skips the statements that mention none of the names
  ``TextFlows.relevant`` finds from the candidates' destinations.
"""

from __future__ import annotations

import re

# Something that can allocate or take an address: &x, new(T), a func literal
# (captures, results), slicing (arr[:]: at its "[").
CANDIDATE = re.compile(rb"&(?=[^&^=])|\bnew\(|\bfunc\b|\[(?=[^\]\n]*:)")
_ASSIGNING_SINKS = ("short_var_declaration", "assignment_statement", "var_spec")


class FileGate:
    """The gate for the top-level functions of one file. ``summary(name)``
    gives a same-package function's summary (go_flow.Analyzer.summary);
    ``callable_names`` the package's (functions, methods, const and type
    names), or None without a package index."""

    def __init__(self, root, data: bytes, callable_names, summary):
        self.root = root
        self.data = data
        self._names = callable_names
        self._summary = summary
        self._imports: set[bytes] | None = None

    def keep(self, fn):
        """False when no allocation of ``fn`` can reach a return (skip it),
        else the names the analysis must see (TextFlows.relevant; None: all)."""
        body = fn.child_by_field_name("body")
        if body is None:
            return False
        data, root = self.data, self.root
        seg = data[body.start_byte:body.end_byte]
        if b"return" not in seg:
            return False
        pointers = None
        callees = None
        flows = None
        seeds: set[bytes] = set()
        found = False
        for m in CANDIDATE.finditer(seg):
            off = body.start_byte + m.start()
            cand = root.descendant_for_byte_range(off, off + 1)
            if cand is None or cand.parent is None:
                continue
            expr = cand.parent
            et = expr.type
            if et not in ("unary_expression", "call_expression", "slice_expression", "func_literal"):
                continue
            if self._imports is None:
                self._imports = _imported_names(root)
            if pointers is None:
                pointers = _pointer_params(fn)
            base = None
            if et == "slice_expression":
                if not _maybe_array(expr, seg, pointers):
                    continue
                base = _base_ident(expr.child_by_field_name("operand"))
            elif et == "unary_expression":
                base = _base_ident(expr.child_by_field_name("operand"))
                if base is not None and base.text in pointers:
                    continue  # &p.f, &s[i] of a pointer or slice parameter: no allocation
            if callees is None:
                callees = _Callees(self._names, fn, seg, self._summary)
            sink = _relevant(expr, self._imports, callees)
            if sink is None:
                continue
            if sink is True:
                return None  # unsure where it goes: analyse every statement
            if flows is None:
                flows = TextFlows(seg, fn)
            if sink.type in _ASSIGNING_SINKS:
                assigned = _assigned_names(sink)
                if not any(n in flows.returned for n in assigned):
                    continue  # stored in variables that never reach a return
                seeds.update(assigned)
            elif sink.type != "return_statement":
                seeds.update(_IDENT.findall(sink.text))  # range, receive: what it is stored in
            # a name of the candidate itself, so that its statement is analysed
            if base is not None:
                seeds.add(base.text)
            elif et == "call_expression":
                seeds.add(b"new")
            else:
                lit = expr.child_by_field_name("operand") if et == "unary_expression" else None
                while lit is not None and lit.type == "parenthesized_expression" and lit.named_children:
                    lit = lit.named_children[0]
                typ = lit.child_by_field_name("type") if lit is not None and lit.type == "composite_literal" \
                    else None
                head = _IDENT.search(typ.text) if typ is not None else None
                if head is not None:
                    seeds.add(head.group())  # &T{...}, &pkg.T{...}
                else:
                    seeds.update(_IDENT.findall(expr.text))  # a func literal, &(*p).f...
            found = True
        if not found:
            return False
        return flows.relevant(seeds)


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


class _AnyName:
    """Every name (no package index: any call may be the package's own code)."""

    def __contains__(self, name) -> bool:
        return True


_ANY = _AnyName()


class _Callees:
    """Which calls in one function go_flow's analysis treats as opaque (it
    assumes their results hold none of the function's allocations): calls of
    package-level variables and imports, of local function values that are not
    func literals, of methods no type of this package declares, of builtins
    and conversions without pointers. A candidate passed only to such calls
    cannot reach a return. Every test is a textual over-approximation of the
    analysis' own decision, so the gate never skips a function it reports in."""

    __slots__ = ("_names", "_callables", "fn", "body", "summary", "_locals", "_closures")

    def __init__(self, callable_names, fn, body: bytes, summary):
        self._names = callable_names  # () -> (functions, methods, const and type names) or None
        self._callables = None
        self.fn = fn
        self.body = body
        self.summary = summary  # name -> a same-package function's summary, or None
        self._locals: set[bytes] | None = None
        self._closures: set[bytes] | None = None

    def _package_names(self) -> tuple:
        """The package's (functions, methods, const and type names), read on first use."""
        if self._callables is None:
            names = self._names() if self._names is not None else None
            self._callables = names or (_ANY, _ANY, _ANY)
        return self._callables

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
            funcs, _, decls = self._package_names()
            if name in decls:
                return True  # a conversion to a package type
            if name not in funcs:
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
            return field is None or field.text.decode() not in self._package_names()[1]
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
_FUNC = re.compile(rb"\bfunc\b")
# the leading name of a value (after the = or a comma): y in y.f, *y, <-y, (y), y[i], range y
_HEADS = re.compile(rb"[,=][\s*&(<\-]*(?:range\s+[\s*&(<\-]*)?([A-Za-z_][A-Za-z0-9_]*)")
_KEYWORDS = frozenset(b"break case chan const continue default defer else fallthrough for func go goto if "
                      b"import interface map package range return select struct switch type var".split())
_BRACKETS = re.compile(rb"[(\[{)\]}]")
_LHS_KEYWORDS = re.compile(rb"^\s*(?:(?:else\s+)?if|for|switch|case|var|select)\s+")


class TextFlows:
    """Flows between the names of one function, read from its text line by
    line: cheap over-approximations of the analysis' flows (in any order, as
    the analysis is flow-insensitive).

    * ``returned``: every variable whose value may flow by assignments into a
      return statement or a named result;
    * ``relevant(seeds)``: what the analysis must see, given the variables
      the function's allocations go to (``seeds``, from the syntax tree): the
      variables reachable from the seeds that are also returned, what their
      types are inferred from (``x := y.f``), the named results, and what a
      returned closure captures. A flow from an allocation to a result only
      goes through such variables, so the analysis skips every statement that
      mentions none of them."""

    def __init__(self, body: bytes, fn):
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
        type_deps: dict[bytes, set[bytes]] = {}
        # func literals: (where the value goes, returned?, names in it, brace depth it opened at);
        # their captured variables count only if the closure value may be returned
        funcs: list[tuple] = []
        open_funcs: list[tuple] = []
        stack: list[tuple] = []  # per open brace: (names stored into, returned?, open parens)
        # what the open braces' statements store into and whether one returns,
        # for every line inside them (recomputed when a brace opens or closes)
        live_targets: tuple = ()
        live_ret = False
        paren = 0
        lhs: tuple = ()
        ret = False
        changed = False
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
                    op_at = m.end() - 1  # the "=" of := or =
                else:
                    lhs = ()
                    start = r.end() if r is not None else 0
            line_ids = None
            if b"func" in line and _FUNC.search(line) is not None:
                line_ids = _IDENT.findall(line)
                open_funcs.append((lhs + live_targets, ret or live_ret, set(), len(stack)))
            if open_funcs:
                if line_ids is None:
                    line_ids = _IDENT.findall(line)
                for _, _, ids, _ in open_funcs:
                    ids.update(line_ids)
            if lhs and start and paren <= 0:
                # the first name of each value: what its type is inferred from
                heads = _HEADS.findall(line, op_at)
                for t in lhs:
                    type_deps.setdefault(t, set()).update(heads)
            if lhs or ret or live_targets or live_ret:
                ids = _IDENT.findall(line, start)
                if ids:
                    for t in lhs:
                        deps.setdefault(t, set()).update(ids)
                    for t in live_targets:
                        deps.setdefault(t, set()).update(ids)
                    if ret or live_ret:
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
                        stack.append((lhs, ret, paren))
                        lhs, ret, paren = (), False, 0
                        changed = True
                    elif stack:
                        lhs, ret, paren = stack.pop()
                        changed = True
                if changed:
                    changed = False
                    live_targets = tuple(t for frame_lhs, _, _ in stack for t in frame_lhs)
                    live_ret = any(frame_ret for _, frame_ret, _ in stack)
            while open_funcs and len(stack) <= open_funcs[-1][3] and (b"}" in line or b"{" not in line):
                funcs.append(open_funcs.pop())
        self.returned = _closure(names, deps)
        self.results = results
        self.deps = deps
        self.type_deps = type_deps
        self.funcs = funcs + open_funcs

    def relevant(self, seeds) -> set[bytes]:
        names, deps = self.returned, self.deps
        touched = set(seeds)
        for targets, returned, ids, _ in self.funcs:
            if returned or any(t in names for t in targets):
                touched.update(targets)
                touched.update(ids)  # what a returned closure captures
        touched -= _KEYWORDS
        into: dict[bytes, list[bytes]] = {}  # the deps, reversed: what a name flows into
        for t, srcs in deps.items():
            for d in srcs:
                into.setdefault(d, []).append(t)
        touched = _closure(touched, into)
        return _closure((names & touched) | self.results, self.type_deps) - _KEYWORDS


def _closure(names: set[bytes], edges: dict) -> set[bytes]:
    """``names`` (updated in place) and everything reachable from them through ``edges``."""
    todo = list(names)
    while todo:
        for d in edges.get(todo.pop(), ()):
            if d not in names:
                names.add(d)
                todo.append(d)
    return names


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


def outer_func_literals(node):
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        if n.type == "func_literal":
            out.append(n)
            continue
        stack.extend(n.named_children)
    return out
