"""Where a Go gRPC target comes from: the environment variables and flags
whose value reaches a dial's target, followed within the file.

Followed: ``os.Getenv("X")``/``os.LookupEnv("X")``, helpers named after the
environment that take the variable's name (``mustMapEnv(&svc.addr, "X")``,
``getEnv("X", "default")``), ``flag.String("name", "default", ...)`` and
``flag.StringVar(&addr, "name", ...)``; through local and package variables,
struct fields (``svc.catalogAddr``, by field name) and the parameters of a
function of this file (``mustConnGRPC(ctx, &conn, svc.catalogAddr)``, to each
of its call sites).
"""

from __future__ import annotations

import re
from typing import Iterator, Optional

from cnlint import golang as go

from .grpc_balancing import ConfigKey

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ENV_HELPER = re.compile(r"env", re.I)
MAX_DEPTH = 4


class TargetSources:
    """The config keys of target expressions in one file."""

    def __init__(self, sem, root):
        self.sem = sem
        self.root = root
        self._calls: Optional[list] = None

    def keys(self, node, depth: int = 0) -> Iterator[tuple[ConfigKey, object]]:
        """(key, the node that reads it) for each environment variable or flag
        whose value may be ``node``'s."""
        node = go.unwrap(node, deref=True)
        if node is None or depth > MAX_DEPTH:
            return
        if node.type == "call_expression":
            found = self._key_of_read(node)
            if found is not None:
                yield found, node
        elif node.type == "identifier":
            yield from self._identifier(node, depth)
        elif node.type == "selector_expression":
            yield from self._field(go.text(node.child_by_field_name("field")), depth)

    # ---- values ----
    def _identifier(self, node, depth):
        name = go.text(node)
        decl = self.sem.resolve(node)
        if decl is not None and decl.kind == "param":
            yield from self._parameter(node, name, depth)
            return
        if decl is not None and decl.kind in ("value", "multi"):
            yield from self.keys(decl.node, depth + 1)
        for value in go.values_assigned_before(node, name):
            yield from self.keys(value, depth + 1)
        local = decl is not None and go.outermost_function(decl.stmt) is not None
        scope = go.outermost_function(node) if local else self.root
        for call, arg in self._address_passed(scope, lambda n: n.type == "identifier" and go.text(n) == name):
            found = self._key_of_write(call, arg)
            if found is not None:
                yield found, call

    def _field(self, field: str, depth):
        def same_field(n):
            return n.type == "selector_expression" and go.text(n.child_by_field_name("field")) == field

        for n in go.walk(self.root):
            if n.type in ("assignment_statement", "short_var_declaration"):
                left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                ls = left.named_children if left is not None else []
                rs = right.named_children if right is not None else []
                for i, target in enumerate(ls):
                    if same_field(target) and i < len(rs):
                        yield from self.keys(rs[i] if len(rs) == len(ls) else rs[0], depth + 1)
            elif n.type == "keyed_element":
                key, value = go.keyed(n)
                if key == field:
                    yield from self.keys(value, depth + 1)
        for call, arg in self._address_passed(self.root, same_field):
            found = self._key_of_write(call, arg)
            if found is not None:
                yield found, call

    def _parameter(self, node, name: str, depth):
        fn = go.enclosing_function(node)
        fname = go.function_name(fn)
        if not fname:
            return
        names = [n for names, _ in go.params(fn) for n in names]
        if name not in names:
            return
        index = names.index(name)
        for call in self.calls():
            callee = call.child_by_field_name("function")
            if callee is None:
                continue
            called = go.text(callee.child_by_field_name("field")) if callee.type == "selector_expression" \
                else go.text(callee)
            args = go.call_args(call)
            if called == fname and index < len(args):
                yield from self.keys(args[index], depth + 1)

    # ---- calls that read the environment or flags ----
    def _key_of_read(self, call) -> Optional[ConfigKey]:
        """``os.Getenv("X")``, ``getEnv("X", "def")``, ``flag.String("n", "def", ...)``."""
        args = go.call_args(call)
        strings = [go.string_value(a) for a in args]
        func = self.sem.package_call(call, "os", "flag")
        if func in ("Getenv", "LookupEnv") and strings and strings[0]:
            return ConfigKey("env", strings[0])
        if func == "String" and len(strings) >= 2 and strings[0]:
            return ConfigKey("flag", strings[0], strings[1] or None)
        if not func and _ENV_HELPER.search(self._callee_name(call)):
            return _env_key(strings)
        return None

    def _key_of_write(self, call, arg_index: int) -> Optional[ConfigKey]:
        """``flag.StringVar(&x, "n", "def", ...)`` and ``mustMapEnv(&x, "X")`` write ``x``."""
        strings = [go.string_value(a) for a in go.call_args(call)]
        func = self.sem.package_call(call, "flag")
        if func == "StringVar" and arg_index == 0 and len(strings) >= 3 and strings[1]:
            return ConfigKey("flag", strings[1], strings[2] or None)
        if not func and _ENV_HELPER.search(self._callee_name(call)):
            return _env_key(strings)
        return None

    def _callee_name(self, call) -> str:
        callee = call.child_by_field_name("function")
        if callee is not None and callee.type == "selector_expression":
            callee = callee.child_by_field_name("field")
        return go.text(callee) if callee is not None and callee.type in ("identifier", "field_identifier") else ""

    def _address_passed(self, scope, matches) -> Iterator[tuple[object, int]]:
        """(call, argument index) for each ``f(..., &x, ...)`` in ``scope`` where ``matches(x)``."""
        for call in self.calls():
            if not go.contains(scope, call):
                continue
            for i, arg in enumerate(go.call_args(call)):
                if arg.type == "unary_expression" and go.text(arg.child_by_field_name("operator")) == "&":
                    operand = arg.child_by_field_name("operand")
                    if operand is not None and matches(operand):
                        yield call, i

    def calls(self) -> list:
        if self._calls is None:
            self._calls = [n for n in go.walk(self.root) if n.type == "call_expression"]
        return self._calls


def _env_key(strings: list) -> Optional[ConfigKey]:
    """The variable a helper named after the environment reads: its first
    upper-case string argument; the next string argument is the default."""
    for i, s in enumerate(strings):
        if s and _ENV_NAME.match(s):
            default = strings[i + 1] if i + 1 < len(strings) else None
            return ConfigKey("env", s, default or None)
    return None
