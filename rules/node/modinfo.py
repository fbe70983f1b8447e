"""What a JavaScript file of an installed package contains, read once per process.

Parsed with tree-sitter's JavaScript grammar and queried (the query engine
walks the tree in C): module syntax (top-level ``import``/``export``,
``import.meta``), the first top-level ``await``, the static imports that make
up its ES module graph, and the names it exports (for "what does require()
return on Node with require(esm)").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter as ts

#: Larger files are not parsed (a 20 MB bundle is CommonJS in practice); they
#: count as "no module syntax, no top-level await, unknown exports".
MAX_BYTES = 8_000_000

_FUNCS = frozenset({
    "function_declaration", "function_expression", "function", "arrow_function", "method_definition",
    "generator_function_declaration", "generator_function", "class_static_block",
    "field_definition",
})

_QUERY = """
(program (import_statement source: (string) @import))
(program (export_statement) @export)
(meta_property) @meta
(await_expression) @await
(for_in_statement "await") @forawait
"""

_MODULE_WORDS = re.compile(rb"\b(?:import|export)\b")


@dataclass(frozen=True)
class ModuleInfo:
    module_syntax: bool  # import/export statements or import.meta: not valid CommonJS
    tla: tuple[int, str] | None  # (line, text) of the first top-level await
    imports: tuple[str, ...]  # static import / export-from specifiers, in order
    exports: frozenset[str]  # names exported by this file itself
    star_from: tuple[str, ...]  # `export * from` specifiers (their names are exported too)
    parsed: bool = True


EMPTY = ModuleInfo(False, None, (), frozenset(), (), parsed=False)


@lru_cache(maxsize=None)
def _query() -> ts.Query:
    from cnlint.backends.treesitter import language

    return ts.Query(language("javascript"), _QUERY)


def _string_value(node: ts.Node | None) -> str | None:
    if node is None or node.type != "string":
        return None
    text = node.text.decode("utf-8", "replace")
    return text[1:-1] if len(text) >= 2 else None


def _top_level(node: ts.Node) -> bool:
    p = node.parent
    while p is not None:
        if p.type in _FUNCS:
            return False
        p = p.parent
    return True


def _pattern_names(node: ts.Node, out: set[str]) -> None:
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        out.add(node.text.decode("utf-8", "replace"))
        return
    if node.type == "pair_pattern":
        v = node.child_by_field_name("value")
        if v is not None:
            _pattern_names(v, out)
        return
    if node.type == "assignment_pattern":
        left = node.child_by_field_name("left")
        if left is not None:
            _pattern_names(left, out)
        return
    for c in node.named_children:
        _pattern_names(c, out)


def _export_names(stmt: ts.Node, names: set[str], star: list[str]) -> None:
    source = _string_value(stmt.child_by_field_name("source"))
    if any(c.type == "default" for c in stmt.children):
        names.add("default")
        return
    decl = stmt.child_by_field_name("declaration")
    if decl is not None:
        if decl.type in ("lexical_declaration", "variable_declaration"):
            for d in decl.named_children:
                if d.type == "variable_declarator" and d.child_by_field_name("name") is not None:
                    _pattern_names(d.child_by_field_name("name"), names)
        else:
            n = decl.child_by_field_name("name")
            if n is not None:
                names.add(n.text.decode("utf-8", "replace"))
        return
    for c in stmt.named_children:
        if c.type == "export_clause":
            for spec in c.named_children:
                if spec.type != "export_specifier":
                    continue
                node = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
                if node is None:
                    continue
                names.add(_string_value(node) if node.type == "string" else node.text.decode("utf-8", "replace"))
            return
        if c.type == "namespace_export":
            ident = c.named_children[-1] if c.named_children else None
            if ident is not None:
                names.add(_string_value(ident) if ident.type == "string" else ident.text.decode("utf-8", "replace"))
            return
    if source is not None and any(c.type == "*" for c in stmt.children):
        star.append(source)


def analyse(data: bytes) -> ModuleInfo:
    if len(data) > MAX_BYTES:
        return EMPTY
    has_words = _MODULE_WORDS.search(data) is not None
    if not has_words and b"await" not in data:
        return ModuleInfo(False, None, (), frozenset(), ())
    from cnlint.backends.treesitter import parser

    tree = parser("javascript").parse(data)
    imports: list[str] = []
    names: set[str] = set()
    star: list[str] = []
    module_syntax = False
    tla = None
    cursor = ts.QueryCursor(_query())
    for _, caps in cursor.matches(tree.root_node):
        if "import" in caps:
            module_syntax = True
            s = _string_value(caps["import"][0])
            if s is not None:
                imports.append(s)
        elif "export" in caps:
            module_syntax = True
            stmt = caps["export"][0]
            s = _string_value(stmt.child_by_field_name("source"))
            if s is not None:
                imports.append(s)
            _export_names(stmt, names, star)
        elif "meta" in caps:
            node = caps["meta"][0]
            if node.text == b"import.meta":
                module_syntax = True
        else:
            node = (caps.get("await") or caps.get("forawait"))[0]
            if tla is None and _top_level(node):
                line = node.start_point[0] + 1
                tla = (line, node.text.decode("utf-8", "replace").split("\n", 1)[0][:60])
    return ModuleInfo(module_syntax, tla, tuple(imports), frozenset(names), tuple(star))


@lru_cache(maxsize=4096)
def module_info(path: str) -> ModuleInfo:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError:
        return EMPTY
    return analyse(data)
