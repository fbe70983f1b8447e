"""Where a Go gRPC target comes from: the environment variables and flags
whose value reaches a dial's target, followed within the package.

Followed: ``os.Getenv("X")``/``os.LookupEnv("X")``, helpers named after the
environment that take the variable's name (``mustMapEnv(&svc.addr, "X")``,
``getEnv("X", "default")``), ``flag.String("name", "default", ...)`` and
``flag.StringVar(&addr, "name", ...)``, struct tags (``env:"X"``,
``envconfig:"X"``); through local variables (in their
function), package variables and struct fields (``svc.catalogAddr``, by field
name), and the parameters of a package function
(``mustConnGRPC(ctx, &conn, svc.catalogAddr)``, to each of its call sites).
The package's other files (same directory and package clause, tests left out)
are parsed only when the file itself does not show where a value comes from.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Iterator, Optional

from cnlint import golang as go
from cnlint.backends.treesitter import parser

from .grpc_manifest_targets import ConfigKey

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_ENV_HELPER = re.compile(r"env", re.I)
_ENV_TAG = re.compile(r'(?:^|\s)(?:env|envconfig):"([A-Za-z_][A-Za-z0-9_]*)')
_DEFAULT_TAG = re.compile(r'(?:^|\s)(?:envDefault|default):"([^"]*)"')
MAX_DEPTH = 4
MAX_SIBLINGS = 64  # other files of the package read
MAX_SIBLING_SIZE = 1_000_000


@dataclass(frozen=True)
class GoFile:
    sem: object  # GoSemantics
    root: object
    path: Optional[str]  # None: the file being checked


@dataclass(frozen=True)
class Read:
    """Where a key is read: a node of ``file``."""

    node: object
    file: GoFile


class TargetSources:
    """The config keys of target expressions in one file and its package."""

    def __init__(self, sem, root, path: str, go_mod=None):
        self.file = GoFile(sem, root, None)
        self._path = path
        self._go_mod = go_mod
        self._package: Optional[list[GoFile]] = None
        self._calls: dict[int, list] = {}

    def keys(self, node, file: Optional[GoFile] = None, depth: int = 0) -> Iterator[tuple[ConfigKey, Read]]:
        """(key, where it is read) for each environment variable or flag whose
        value may be ``node``'s (a node of ``file``, default the checked file)."""
        file = file or self.file
        node = go.unwrap(node, deref=True)
        if node is None or depth > MAX_DEPTH:
            return
        if node.type == "call_expression":
            found = _key_of_read(file.sem, node)
            if found is not None:
                yield found, Read(node, file)
        elif node.type == "identifier":
            yield from self._identifier(node, file, depth)
        elif node.type == "selector_expression":
            yield from self._field(go.text(node.child_by_field_name("field")), depth)

    # ---- values ----
    def _identifier(self, node, file: GoFile, depth):
        name = go.text(node)
        decl = file.sem.resolve(node)
        if decl is not None and decl.kind == "param":
            yield from self._parameter(node, name, depth)
            return
        if decl is not None and decl.kind in ("value", "multi"):
            yield from self.keys(decl.node, file, depth + 1)
        for value in go.values_assigned_before(node, name):
            yield from self.keys(value, file, depth + 1)
        local = decl is not None and go.outermost_function(decl.stmt) is not None
        scopes = [(file, go.outermost_function(node))] if local else [(f, f.root) for f in self.package()]
        for f, scope in scopes:
            for call, arg in self._address_passed(f, scope, lambda n: n.type == "identifier" and go.text(n) == name):
                found = _key_of_write(f.sem, call, arg)
                if found is not None:
                    yield found, Read(call, f)

    def _field(self, field: str, depth):
        def same_field(n):
            return n.type == "selector_expression" and go.text(n.child_by_field_name("field")) == field

        for f in self.package():
            for n in go.walk(f.root):
                if n.type in ("assignment_statement", "short_var_declaration"):
                    left, right = n.child_by_field_name("left"), n.child_by_field_name("right")
                    ls = left.named_children if left is not None else []
                    rs = right.named_children if right is not None else []
                    for i, target in enumerate(ls):
                        if same_field(target) and i < len(rs):
                            yield from self.keys(rs[i] if len(rs) == len(ls) else rs[0], f, depth + 1)
                elif n.type == "keyed_element":
                    key, value = go.keyed(n)
                    if key == field:
                        yield from self.keys(value, f, depth + 1)
                elif n.type == "field_declaration":
                    found = _tagged_key(n, field)
                    if found is not None:
                        yield found, Read(n, f)
            for call, arg in self._address_passed(f, f.root, same_field):
                found = _key_of_write(f.sem, call, arg)
                if found is not None:
                    yield found, Read(call, f)

    def _parameter(self, node, name: str, depth):
        fn = go.enclosing_function(node)
        fname = go.function_name(fn)
        names = [n for names, _ in go.params(fn) for n in names]
        if not fname or name not in names:
            return
        index = names.index(name)
        for f in self.package():
            for call in self._file_calls(f):
                args = go.call_args(call)
                if _callee_name(call) == fname and index < len(args):
                    yield from self.keys(args[index], f, depth + 1)

    # ---- the package ----
    def package(self) -> list[GoFile]:
        """This file, then the package's other files (parsed on first use)."""
        if self._package is None:
            self._package = [self.file, *self._siblings()]
        return self._package

    def _siblings(self) -> list[GoFile]:
        directory = os.path.dirname(os.path.abspath(self._path))
        package = _package_name(self.file.root)
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return []
        out, me = [], os.path.abspath(self._path)
        for n in names:
            path = os.path.join(directory, n)
            if not n.endswith(".go") or n.endswith("_test.go") or path == me:
                continue
            if len(out) == MAX_SIBLINGS:
                break
            try:
                if os.path.getsize(path) > MAX_SIBLING_SIZE:
                    continue
                with open(path, "rb") as fh:
                    tree = parser("go").parse(fh.read())
            except OSError:
                continue
            if package and _package_name(tree.root_node) == package:
                out.append(GoFile(go.GoSemantics(tree, self._go_mod), tree.root_node, path))
        return out

    def _address_passed(self, file: GoFile, scope, matches) -> Iterator[tuple[object, int]]:
        """(call, argument index) for each ``f(..., &x, ...)`` in ``scope`` where ``matches(x)``."""
        for call in self._file_calls(file):
            if not go.contains(scope, call):
                continue
            for i, arg in enumerate(go.call_args(call)):
                if arg.type == "unary_expression" and go.text(arg.child_by_field_name("operator")) == "&":
                    operand = arg.child_by_field_name("operand")
                    if operand is not None and matches(operand):
                        yield call, i

    def _file_calls(self, file: GoFile) -> list:
        calls = self._calls.get(id(file.root))
        if calls is None:
            calls = self._calls[id(file.root)] = [n for n in go.walk(file.root) if n.type == "call_expression"]
        return calls


# ---- calls that read the environment or flags ----
def _key_of_read(sem, call) -> Optional[ConfigKey]:
    """``os.Getenv("X")``, ``getEnv("X", "def")``, ``flag.String("n", "def", ...)``."""
    strings = [go.string_value(a) for a in go.call_args(call)]
    func = sem.package_call(call, "os", "flag")
    if func in ("Getenv", "LookupEnv") and strings and strings[0]:
        return ConfigKey("env", strings[0])
    if func == "String" and len(strings) >= 2 and strings[0]:
        return ConfigKey("flag", strings[0], strings[1] or None)
    if not func and _ENV_HELPER.search(_callee_name(call)):
        return _env_key(strings)
    return None


def _key_of_write(sem, call, arg_index: int) -> Optional[ConfigKey]:
    """``flag.StringVar(&x, "n", "def", ...)`` and ``mustMapEnv(&x, "X")`` write ``x``."""
    strings = [go.string_value(a) for a in go.call_args(call)]
    func = sem.package_call(call, "flag")
    if func == "StringVar" and arg_index == 0 and len(strings) >= 3 and strings[1]:
        return ConfigKey("flag", strings[1], strings[2] or None)
    if not func and _ENV_HELPER.search(_callee_name(call)):
        return _env_key(strings)
    return None


def _tagged_key(decl, field: str) -> Optional[ConfigKey]:
    """The variable a struct field's tag binds it to (``env:"X"`` of
    caarlos0/env, ``envconfig:"X"`` of kelseyhightower/envconfig), with the
    tag's default (``envDefault``/``default``)."""
    tag = decl.child_by_field_name("tag")
    names = [go.text(n) for n in decl.children_by_field_name("name")]
    if tag is None or field not in names:
        return None
    m = _ENV_TAG.search(go.string_value(tag) or "")
    if m is None:
        return None
    default = _DEFAULT_TAG.search(go.string_value(tag) or "")
    return ConfigKey("env", m.group(1), default.group(1) if default else None)


def _callee_name(call) -> str:
    callee = call.child_by_field_name("function")
    if callee is not None and callee.type == "selector_expression":
        callee = callee.child_by_field_name("field")
    return go.text(callee) if callee is not None and callee.type in ("identifier", "field_identifier") else ""


def _env_key(strings: list) -> Optional[ConfigKey]:
    """The variable a helper named after the environment reads: its first
    upper-case string argument; the next string argument is the default."""
    for i, s in enumerate(strings):
        if s and _ENV_NAME.match(s):
            default = strings[i + 1] if i + 1 < len(strings) else None
            return ConfigKey("env", s, default or None)
    return None


def _package_name(root) -> str:
    for node in root.named_children:
        if node.type == "package_clause":
            return go.text(node.named_children[0]) if node.named_children else ""
    return ""
