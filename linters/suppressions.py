"""Inline suppressions.

    x := tls.Config{InsecureSkipVerify: true} // cnlint: ignore[SEC001] -- test server
    # cnlint: ignore-file[K8S003]

``ignore`` applies to findings that start on the comment's line, or anywhere in
the statement that starts on that line (see ``statement_lines``);
``ignore-next-line`` does the same for the next line; ``ignore-file`` applies to
the whole file; without ``[...]`` they apply to every rule. A comment that
looks like a directive but is not one (``CNLINT: IGNORE``, ``disable[...]``,
``ignore [...]``, a reason without ``--``) is kept as a ``Directive`` with
``problem`` set: it suppresses nothing and CN002 reports it with the fix.
The reason after ``--`` is kept (SARIF shows it as the suppression's
justification). Only real comments count: the text inside a string does not.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from .context import FileContext

MARKER = b"cnlint:"
_DIRECTIVE = re.compile(
    r"cnlint:\s*(?P<kind>ignore-file|ignore-next-line|ignore)(?![\w-])(?:\[(?P<ids>[^\]]*)\])?"
    r"(?:\s*--\s*(?P<reason>.*?))?\s*(?=\*/|//|#|$)"
)
# what a directive that went wrong looks like: ``cnlint`` and ``:`` in any case,
# then a word people use for suppressions. Prose (``# cnlint: see the docs``) is
# left alone: the word after the colon must be one of these.
_LOOSE = re.compile(
    r"(?i)cnlint(?P<colon>\s*:\s*|[ \t-]+)(?P<kw>(?:ignore|disable|suppress|nolint|noqa|skip)"
    r"(?:[-_ ]?(?:next[-_ ]?line|file|line|next))?)(?![\w-])"
    r"(?P<sp>[ \t]*)(?:\[(?P<ids>[^\]\n]*)\])?(?P<rest>.*)$"
)
_BARE_IDS = re.compile(r"\s*(?P<ids>[A-Za-z][A-Za-z0-9]*\d(?:\s*,\s*[A-Za-z][A-Za-z0-9]*\d)*)(?![\w-])")
_KINDS = ("ignore", "ignore-file", "ignore-next-line")


def has_marker(data: bytes) -> bool:
    """Whether the file may hold a directive, well-formed or not."""
    return MARKER in data or (b"cnlint" in data.lower())


@dataclass
class Directive:
    kind: str  # "ignore" | "ignore-file"
    line: int  # 1-based
    ids: tuple[str, ...]  # empty = every rule
    reason: str
    start_byte: int
    end_byte: int
    used: set[str] = field(default_factory=set)
    # set for a comment that was meant as a directive but is not one: what is wrong,
    # and the text to put at ``col:end_col`` instead (a working directive)
    problem: str | None = None
    replacement: str = ""
    # where it sits on its line (code-point indices), for the fix that removes it
    line_text: str = ""
    col: int = 0
    end_col: int = 0
    ids_cols: tuple[int, int] | None = None
    line_start_byte: int = 0

    def covers(self, rule_id: str) -> bool:
        return not self.ids or rule_id in self.ids


def _python_comment_lines(text: str) -> set[int] | None:
    try:
        return {
            tok.start[0]
            # newline=None: a lone CR ends a line too, as in SourceFile.line_starts
            for tok in tokenize.generate_tokens(io.StringIO(text, newline=None).readline)
            if tok.type == tokenize.COMMENT
        }
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None


def parse_directives(ctx: FileContext) -> list[Directive]:
    data = ctx.source.data
    if not has_marker(data):
        return []
    text = ctx.source.text
    py_lines = _python_comment_lines(text) if ctx.language == "python" else None
    out = []
    for m in re.finditer(r"(?i)cnlint(?:\s*:|[ \t-]+(?=(?:ignore|disable)[\w -]*\[))", text):
        start_byte = len(text[: m.start()].encode("utf-8"))
        line0 = ctx.source.line_of(start_byte)
        line = ctx.source.line_text(line0)
        col = len(data[ctx.source.line_starts[line0]:start_byte].decode("utf-8", "replace"))
        d = _DIRECTIVE.match(line, col)
        if d and d.group("ids") and any(i.strip() != i.strip().upper() or len(i.split()) > 1
                                        for i in d.group("ids").split(",")):
            d = None  # `ignore[sec001]`, `ignore[SEC001 K8S003]`: rule ids are upper case, comma-separated
        if not d:
            bad = _malformed(line, col)
            if bad and _in_comment(ctx, start_byte, line, col, py_lines, line0 + 1):
                problem, replacement, end_col = bad
                end_byte = ctx.source.line_starts[line0] + len(line[:end_col].encode("utf-8"))
                out.append(Directive("malformed", line0 + 1, (), "", start_byte, end_byte, line_text=line,
                                     col=col, end_col=end_col, line_start_byte=ctx.source.line_starts[line0],
                                     problem=problem, replacement=replacement))
            continue
        if not _in_comment(ctx, start_byte, line, col, py_lines, line0 + 1):
            continue
        ids = tuple(i.strip() for i in (d.group("ids") or "").split(",") if i.strip())
        end_byte = ctx.source.line_starts[line0] + len(line[: d.end()].encode("utf-8"))
        out.append(Directive(d.group("kind"), line0 + 1, ids, (d.group("reason") or "").strip(),
                             start_byte, end_byte, line_text=line, col=col, end_col=d.end(),
                             ids_cols=d.span("ids") if d.group("ids") is not None else None,
                             line_start_byte=ctx.source.line_starts[line0]))
    return out


def _malformed(line: str, col: int) -> tuple[str, str | None, int] | None:
    """``(what is wrong, the working directive or None, end column)`` for a comment at
    ``line[col:]`` meant as a directive that ``_DIRECTIVE`` does not read; None for prose."""
    m = _LOOSE.match(line, col)
    if not m or (col and line[col - 1] in "\"'`"):
        return None  # prose, or the syntax quoted in prose: "use `cnlint: ignore[ID]`"
    problems = []
    kw = m.group("kw")
    word = re.sub(r"[-_ ]+", "-", kw.lower())
    kind = "ignore-file" if "file" in word else "ignore-next-line" if "next" in word else "ignore"
    if any(c.isupper() for c in line[col:m.end("kw")]):
        problems.append("directives are lower case")
    if ":" not in m.group("colon"):
        if m.group("ids") is None:
            return None  # `we let cnlint ignore this`: prose
        problems.append("`cnlint` is followed by `:`")
    elif re.match(r"cnlint\s+:", line[col:], re.IGNORECASE):
        problems.append("no space before `:`")
    rest = m.group("rest")
    base = word.split("-")[0]
    if base not in ("ignore", "disable") and m.group("ids") is None and rest.strip() \
            and not rest.strip().startswith(("*/", "--")):
        return None  # `# cnlint: skip tests with --exclude`: prose, not a directive
    if kw.lower() != kind:
        problems.append(f"`{kw}` is not a directive (`ignore`, `ignore-next-line` or `ignore-file`)")
    tail = len(rest)
    for closer in ("*/", "//", "#"):
        at = rest.find(closer)
        if at != -1 and (closer == "*/" or not rest[:at].strip()):
            tail = min(tail, at)
    body = rest[:tail]
    ids_text = m.group("ids")
    skipped = 0  # bare ids taken off the front of ``body``
    if ids_text is not None and m.group("sp"):
        problems.append("no space before `[`")
    if ids_text is None:
        bare = _BARE_IDS.match(body)
        if bare:
            ids_text = bare.group("ids")
            problems.append("the rule ids go in brackets: `[ID, ...]`")
            skipped = bare.end()
            body = body[skipped:]
    ids = [i for i in re.split(r"[\s,]+", ids_text or "") if i]
    if ids and any(i != i.upper() for i in ids):
        problems.append("rule ids are upper case")
        ids = [i.upper() for i in ids]
    if ids_text and any(len(part.split()) > 1 for part in ids_text.split(",")):
        problems.append("rule ids are separated by commas")
    reason = body.strip()
    if reason.startswith("--"):
        reason = reason[2:].strip()
    elif reason:
        if reason[0] in ":-\u2013\u2014,;":
            problems.append(f"the reason follows ` -- `, not `{reason[0]}`")
            reason = reason.lstrip(":-\u2013\u2014,; ").strip()
        else:
            problems.append("the reason follows ` -- `")
    end_col = len(line[: m.start("rest") + skipped + len(body.rstrip())].rstrip())
    if not problems:
        return None
    fixed = f"cnlint: {kind}" + (f"[{', '.join(ids)}]" if ids else "") + (f" -- {reason}" if reason else "")
    check = _DIRECTIVE.match(fixed + line[end_col:])
    if not check or check.group("kind") != kind:
        fixed = None
    return "; ".join(problems), fixed, end_col


def removal(d: Directive, keep_ids: list[str], source) -> tuple[int, int, str]:
    """A byte-range edit ``(start, end, text)`` that drops the unused part of ``d``:
    the unused ids from its list, or the whole comment when nothing is left."""
    line = d.line_text

    def byte(col: int) -> int:
        return d.line_start_byte + len(line[:col].encode("utf-8"))

    if keep_ids and d.ids_cols:
        a, b = d.ids_cols
        return byte(a), byte(b), ", ".join(keep_ids)
    stripped = line[: d.col].rstrip()
    leader = next((x for x in ("//", "/*", "#") if stripped.endswith(x)), None)
    end = d.end_col
    if leader == "/*":
        close = line.find("*/", end)
        end = close + 2 if close != -1 else end
    if leader is None:  # the directive sits inside other comment text: drop just it
        return byte(d.col), byte(end), ""
    start = len(stripped) - len(leader)
    rest = line[end:]
    if rest.strip():  # another comment follows on the line: keep it
        return byte(start), byte(end + len(rest) - len(rest.lstrip())), ""
    if not line[:start].strip():  # a comment-only line: delete the line
        next_line = d.line_start_byte + len(line.encode("utf-8"))
        data = source.data
        if data[next_line:next_line + 2] == b"\r\n":
            next_line += 2
        elif data[next_line:next_line + 1] == b"\n":
            next_line += 1
        return d.line_start_byte, next_line, ""
    code_end = len(line[:start].rstrip())
    return byte(code_end), byte(len(line)), ""


def _in_comment(ctx, byte, line, col, py_lines, line_no) -> bool:
    if ctx.language == "python":
        if py_lines is not None:
            return line_no in py_lines and "#" in line[:col]
        return "#" in line[:col]
    tree = ctx.tree
    if tree is not None and hasattr(tree, "root_node"):
        from .backends.treesitter import comment_at

        return comment_at(tree, byte)
    return "//" in line[:col] or "/*" in line[:col]


# tree-sitter node types that are statements for ``statement_start``: Go's and
# TypeScript's ``*_statement``, ``*_declaration`` (``short_var_declaration``,
# ``lexical_declaration``, ``field_declaration``...), ``*_definition`` (class
# members) and Go's ``var_spec``/``const_spec``/``type_spec`` in a ``var (...)`` group
_TS_STATEMENT = re.compile(r"(?:_statement|_declaration|_definition|_spec|^catch_clause)$")


def _statement_starts(ctx):
    """A function from a finding to the line (1-based) its innermost statement starts on."""
    if ctx is None:
        return lambda f: f.span.start_line
    if ctx.language == "python":
        import ast

        try:
            tree = ast.parse(ctx.source.text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return lambda f: f.span.start_line
        spans = [(n.lineno, n.end_lineno or n.lineno) for n in ast.walk(tree)
                 if isinstance(n, (ast.stmt, ast.excepthandler))]

        def py_start(f) -> int:
            line = f.span.start_line
            return max((a for a, b in spans if a <= line <= b), default=line)

        return py_start
    tree = getattr(ctx, "tree", None)
    if tree is None or not hasattr(tree, "root_node"):
        return lambda f: f.span.start_line

    def ts_start(f) -> int:
        node = tree.root_node.descendant_for_byte_range(f.span.start_byte, f.span.start_byte)
        while node is not None and not _TS_STATEMENT.search(node.type):
            node = node.parent
        return node.start_point[0] + 1 if node is not None else f.span.start_line

    return ts_start


def apply(findings, directives: list[Directive], ctx: FileContext | None = None):
    """Mark suppressed findings; returns (kept, suppressed).

    A line directive (``ignore`` on line L, ``ignore-next-line`` on line L-1)
    covers a finding that starts on line L, or inside a statement that starts on
    line L and whose innermost statement is that one: a directive on ``cfg :=
    &tls.Config{`` covers the struct's fields below, one on ``if cond {`` covers
    a multi-line condition but not the statements of the body."""
    directives = [d for d in directives if d.problem is None]
    if not directives:
        return findings, []
    by_line: dict[int, list[Directive]] = {}
    whole = []
    for d in directives:
        if d.kind == "ignore-file":
            whole.append(d)
        else:
            by_line.setdefault(d.line + (d.kind == "ignore-next-line"), []).append(d)
    first = min(by_line, default=0)
    start_of = None
    kept, suppressed = [], []
    for f in findings:
        line = f.span.start_line
        here = by_line.get(line, [])
        if by_line and line > first:
            if start_of is None:
                start_of = _statement_starts(ctx)
            stmt = start_of(f)
            if stmt != line:
                here = here + by_line.get(stmt, [])
        hit = next((d for d in here + whole if d.covers(f.rule_id)), None)
        if hit is None:
            kept.append(f)
        else:
            hit.used.add(f.rule_id)
            suppressed.append((f, hit))
    return kept, suppressed
