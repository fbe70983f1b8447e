"""Byte positions of libcst nodes, computed one top-level statement at a time.

libcst nodes carry no positions: ``ByteSpanPositionProvider`` regenerates the
code of the whole module to find them, which on a 2,000-line file costs more
than parsing it. A finding only needs the statement it is in, so positions are
computed for that statement alone (as a module of its own), shifted by the
statement's offset: the byte length of the code before it, summed lazily.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from .python_walk import ParentMap


class SpanIndex:
    def __init__(self, module: cst.Module, parents: ParentMap):
        self.module = module
        self.parents = parents
        self._index = {id(s): i for i, s in enumerate(module.body)}
        self._offsets: list[int] = [len(_code(module, module.header))]  # start of body[i]
        self._spans: dict[int, object] = {}
        self._whole = None
        self.current: Optional[cst.CSTNode] = None  # the statement being walked

    def enter_statement(self, stmt: cst.CSTNode) -> None:
        self.current = stmt

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        """(start byte, end byte) of ``node`` in the module's code (after any BOM)."""
        # a rule reports nodes of the statement it is in: try that first, the
        # node may be a child the walk (and so the parent map) has not reached
        stmt = self.current
        if stmt is None or node not in self._spans_of(self._index[id(stmt)]):
            stmt = self._statement_of(node)
        if stmt is None:  # the module itself, its header or footer
            if self._whole is None:
                self._whole = _byte_spans(self.module)
            s = self._whole[node]
            return s.start, s.start + s.length
        i = self._index[id(stmt)]
        s = self._spans_of(i)[node]
        start = self._offset(i) + s.start
        return start, start + s.length

    def _spans_of(self, i: int):
        spans = self._spans.get(i)
        if spans is None:
            alone = self.module.with_changes(header=(), body=(self.module.body[i],), footer=())
            spans = self._spans[i] = _byte_spans(alone)
        return spans

    def _statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        cur, parent = node, self.parents.get(node)
        while parent is not None and parent is not self.module:
            cur, parent = parent, self.parents.get(parent)
        return cur if parent is self.module and id(cur) in self._index else None

    def _offset(self, i: int) -> int:
        offsets, body = self._offsets, self.module.body
        while len(offsets) <= i:
            j = len(offsets) - 1
            offsets.append(offsets[j] + len(_code(self.module, (body[j],))))
        return offsets[i]


def _byte_spans(module: cst.Module):
    """``ByteSpanPositionProvider`` without MetadataWrapper, whose resolver
    follows every non-batchable provider with an empty libcst traversal."""
    try:
        provider = ByteSpanPositionProvider()
        provider._computed = {}
        provider._gen_impl(module)
        return provider._computed
    except AttributeError:  # libcst internals changed: the public, slower way
        return MetadataWrapper(module, unsafe_skip_copy=True).resolve(ByteSpanPositionProvider)


def _code(module: cst.Module, nodes) -> bytes:
    return "".join(module.code_for_node(n) for n in nodes).encode(module.encoding)
