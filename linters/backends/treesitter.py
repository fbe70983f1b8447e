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
