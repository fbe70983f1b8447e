"""Loops around a node and what a loop's header and body say: counting loops,
loop variables, what runs once per iteration, whether a ``break`` leaves it."""

from __future__ import annotations

from typing import Iterator

from .syntax import FUNCS, identifiers_in, is_immediately_called, text, walk


def enclosing_loops(node, *, through_callbacks: bool = False) -> Iterator:
    """The ``for`` statements around ``node`` in its function, innermost first; a
    function literal ends the search unless it is called right where it stands
    (``go func(p corev1.Pod) {...}(pod)``) or, with ``through_callbacks``, passed
    to a call that runs it per iteration (``g.Go(func() error {...})``,
    ``retry.RetryOnConflict(b, func() error {...})``)."""
    cur, child = node.parent, node
    while cur is not None:
        if cur.type == "for_statement":
            body = cur.child_by_field_name("body")
            if body is not None and body.id == child.id:
                yield cur
        elif cur.type == "func_literal":
            passed = through_callbacks and cur.parent is not None and cur.parent.type == "argument_list"
            if not (passed or is_immediately_called(cur)):
                return
        elif cur.type in ("function_declaration", "method_declaration"):
            return
        child, cur = cur, cur.parent


def loop_header(loop):
    """(kind, clause): kind is "infinite" (``for {}``), "cond" (``for x {}``),
    "clause" (``for i := 0; i < n; i++``) or "range"."""
    for c in loop.named_children:
        if c.type == "for_clause":
            return "clause", c
        if c.type == "range_clause":
            return "range", c
    body = loop.child_by_field_name("body")
    for c in loop.named_children:
        if (body is None or c.id != body.id) and c.type != "comment":
            return "cond", c
    return "infinite", None


def is_bounded_loop(loop) -> bool:
    """A counting loop: ``for i := 0; i < 5; i++`` (any bound without a call in it,
    so a retry budget), ``for i := range 5`` / ``for range retries``
    (Go 1.22 integer range)."""
    kind, clause = loop_header(loop)
    if kind == "clause":
        cond = clause.child_by_field_name("condition")
        update = clause.child_by_field_name("update")
        if cond is None or update is None:
            return False
        counters = loop_variables(loop) | identifiers_in(update)
        return any(_counter_test(c, counters) for c in _conjuncts(cond))
    if kind == "range":
        right = clause.child_by_field_name("right")
        if right is not None and right.type == "int_literal":
            return True
        if right is not None and right.type == "identifier":
            name = text(right).lower()
            return any(w in name for w in ("retr", "attempt", "tries", "max"))
    return False


def _conjuncts(cond) -> list:
    """``a && b && c`` -> [a, b, c]."""
    while cond is not None and cond.type == "parenthesized_expression" and cond.named_child_count:
        cond = cond.named_children[0]
    if cond is not None and cond.type == "binary_expression" and text(cond.child_by_field_name("operator")) == "&&":
        return _conjuncts(cond.child_by_field_name("left")) + _conjuncts(cond.child_by_field_name("right"))
    return [cond] if cond is not None else []


def _counter_test(cond, counters: set[str]) -> bool:
    """``i < 5``, ``i < maxRetries``, ``i < len(x)``, ``n > 0``: a counter against a bound
    (not a clock: ``time.Since(start) < timeout`` has a call)."""
    if cond.type != "binary_expression":
        return False
    if text(cond.child_by_field_name("operator")) not in ("<", "<=", ">", ">=", "!="):
        return False
    left, right = cond.child_by_field_name("left"), cond.child_by_field_name("right")
    if left is None or right is None or text(left) not in counters:
        return False
    return not any(n.type == "call_expression" for n in walk(cond, into_funcs=False)) \
        or text(right).startswith("len(")


def loop_variables(loop) -> set[str]:
    """The names a loop's header declares (``_`` left out)."""
    kind, clause = loop_header(loop)
    names: set[str] = set()
    if kind == "range":
        left = clause.child_by_field_name("left")
        if left is not None:
            names |= {text(n) for n in left.named_children if n.type == "identifier"}
    elif kind == "clause":
        init = clause.child_by_field_name("initializer")
        if init is not None and init.type == "short_var_declaration":
            left = init.child_by_field_name("left")
            names |= {text(n) for n in left.named_children if n.type == "identifier"}
    names.discard("_")
    return names


def loop_level_nodes(loop) -> Iterator:
    """Descendants of a loop's body that run once per iteration of THIS loop:
    nested loops and function literals are not entered."""
    body = loop.child_by_field_name("body")
    if body is None:
        return
    stack = list(reversed(body.named_children))
    while stack:
        n = stack.pop()
        yield n
        if n.type in FUNCS or n.type == "for_statement":
            continue
        stack.extend(reversed(n.named_children))


def breaks_loop(loop) -> bool:
    """A plain ``break`` that leaves this loop (not one of a nested switch/select)."""
    body = loop.child_by_field_name("body")
    if body is None:
        return False
    stack = list(body.named_children)
    while stack:
        n = stack.pop()
        if n.type == "break_statement":
            label = n.named_children[0] if n.named_child_count else None
            if label is None:
                return True
            parent = loop.parent
            if parent is not None and parent.type == "labeled_statement" and \
                    text(parent.named_children[0]) == text(label):
                return True
            continue
        if n.type in FUNCS or n.type in ("for_statement", "expression_switch_statement",
                                         "type_switch_statement", "select_statement"):
            # a labelled break inside still may leave our loop
            stack.extend(x for x in walk(n, into_funcs=False) if x is not n and x.type == "break_statement"
                         and x.named_child_count)
            continue
        stack.extend(n.named_children)
    return False
