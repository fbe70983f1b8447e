"""Byte positions of libcst nodes, computed one top-level statement at a time.

libcst nodes carry no positions: ``ByteSpanPositionProvider`` regenerates the
code of the whole module to find them, which on a 2,000-line file costs more
than parsing it. A finding only needs the statement it is in, so positions are
computed for that statement alone (as a module of its own), shifted by the
statement's offset: the byte length of the code before it, summed lazily (or
given by the incremental parser, which knows where each statement starts).

Positions within a statement do not depend on where the statement is, so a
``StatementSpans`` cache shared between runs (the language server keeps one
per document) serves every statement an edit did not touch.
"""

from __future__ import annotations

from typing import Optional, Sequence

import libcst as cst
from libcst.metadata import ByteSpanPositionProvider, MetadataWrapper

from .python_walk import ParentMap


class StatementSpans(dict):
    """top-level statement node -> (spans of its nodes, its length in bytes)"""

    def of(self, module: cst.Module, stmt: cst.CSTNode):
        hit = self.get(stmt)
        if hit is None:
            alone = module.with_changes(header=(), body=(stmt,), footer=())
            hit = self[stmt] = _byte_spans(alone)
        return hit

    def keep_only(self, statements) -> None:
        live = set(map(id, statements))
        for stmt in [s for s in self if id(s) not in live]:
            del self[stmt]


class SpanIndex:
    def __init__(self, module: cst.Module, parents: ParentMap, cache: Optional[StatementSpans] = None,
                 starts: Optional[Sequence[int]] = None):
        self.module = module
        self.parents = parents
        self.cache = StatementSpans() if cache is None else cache
        self._index = {id(s): i for i, s in enumerate(module.body)}
        # byte offset of body[i]; summed lazily unless the parser knows them
        self._offsets: list[int] = list(starts) if starts is not None else [len(_code(module, module.header))]
        self._whole = None
        self.current: Optional[cst.CSTNode] = None  # the statement being walked

    def enter_statement(self, stmt: cst.CSTNode) -> None:
        self.current = stmt

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        """(start byte, end byte) of ``node`` in the module's code (after any BOM)."""
        # a rule reports nodes of the statement it is in: try that first, the
        # node may be a child the walk (and so the parent map) has not reached
        stmt = self.current
        if stmt is None or node not in self.cache.of(self.module, stmt)[0]:
            stmt = self._statement_of(node)
        if stmt is None:  # the module itself, its header or footer
            if self._whole is None:
                self._whole = _byte_spans(self.module)[0]
            s = self._whole[node]
            return s.start, s.start + s.length
        s = self.cache.of(self.module, stmt)[0][node]
        start = self._offset(self._index[id(stmt)]) + s.start
        return start, start + s.length

    def _statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        cur, parent = node, self.parents.get(node)
        while parent is not None and parent is not self.module:
            cur, parent = parent, self.parents.get(parent)
        return cur if parent is self.module and id(cur) in self._index else None

    def _offset(self, i: int) -> int:
        offsets, body = self._offsets, self.module.body
        while len(offsets) <= i:
            j = len(offsets) - 1
            hit = self.cache.get(body[j])  # its length is known if its spans are
            offsets.append(offsets[j] + (hit[1] if hit is not None else len(_code(self.module, (body[j],)))))
        return offsets[i]


def _byte_spans(module: cst.Module):
    """(``ByteSpanPositionProvider``'s spans, code length in bytes), without
    MetadataWrapper, whose resolver follows every non-batchable provider with an
    empty libcst traversal of the whole module."""
    try:
        from libcst.metadata.span_provider import SpanProvidingCodegenState, byte_length_in_utf8

        provider = ByteSpanPositionProvider()
        provider._computed = {}
        state = SpanProvidingCodegenState(default_indent=module.default_indent,
                                          default_newline=module.default_newline,
                                          provider=provider, get_length=byte_length_in_utf8)
        module._codegen(state)
        return provider._computed, state.position
    except (ImportError, AttributeError, TypeError):  # libcst internals changed: the public, slower way
        spans = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ByteSpanPositionProvider)
        return spans, len(module.code.encode(module.encoding))


def _code(module: cst.Module, nodes) -> bytes:
    return "".join(module.code_for_node(n) for n in nodes).encode(module.encoding)
