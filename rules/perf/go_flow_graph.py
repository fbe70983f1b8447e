"""The graph PERF001's escape analysis (go_flow.py) builds: locations (variables,
allocations, results), the functions they belong to, and the escapes it reports;
and the small tree-sitter helpers every part of the analysis uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from .go_package import Type

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


def text_of(node) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def unparen_type(node):
    while node is not None and node.type in ("parenthesized_type",) and node.named_children:
        node = node.named_children[0]
    return node


def unparen(node):
    while node is not None and node.type == "parenthesized_expression" and node.named_children:
        node = node.named_children[0]
    return node
