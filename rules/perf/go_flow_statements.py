"""Statements for PERF001's escape analysis (a mixin of go_flow.Analyzer):
declarations, assignments, returns, and control flow with the dead code the
compiler drops first (constant conditions, code after a terminating statement)."""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import TYPE_CHECKING

from .go_flow_graph import Loc, text_of, unparen, unparen_type
from .go_package import (ARRAY, DIRECT_KINDS, IFACE, MAP, NAMED, NOT_CONST, POINTER, SLICE, STRUCT,
                         TYPEPARAM, ConstEnv, Unknown, evaluate, static_bool)

if TYPE_CHECKING:
    from .go_flow import Analyzer

_NO_CLAUSE = object()
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
#: statements analysed even when they mention no ``keep`` variable (they
#: change what names mean in what follows: constants in conditions, types)
_NOT_PRUNABLE = frozenset(("const_declaration", "type_declaration"))
_NIL_COMPARE = re.compile(rb"^[^()&|]*[!=]=\s*nil\s*$")


class Statements:
    """Walks the statements of a function body, evaluating their expressions
    into holes (go_flow_expressions.Expressions)."""

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
            c = unparen(s.named_children[0]) if s.named_children else None
            if c is not None and c.type == "call_expression":
                f = c.child_by_field_name("function")
                return f is not None and f.type == "identifier" and text_of(f) == "panic" and not self.shadowed("panic")
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

    def s_go_statement(self, s):  # and a sent value: both outlive the statement
        for c in s.named_children:
            self.to_heap(c)

    s_send_statement = s_go_statement

    def s_defer_statement(self, s):
        for c in s.named_children:
            self.discard(c)

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
        elif len(vals) == 1 and unparen(vals[0]).type == "call_expression":
            self.call(None, unparen(vals[0]), ks=[(r, 0, s) for r in fn.results])  # return f()
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
        locs = [Loc("var", n, self.fn, text_of(n), self.type_of_node(tnode) if tnode is not None
                    else (self.infer(vals[i]) if i < len(vals) else None)) for i, n in enumerate(names)]
        if len(vals) == len(names):
            for loc, v in zip(locs, vals):
                self.expr((loc, 0, sp) if loc.name != "_" else None, v)
                fl = unparen(v)
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
                name = text_of(n)
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
                self.scopes[-1][text_of(n)] = "type"

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
            name = text_of(n)
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
                    uv = unparen(v)
                    if uv.type == "call_expression":
                        loc.typ = self.call_result_type(uv, 0)
                    else:
                        loc.typ = self.infer(v)
                self.expr(self.hole(loc, note), v)
                fl = unparen(v)
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
        v = unparen(v)
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
            v = unparen(rhs[0])
            if v.type in ("type_assertion_expression", "index_expression") or (
                    v.type == "unary_expression" and v.child_by_field_name("operator").type == "<-"):
                self.expr(holes[0] if holes else None, v)
            elif v.type == "call_expression":
                self.call(None, v, ks=holes)
            else:
                self.expr(None, v)

    def assign_target(self, n, note):
        """The hole for an assignment's left-hand side, marking reassignments."""
        n = unparen(n)
        t = n.type
        if t == "identifier":
            if text_of(n) == "_":
                return None
            loc = self.lookup(n)
            if loc is None:
                return (self.heap, 0, note)  # a package-level variable
            self.reassign(loc)
            return (loc, 0, note)
        if t == "selector_expression":
            base = unparen(n.child_by_field_name("operand"))
            kind = self.value_kind(base)
            if kind in (STRUCT, NAMED):
                k = self.assign_target(base, note)
                return k
            self.discard(base)
            return (self.heap, 0, note)
        if t == "index_expression":
            base = unparen(n.child_by_field_name("operand"))
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
        cond = update = None
        if clause is not None and clause.type == "range_clause":
            self.range_clause(clause)
        elif clause is not None:
            init = clause.child_by_field_name("initializer")
            if init is not None:
                self.stmt(init)
                if self.per_iteration:  # Go 1.22: a new variable per iteration
                    for loc in self.scopes[-1].values():
                        if isinstance(loc, Loc):
                            loc.depth = self.depth + 1
            cond = clause.child_by_field_name("condition")
            update = clause.child_by_field_name("update")
        else:
            cond = next((c for c in s.named_children if c is not body and c.type != "comment"), None)
        if cond is not None and self.static(cond) < 0:
            self.scopes.pop()  # a loop that never runs
            return
        self.depth += 1
        if cond is not None:
            self.expr(None, cond)
        if body is not None:
            self.block(body)
        if update is not None:
            self.stmt(update)
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
                    kn = unparen_type(rtyp.node) if rtyp is not None else None
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
                name = text_of(n)
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
