"""One fast traversal of a libcst module for all Python rules of a file.

libcst's own ``visit`` rebuilds every node on the way back up (it is shared
with transformers), which costs four times a plain walk; rules here only read
the tree. This walker visits the same nodes in the same order as libcst (the
child order is read from each node class's ``_visit_and_replace_children``)
except whitespace and punctuation no rule asked for, calls the batched
``visit_<Node>`` / ``visit_<Node>_<field>`` / ``leave_<Node>_<field>`` /
``leave_<Node>`` callbacks of every rule, records
each node's parent (a cheap stand-in for ``ParentNodeProvider``) and keeps
the name-resolution scopes of ``python_names`` in step.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable, Iterable, Optional

import libcst as cst
import libcst._nodes.op as _op
import libcst._nodes.whitespace as _ws

# Whitespace, comments, punctuation and operators: 60% of a module's nodes.
# Not walked unless some visitor of the batch asks for one of them (operators
# and brackets hold nothing but whitespace; whitespace holds comments).
_WHITESPACE = frozenset(c for c in vars(_ws).values() if isinstance(c, type) and c.__module__ == _ws.__name__
                        and issubclass(c, cst.CSTNode))
_PUNCTUATION = frozenset(
    {c for c in vars(_op).values() if isinstance(c, type) and c.__module__ == _op.__name__
     and issubclass(c, cst.CSTNode)}
    | {cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket,
       cst.LeftCurlyBrace, cst.RightCurlyBrace})

_FIELD = re.compile(r"""visit_\w+\(\s*self\s*,\s*["'](\w+)["']""")
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(cls: type) -> tuple[str, ...]:
    """Names of ``cls``'s fields that hold child nodes, in libcst's visiting order."""
    fields = _FIELDS.get(cls)
    if fields is None:
        try:
            # dict.fromkeys: a field may be named twice (ImportFrom.names: sequence or star)
            fields = tuple(dict.fromkeys(_FIELD.findall(inspect.getsource(cls._visit_and_replace_children))))
        except (OSError, TypeError):  # no source (frozen install): dataclass order
            fields = tuple(f for f in getattr(cls, "__dataclass_fields__", ()))
        _FIELDS[cls] = fields
    return fields


def children(node: cst.CSTNode) -> Iterable[cst.CSTNode]:
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (list, tuple)):
            for v in value:
                if isinstance(v, cst.CSTNode):
                    yield v


class ParentMap:
    """Parents recorded by the walk. A lookup of a node the walk has not
    reached yet (a rule looking down the tree) completes the map first."""

    def __init__(self, root: cst.CSTNode):
        self.root = root
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._complete = False

    def get(self, node, default=None):
        p = self.parents.get(node)
        if p is None and not self._complete and node is not self.root:
            self._fill()
            p = self.parents.get(node)
        return default if p is None else p

    def __getitem__(self, node):
        p = self.get(node)
        if p is None:
            raise KeyError(node)
        return p

    def __contains__(self, node) -> bool:
        return self.get(node) is not None

    def _fill(self) -> None:
        self._complete = True
        stack = [self.root]
        parents = self.parents
        while stack:
            n = stack.pop()
            for c in children(n):
                parents[c] = n
                stack.append(c)


Callback = Callable[[Any], Any]


class Walker:
    """Dispatch table for one batch of visitors (``{"visit_Call": [fn, ...]}``)."""

    def __init__(self, visitors: dict[str, list[Callback]], parents: Optional[ParentMap] = None,
                 scopes=None, on_statement: Optional[Callback] = None):
        self.visitors = visitors
        self.parents = parents
        self.scopes = scopes
        self.on_statement = on_statement  # told of each top-level statement before it is walked
        self._table: dict[type, tuple] = {}
        self._kinds: dict[type, int] = {}
        wanted = {key.split("_")[1] for key in visitors}
        if any(c.__name__ in wanted for c in _WHITESPACE):
            self.skip: frozenset = frozenset()
        else:
            self.skip = _WHITESPACE | {c for c in _PUNCTUATION if c.__name__ not in wanted}

    def _entry(self, cls: type) -> tuple:
        name = cls.__name__
        v = self.visitors
        fields = child_fields(cls)
        attr = tuple((f, v.get(f"visit_{name}_{f}", ()), v.get(f"leave_{name}_{f}", ())) for f in fields)
        scoped = self.scopes is not None and cls in self.scopes.KINDS
        entry = (v.get(f"visit_{name}", ()), v.get(f"leave_{name}", ()), attr, scoped)
        self._table[cls] = entry
        return entry

    def _kind(self, t: type) -> int:
        """0: not walked (trivia, strings, sentinels), 1: a node, 2: a sequence of nodes.
        By type, from a table: isinstance against libcst's ABCs is slow."""
        if t in self.skip:
            k = 0
        elif t is list or t is tuple:
            k = 2
        else:
            k = 1 if isinstance(t, type) and issubclass(t, cst.CSTNode) else 0
        self._kinds[t] = k
        return k

    def walk(self, node: cst.CSTNode) -> None:
        cls = type(node)
        entry = self._table.get(cls) or self._entry(cls)
        visit, leave, attr, scoped = entry
        for fn in visit:
            fn(node)
        if scoped:
            self.scopes.enter(node)
        parents = self.parents.parents if self.parents is not None else None
        walk = self.walk
        kinds = self._kinds
        if self.on_statement is not None and cls is cst.Module:
            walk = self._statement_walker(node)
        for f, before, after in attr:
            for fn in before:
                fn(node)
            value = getattr(node, f)
            k = kinds.get(type(value))
            if k is None:
                k = self._kind(type(value))
            if k == 1:
                if parents is not None:
                    parents[value] = node
                walk(value)
            elif k == 2:
                for c in value:
                    kc = kinds.get(type(c))
                    if kc is None:
                        kc = self._kind(type(c))
                    if kc == 1:
                        if parents is not None:
                            parents[c] = node
                        walk(c)
            for fn in after:
                fn(node)
        for fn in leave:
            fn(node)
        if scoped:
            self.scopes.exit()

    def _statement_walker(self, module: cst.Module) -> Callback:
        body = {id(s) for s in module.body}

        def walk(child):
            if id(child) in body:
                self.on_statement(child)
            self.walk(child)
        return walk
