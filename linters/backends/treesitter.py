"""Tree-sitter backend: Go, TypeScript, TSX and JavaScript.

A tree-sitter rule says what it wants to see in one of two ways, both served by
ONE combined query per file (the query engine walks the tree in C, so there is
no Python-level walk per rule):

* ``query``: a tree-sitter query; ``on_match(captures)`` gets each match as a
  ``{capture_name: [nodes]}`` dict. A ``dict`` maps language -> query when the
  grammars differ.
* ``visit_<node_type>(node)`` methods: called for every node of that type, in
  document order (plain node visiting, for what a query cannot say; from the
  node, walk ``.parent`` / ``.children`` freely).

and ``check_tree(root)`` for whole-file logic. Queries are compiled once per
process and language, and the combined query once per distinct set of active
rules (files that pass different prefilters get different sets).
"""

from __future__ import annotations

import re
from bisect import bisect_right

import time
from functools import lru_cache
from typing import Any, ClassVar, Iterable

import tree_sitter as ts

from .. import profiling, timeouts
from ..context import FileContext
from ..rule import Rule

_VISIT = "__visit"


@lru_cache(maxsize=None)
def language(name: str) -> ts.Language:
    if name == "go":
        import tree_sitter_go as mod

        return ts.Language(mod.language())
    if name == "javascript":
        import tree_sitter_javascript as mod

        return ts.Language(mod.language())
    if name in ("typescript", "tsx"):
        import tree_sitter_typescript as mod

        return ts.Language(mod.language_typescript() if name == "typescript" else mod.language_tsx())
    raise ValueError(f"no tree-sitter grammar for {name!r}")


@lru_cache(maxsize=None)
def parser(name: str) -> ts.Parser:
    return ts.Parser(language(name))


def node_text(node: ts.Node) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


class TreeSitterRule(Rule):
    query: ClassVar[str | dict[str, str]] = ""

    @classmethod
    def backend(cls) -> str:
        return "tree-sitter"

    def byte_range(self, node: Any) -> tuple[int, int]:
        if isinstance(node, ts.Node):
            return node.start_byte, node.end_byte
        return super().byte_range(node)

    # ---- check protocol (override what you need) ----
    def on_match(self, captures: dict[str, list[ts.Node]]) -> None:  # pragma: no cover - default
        pass

    def begin_file(self, root: ts.Node) -> None:
        """Called once per file before any match: reset per-file state here."""

    def check_tree(self, root: ts.Node) -> None:
        pass

    # ---- helpers for rule authors ----
    @staticmethod
    def text(node: ts.Node | None) -> str:
        return node_text(node) if node is not None else ""

    @classmethod
    def query_for(cls, lang: str) -> str:
        q = cls.query
        return q.get(lang, "") if isinstance(q, dict) else q

    @classmethod
    def visited_types(cls) -> tuple[str, ...]:
        return tuple(sorted(n[len("visit_"):] for n in dir(cls) if n.startswith("visit_")))


class QueryCompileError(Exception):
    pass


@lru_cache(maxsize=None)
def _rule_patterns(rule_cls: type[TreeSitterRule], lang: str) -> tuple[str, int, int]:
    """A rule's query source for ``lang``: its own query first, then one pattern
    per visited node type. Returns (source, pattern count, own pattern count)."""
    own = rule_cls.query_for(lang).strip()
    visits = "\n".join(f"({t}) @{_VISIT}" for t in rule_cls.visited_types())
    try:
        own_n = ts.Query(language(lang), own).pattern_count if own else 0
        visit_n = ts.Query(language(lang), visits).pattern_count if visits else 0
    except Exception as e:  # tree_sitter.QueryError, or NameError for bad node types
        raise QueryCompileError(f"{rule_cls.id} ({rule_cls.__name__}): bad query for {lang}: {e}") from e
    return "\n".join(p for p in (own, visits) if p), own_n + visit_n, own_n


def check_queries(rule_cls: type[TreeSitterRule]) -> None:
    """Compile a rule's queries for all its languages (raises QueryCompileError)."""
    for lang in rule_cls.languages:
        _rule_patterns(rule_cls, lang)


class _Combined:
    """One compiled query for a set of rules. ``owner[pattern]`` is the index
    of the rule the pattern came from and whether it is one of the rule's own
    query patterns (else a visitor pattern)."""

    def __init__(self, lang: str, rule_classes: tuple[type[TreeSitterRule], ...]):
        sources = []
        self.owner: list[tuple[int, bool]] = []
        for i, cls in enumerate(rule_classes):
            src, n, own_n = _rule_patterns(cls, lang)
            if n:
                sources.append(src)
                self.owner.extend((i, k < own_n) for k in range(n))
        self.query = ts.Query(language(lang), "\n".join(sources)) if sources else None


@lru_cache(maxsize=256)
def _combined(lang: str, rule_classes: tuple[type[TreeSitterRule], ...]) -> _Combined:
    return _Combined(lang, rule_classes)


def parse(ctx: FileContext) -> ts.Tree:
    tree = parser(ctx.language).parse(ctx.source.data)
    ctx.tree = tree
    return tree


def run_rules(ctx: FileContext, rules: Iterable[TreeSitterRule], on_crash) -> None:
    """Run ``rules`` on the parsed ``ctx.tree`` with one combined query."""
    rules = list(rules)
    if not rules:
        return
    root = ctx.tree.root_node
    dead: set[int] = set()
    for i, r in enumerate(rules):
        r.ctx = ctx
        if type(r).begin_file is not TreeSitterRule.begin_file:
            timeouts.running = r
            try:
                r.begin_file(root)
            except (Exception, timeouts.RuleTimeout) as e:
                dead.add(i)
                on_crash(r, e)
            finally:
                timeouts.running = None
    combined = _combined(ctx.language, tuple(type(r) for r in rules))
    timing = profiling.stats is not None
    if combined.query is not None:
        cursor = ts.QueryCursor(combined.query)
        with profiling.timed("tree-sitter query (all rules)"):
            matches = cursor.matches(root)
        for pattern, captures in matches:
            i, own = combined.owner[pattern]
            if i in dead:
                continue
            rule = rules[i]
            t = time.perf_counter() if timing else 0.0
            timeouts.running = rule
            try:
                if own:
                    rule.on_match(captures)
                else:
                    for node in captures.get(_VISIT, ()):
                        getattr(rule, "visit_" + node.type)(node)
            except (Exception, timeouts.RuleTimeout) as e:  # a crashing rule must not stop the run
                dead.add(i)
                on_crash(rule, e)
            finally:
                timeouts.running = None
            if timing:
                profiling.add("rule " + rule.id, time.perf_counter() - t)
    for i, rule in enumerate(rules):
        if i in dead or type(rule).check_tree is TreeSitterRule.check_tree:
            continue
        timeouts.running = rule
        try:
            with profiling.timed("rule " + rule.id):
                rule.check_tree(root)
        except (Exception, timeouts.RuleTimeout) as e:
            on_crash(rule, e)
        finally:
            timeouts.running = None


def first_syntax_error(tree: ts.Tree) -> tuple[int, int, str] | None:
    """(start_byte, end_byte, message) of the first ERROR or MISSING node."""
    node = tree.root_node
    if not node.has_error:
        return None
    while True:
        for child in node.children:
            if child.is_missing:
                return child.start_byte, child.start_byte, f"syntax error: missing `{child.type}`"
            if child.type == "ERROR" or child.is_error:
                text = node_text(child).split("\n", 1)[0][:40]
                return child.start_byte, child.end_byte, f"syntax error: unexpected `{text}`" if text else "syntax error"
            if child.has_error:
                node = child
                break
        else:
            return node.start_byte, node.end_byte, "syntax error"


# Valid TypeScript that tree-sitter-typescript 0.23 (the newest on PyPI) cannot
# parse, found by linting the sources of popular npm packages (effect, rxjs):
# variance annotations on type parameters (`interface Cache<in out K, out V>`,
# TS 4.7), and a type member on its own line starting with `<` after a member
# without a `;` (overloaded call signatures, read as `A < B > (...)`).
_TS_VARIANCE = re.compile(rb"(?<=[<,])(\s*)(in\s+out|in|out)(?=\s+[A-Za-z_$])")
_TS_NEWLINE_GENERIC = re.compile(rb"(?m)^[ \t](?=[ \t]*<[A-Za-z_$])")
_TS_MEMBER_END = re.compile(rb"[A-Za-z0-9_$)\]>}]")


def _last_code_byte(data: bytes, end: int) -> bytes:
    """The last byte before ``end`` that is not whitespace or in a /* */ comment."""
    i = end - 1
    while i >= 0:
        c = data[i]
        if c in b" \t\r\n":
            i -= 1
        elif c == 0x2F and i > 0 and data[i - 1] == 0x2A:  # the end of a /* comment */
            i = data.rfind(b"/*", 0, i - 1) - 1
            if i < -1:
                return b""
        else:
            return data[i:i + 1]
    return b""


def grammar_gap(language: str, data: bytes, tree: ts.Tree | None = None) -> bool:
    """Whether the syntax errors tree-sitter finds in ``data`` all come from
    the known gaps of the grammar: the text parses once those are rewritten in
    a copy (byte for byte the same length, re-parsed incrementally from
    ``tree``). CN001 must not call valid code broken."""
    if language not in ("typescript", "tsx"):
        return False
    out = bytearray(data)
    edits: list[int] = []
    for m in _TS_VARIANCE.finditer(data):  # `in`/`out` become spaces
        out[m.start(2):m.end(2)] = b" " * (m.end(2) - m.start(2))
        edits.append(m.start(2))
        edits.append(m.end(2))
    for m in _TS_NEWLINE_GENERIC.finditer(data):  # `;` ends the member above
        if _TS_MEMBER_END.fullmatch(_last_code_byte(data, m.start())):
            out[m.start()] = 0x3B
            edits.append(m.start())
            edits.append(m.start() + 1)
    if not edits:
        return False
    fixed = bytes(out)
    old = None
    if tree is not None:
        old = tree.copy()  # the rules still read the original tree
        lines = [0] + [m.end() for m in re.finditer(b"\n", data)]
        for start, end in zip(edits[::2], edits[1::2]):
            a, b = _point(lines, start), _point(lines, end)
            old.edit(start_byte=start, old_end_byte=end, new_end_byte=end,
                     start_point=a, old_end_point=b, new_end_point=b)
    new = parser(language).parse(fixed, old) if old is not None else parser(language).parse(fixed)
    return not new.root_node.has_error


def _point(line_starts: list[int], offset: int) -> tuple[int, int]:
    row = bisect_right(line_starts, offset) - 1
    return row, offset - line_starts[row]


def comment_at(tree: ts.Tree, byte: int) -> bool:
    """Whether ``byte`` lies inside a comment node."""
    node = tree.root_node.descendant_for_byte_range(byte, byte + 1)
    while node is not None:
        if "comment" in node.type:
            return True
        if node.type in ("string_literal", "string", "template_string", "interpreted_string_literal",
                         "raw_string_literal"):
            return False
        node = node.parent
    return False
