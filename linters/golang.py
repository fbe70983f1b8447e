"""Helpers on tree-sitter-go syntax trees, shared by the Go rules of every pack.

Rules import them as ``from cnlint.golang import unwrap, ...``; a rule pack's
own helper module keeps what only its rules need.
"""

from __future__ import annotations

from typing import Iterator


def text(node) -> str:
    """The source text of ``node`` ("" for None)."""
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def import_specs(decl) -> Iterator:
    """The ``import_spec`` nodes of an ``import_declaration`` (single or grouped)."""
    for child in decl.named_children:
        if child.type == "import_spec":
            yield child
        elif child.type == "import_spec_list":
            yield from (c for c in child.named_children if c.type == "import_spec")


def unwrap(node, *, deref: bool = False):
    """Strip parentheses and ``&`` (and ``*`` with ``deref``) from an expression."""
    ops = ("&", "*") if deref else ("&",)
    while node is not None:
        if node.type == "parenthesized_expression" and node.named_child_count:
            node = node.named_children[0]
        elif node.type == "unary_expression" and text(node.child_by_field_name("operator")) in ops:
            node = node.child_by_field_name("operand")
        else:
            return node
    return None


def strip_pointer(node):
    """The type under pointers and parentheses: ``T`` of ``*T``, ``(*T)``."""
    while node is not None and node.type in ("pointer_type", "parenthesized_type") and node.named_child_count:
        node = node.named_children[-1]
    return node


def literal_value(node):
    """The expression inside a ``literal_element`` (tree-sitter-go >= 0.21 wraps
    composite literal keys and values in one); other nodes unchanged."""
    if node is not None and node.type == "literal_element" and node.named_child_count:
        return node.named_children[0]
    return node
