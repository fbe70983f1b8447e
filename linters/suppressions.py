"""Inline suppressions.

    x := tls.Config{InsecureSkipVerify: true} // cnlint: ignore[SEC001] -- test server
    # cnlint: ignore-file[K8S003]

``ignore`` applies to findings that start on the comment's line,
``ignore-file`` to the whole file; without ``[...]`` they apply to every rule.
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
    r"cnlint:\s*(?P<kind>ignore-file|ignore)(?![\w-])(?:\[(?P<ids>[^\]]*)\])?"
    r"(?:\s*--\s*(?P<reason>.*?))?\s*(?=\*/|//|#|$)"
)


@dataclass
class Directive:
    kind: str  # "ignore" | "ignore-file"
    line: int  # 1-based
    ids: tuple[str, ...]  # empty = every rule
    reason: str
    start_byte: int
    end_byte: int
    used: set[str] = field(default_factory=set)
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
    if MARKER not in data:
        return []
    text = ctx.source.text
    py_lines = _python_comment_lines(text) if ctx.language == "python" else None
    out = []
    for m in re.finditer(r"cnlint:", text):
        start_byte = len(text[: m.start()].encode("utf-8"))
        line0 = ctx.source.line_of(start_byte)
        line = ctx.source.line_text(line0)
        col = len(data[ctx.source.line_starts[line0]:start_byte].decode("utf-8", "replace"))
        d = _DIRECTIVE.match(line, col)
        if not d or not _in_comment(ctx, start_byte, line, col, py_lines, line0 + 1):
            continue
        ids = tuple(i.strip() for i in (d.group("ids") or "").split(",") if i.strip())
        end_byte = ctx.source.line_starts[line0] + len(line[: d.end()].encode("utf-8"))
        out.append(Directive(d.group("kind"), line0 + 1, ids, (d.group("reason") or "").strip(),
                             start_byte, end_byte, line_text=line, col=col, end_col=d.end(),
                             ids_cols=d.span("ids") if d.group("ids") is not None else None,
                             line_start_byte=ctx.source.line_starts[line0]))
    return out


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


def apply(findings, directives: list[Directive]):
    """Mark suppressed findings; returns (kept, suppressed)."""
    if not directives:
        return findings, []
    by_line: dict[int, list[Directive]] = {}
    whole = []
    for d in directives:
        (whole if d.kind == "ignore-file" else by_line.setdefault(d.line, [])).append(d)
    kept, suppressed = [], []
    for f in findings:
        hit = next((d for d in by_line.get(f.span.start_line, []) + whole if d.covers(f.rule_id)), None)
        if hit is None:
            kept.append(f)
        else:
            hit.used.add(f.rule_id)
            suppressed.append((f, hit))
    return kept, suppressed
