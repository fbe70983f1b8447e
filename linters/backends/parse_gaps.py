"""What tree-sitter could not parse: a real syntax error, or valid code that its
grammar does not know yet.

tree-sitter-go and tree-sitter-typescript lag behind their languages (Go 1.26's
`new(expr)`, Go 1.27's generic methods; TypeScript 4.7's variance annotations).
Every query of cnlint's rules, and of users' custom rules, is written against
their node types, so they stay the parsers the rules read. Only for a file they
fail on (a handful: 6 of 5,845 in GOROOT/src) is the error judged again:

* Go: by tree-sitter-golang, a grammar that tracks the Go release and accepts
  what go/parser accepts. If it parses the file, the code is valid; its tree
  then says where the constructs tree-sitter-go does not know are, and a copy
  with those rewritten (same length) gives the rules a tree of all of the file.
* TypeScript: by a narrow list of known gaps, rewritten in a copy byte for byte
  of the same length; if the copy parses, the code is valid.

Valid code is never a syntax error. When a rewritten copy parses, the rules
read its tree, which covers all of the file (a rewrite keeps every byte's
position: it blanks `in`/`out` or a method's type parameters, puts a `;` for a
space or renames an identifier). Otherwise the regions tree-sitter could not
parse are reported as a notice, and the rules ran on the rest of the file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata

import tree_sitter as ts


@dataclass(frozen=True)
class ParseProblems:
    """The byte ranges the rules' tree could not analyse, and the first real
    syntax error (None: the code is valid, the grammar has a gap)."""

    regions: tuple[tuple[int, int], ...]
    error: tuple[int, int, str] | None
    gap_reason: str = ""  # why the code is known valid, when error is None
    repaired: ts.Tree | None = None  # a tree of all of the file for the rules (nothing left unanalysed)


def check(language: str, data: bytes, tree: ts.Tree) -> ParseProblems | None:
    """None when ``tree`` has no error; otherwise what is wrong and where."""
    if not tree.root_node.has_error:
        return None
    rewritten = None
    if language in ("typescript", "tsx", "javascript"):
        rewritten = typescript_rewrite(language, data, tree)
        if rewritten is not None and not rewritten.root_node.has_error:
            grammar = _version("tree-sitter-javascript" if language == "javascript" else "tree-sitter-typescript")
            return ParseProblems((), None, f"valid code that {grammar} cannot parse (a known gap of its grammar)",
                                 rewritten)
    regions = tuple(error_regions(tree))
    if language == "go":
        judge = _go_judge()
        if judge is not None:
            second = judge.parse(data)
            if not second.root_node.has_error:
                repaired = go_rewrite(data, tree, second)
                return ParseProblems(regions, None, f"valid Go that {_version('tree-sitter-go')} cannot parse "
                                                    f"(accepted by {_version('tree-sitter-golang')})",
                                     repaired if repaired is not None and not repaired.root_node.has_error
                                     else None)
            # the newer grammar places the error better in modern code
            return ParseProblems(regions, first_syntax_error(second))
    # past the known gaps, the first error that is left
    return ParseProblems(regions, first_syntax_error(rewritten if rewritten is not None else tree))


def error_regions(tree: ts.Tree) -> list[tuple[int, int]]:
    """The outermost ERROR nodes and the MISSING nodes, in document order."""
    out: list[tuple[int, int]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing:
            out.append((node.start_byte, node.start_byte))
        elif node.is_error:
            out.append((node.start_byte, node.end_byte))
        elif node.has_error:
            stack.extend(reversed(node.children))
    return out


def first_syntax_error(tree: ts.Tree) -> tuple[int, int, str] | None:
    """(start_byte, end_byte, message) of the first ERROR or MISSING node."""
    node = tree.root_node
    if not node.has_error:
        return None
    while True:
        for child in node.children:
            if child.is_missing:
                return child.start_byte, child.start_byte, f"syntax error: missing `{child.type}`"
            if child.is_error:
                text = (child.text or b"").decode("utf-8", "replace").split("\n", 1)[0][:40]
                return child.start_byte, child.end_byte, f"syntax error: unexpected `{text}`" if text else "syntax error"
            if child.has_error:
                node = child
                break
        else:
            return node.start_byte, node.end_byte, "syntax error"


def line_ranges(line_starts: list[int], regions) -> list[tuple[int, int]]:
    """1-based inclusive line ranges covering ``regions``, merged."""
    out: list[tuple[int, int]] = []
    for start, end in regions:
        a = bisect_right(line_starts, start)
        b = bisect_right(line_starts, max(start, end - 1))
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def describe_lines(ranges: list[tuple[int, int]]) -> str:
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in ranges]
    return ("line " if len(parts) == 1 and "-" not in parts[0] else "lines ") + ", ".join(parts)


@lru_cache(maxsize=None)
def _version(dist: str) -> str:
    try:
        return f"{dist} {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return dist


@lru_cache(maxsize=None)
def _go_judge() -> ts.Parser | None:
    try:
        import tree_sitter_golang
    except ImportError:  # a dependency, but a broken install must not stop linting (CN001 as before)
        return None
    return ts.Parser(ts.Language(tree_sitter_golang.language()))


# ---- Go: what tree-sitter-go 0.25 does not know, located in tree-sitter-golang's tree:
# * `new(expr)` (Go 1.26), and functions of one's own named `new` or `make`
#   (`new("nfd-worker", spec)`, `make(n - 1)`): the name ends in `_` instead, an
#   ordinary call, when the (first) argument is not a type;
# * type parameters of methods (Go 1.27, `func (r *Rand) N[Int intType](n Int) Int`):
#   blanked, so the method reads as a plain one.
_GO_NEW_OR_METHOD = """
(call_expression (identifier) @builtin (arguments) @args (#any-of? @builtin "new" "make"))
(method_declaration (type_parameters) @type_params)
"""
# argument nodes of tree-sitter-golang that are values, never types
_GO_VALUES = frozenset({
    "int_literal", "float_literal", "imaginary_literal", "rune_literal", "interpreted_string_literal",
    "raw_string_literal", "composite_literal", "function_literal", "call_expression", "binary_expression",
    "type_assertion_expression", "slice_expression", "true", "false", "nil", "iota"})


def go_rewrite(data: bytes, tree: ts.Tree, judged: ts.Tree) -> ts.Tree | None:
    """The tree-sitter-go tree of a copy of ``data`` with the constructs it does
    not know rewritten (None: nothing to rewrite)."""
    out = bytearray(data)
    edits: list[int] = []
    for _, caps in ts.QueryCursor(_go_query()).matches(judged.root_node):
        if "type_params" in caps:
            node = caps["type_params"][0]
            out[node.start_byte:node.end_byte] = b" " * (node.end_byte - node.start_byte)
            edits += (node.start_byte, node.end_byte)
        elif _go_value_argument(caps["builtin"][0], caps["args"][0]):
            end = caps["builtin"][0].end_byte
            out[end - 1] = 0x5F
            edits += (end - 1, end)
    return _reparse("go", data, bytes(out), edits, tree) if edits else None


def _go_value_argument(builtin: ts.Node, args: ts.Node) -> bool:
    values = [c for c in args.named_children if c.type != "comment"]
    if not values or (len(values) != 1 and builtin.text == b"new"):
        return bool(values)
    v = values[0]
    if v.type == "unary_expression":  # `*T` may be a type, `-1` and `&x` are not
        return v.child(0) is not None and v.child(0).type != "*"
    return v.type in _GO_VALUES


@lru_cache(maxsize=None)
def _go_query() -> ts.Query:
    return ts.Query(_go_judge().language, _GO_NEW_OR_METHOD)


# ---- TypeScript: valid code that tree-sitter-typescript 0.23 (the newest on
# PyPI) cannot parse, found by linting the sources of npm packages (effect,
# rxjs) and the ledger's repositories:
# * variance annotations on type parameters (`interface Cache<in out K, out V>`, TS 4.7);
# * a type member on its own line starting with `<` after a member without a
#   `;` (overloaded call signatures, read as `A < B > (...)`), also when the
#   `<` stands alone on its line or comments come between;
# * a function type whose parameter has no annotation and is named like a
#   predefined type (`(resolve: (boolean) => void) => ...`: the parameter is
#   called `boolean`, of type any);
# * an escaped backtick in a template literal type (`Missing \`Self\` generic`);
# * type arguments of a tagged template on a member (styled-components:
#   styled.div<{ $wide?: boolean }>`...`): blanked;
# * (TSX, JSX) a bare `&` in JSX text or an attribute string (`Ray & Batch`,
#   `href="...?a=1&b=2"`): a space instead;
# * (also JavaScript) an escape that is not one in a tagged template
#   (String.raw`\uc1`, allowed since ES2018; swagger-ui's bundle): its `\` a space.
# Each also rewrites the JavaScript grammar's copy: the constructs are invalid
# JavaScript, so a rewrite there can only turn an error into another.
# (the patterns start at the keyword and what comes before is checked in Python:
# a leading `[<,]` or a lookbehind made them 2-4x slower on effect's sources)
_TS_VARIANCE = re.compile(rb"(in\s+out|in|out)(?=\s+[A-Za-z_$])")
_TS_NEWLINE_GENERIC = re.compile(rb"\n([ \t])(?=[ \t]*<\s*[A-Za-z_$])")
_TS_MEMBER_END = re.compile(rb"[A-Za-z0-9_$)\]>}]")
# not `void` nor `null`: reserved words, never a parameter's name
_TS_TYPE_NAMED_PARAM = re.compile(
    rb"(boolean|string|number|bigint|symbol|object|any|unknown|never|undefined)"
    rb"(?=[ \t]*[,)][^;{}]*?=>)")
_TS_ESCAPED_BACKTICK = re.compile(rb"\\`")
_TS_TAGGED_TYPE_ARGS_END = re.compile(rb">`")
_JS_BAD_ESCAPE = re.compile(rb"\\(?:u(?![0-9a-fA-F]{4}|\{)|x(?![0-9a-fA-F]{2}))")
_TS_TYPE_ARGS_SCAN = 2000  # bytes to look back for the `<` of a tagged template's type arguments


def _last_code_byte(data: bytes, end: int) -> int:
    """The index of the last byte before ``end`` that is not whitespace, in a
    /* */ comment or on a line that is only a // comment (-1: none)."""
    i = end - 1
    while i >= 0:
        c = data[i]
        if c in b" \t\r\n":
            i -= 1
        elif c == 0x2F and i > 0 and data[i - 1] == 0x2A:  # the end of a /* comment */
            i = data.rfind(b"/*", 0, i - 1) - 1
            if i < -1:
                return -1
        else:
            line_start = data.rfind(b"\n", 0, i) + 1
            if data[line_start:i + 1].lstrip().startswith(b"//"):
                i = line_start - 1
                continue
            return i
    return -1


def _word_start(data: bytes, i: int) -> bool:
    return i == 0 or not (data[i - 1:i].isalnum() or data[i - 1] in b"_$.")


def _after(data: bytes, i: int, chars: bytes, newline: bool = True) -> bool:
    """Whether the byte before ``i``, past blanks (and line breaks), is one of ``chars``."""
    blanks = b" \t\r\n" if newline else b" \t"
    j = i - 1
    while j >= 0 and data[j] in blanks:
        j -= 1
    return j >= 0 and data[j] in chars


def _ends_member(data: bytes, end: int) -> bool:
    """Whether the code before ``end`` ends a type member (not an arrow's `=>`,
    after which a generic arrow function follows: `(a) =>\n  <B>(b: B) => ...`)."""
    i = _last_code_byte(data, end)
    return i >= 0 and bool(_TS_MEMBER_END.fullmatch(data[i:i + 1])) and data[i - 1:i + 1] != b"=>"


def typescript_rewrite(language: str, data: bytes, tree: ts.Tree | None = None) -> ts.Tree | None:
    """The tree of a copy of ``data`` with the known gaps of the grammar
    rewritten (byte for byte the same length, re-parsed incrementally from
    ``tree``); None: nothing to rewrite. Without an error, the code is valid."""
    out = bytearray(data)
    edits: list[int] = []
    for m in _TS_VARIANCE.finditer(data):  # `in`/`out` become spaces
        if _word_start(data, m.start()) and _after(data, m.start(), b"<,"):
            out[m.start():m.end(1)] = b" " * (m.end(1) - m.start())
            edits += (m.start(), m.end(1))
    for m in _TS_NEWLINE_GENERIC.finditer(data):  # `;` ends the member above
        if _ends_member(data, m.start(1)):
            out[m.start(1)] = 0x3B
            edits += (m.start(1), m.start(1) + 1)
    for m in _TS_ESCAPED_BACKTICK.finditer(data):  # blanked, unless in a template string the tree read
        node = tree.root_node.descendant_for_byte_range(m.start(), m.end()) if tree is not None else None
        if node is None or node.parent is None or node.parent.type != "template_string":
            out[m.start():m.end()] = b"  "
            edits += (m.start(), m.end())
    for m in _TS_TAGGED_TYPE_ARGS_END.finditer(data):
        start = _type_args_start(data, m.start())
        if start > 0:
            out[start:m.start() + 1] = b" " * (m.start() + 1 - start)
            edits += (start, m.start() + 1)
    for m in _JS_BAD_ESCAPE.finditer(data):
        node = tree.root_node.descendant_for_byte_range(m.start(), m.end()) if tree is not None else None
        if node is None or node.is_error or (node.parent is not None and node.parent.is_error):
            out[m.start()] = 0x20
            edits += (m.start(), m.start() + 1)
    if language in ("tsx", "javascript") and tree is not None:
        for start, end in error_regions(tree):
            node = tree.root_node.descendant_for_byte_range(start, end)
            if data[start:start + 1] == b"&" and node.parent is not None \
                    and node.parent.type in ("jsx_element", "string"):
                out[start] = 0x20
                edits += (start, start + 1)
    for m in _TS_TYPE_NAMED_PARAM.finditer(data):  # `boolean` becomes the identifier `_oolean`
        if not (_word_start(data, m.start()) and _after(data, m.start(), b"(,", newline=False)):
            continue
        out[m.start(1)] = 0x5F
        edits += (m.start(1), m.start(1) + 1)
    return _reparse(language, data, bytes(out), edits, tree) if edits else None


def _type_args_start(data: bytes, close: int) -> int:
    """The index of the `<` matching the `>` at ``close`` when it opens type
    arguments after a name (`styled.div<...>`), else -1; the `>` of `=>` is no bracket."""
    if data[close - 1:close] == b"=":
        return -1
    depth = 0
    for i in range(close, max(close - _TS_TYPE_ARGS_SCAN, 0), -1):
        c = data[i]
        if c == 0x3E and data[i - 1] != 0x3D:  # `>`, not `=>`
            depth += 1
        elif c == 0x3C:  # `<`
            depth -= 1
            if depth == 0:
                return i if _TS_MEMBER_END.fullmatch(data[i - 1:i]) else -1
        elif c == 0x3B and depth == 1 and data[i + 1:i + 2] in (b"\n", b""):  # a statement ended: no match
            return -1
    return -1


def _reparse(language: str, data: bytes, fixed: bytes, edits: list[int], tree: ts.Tree | None) -> ts.Tree | None:
    """The tree of ``fixed`` (``data`` with the same-length ``edits``, pairs of
    start and end bytes), re-parsed incrementally from ``tree``."""
    from .treesitter import parser

    old = None
    if tree is not None:
        old = tree.copy()  # the caller may still read the original tree
        lines = [0] + [m.end() for m in re.finditer(b"\n", data)]
        for start, end in zip(edits[::2], edits[1::2]):
            a, b = _point(lines, start), _point(lines, end)
            old.edit(start_byte=start, old_end_byte=end, new_end_byte=end,
                     start_point=a, old_end_point=b, new_end_point=b)
    return parser(language).parse(fixed, old) if old is not None else parser(language).parse(fixed)


def _point(line_starts: list[int], offset: int) -> tuple[int, int]:
    row = bisect_right(line_starts, offset) - 1
    return row, offset - line_starts[row]
