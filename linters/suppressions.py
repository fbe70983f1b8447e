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

    def covers(self, rule_id: str) -> bool:
        return not self.ids or rule_id in self.ids


def _python_comment_lines(text: str) -> set[int] | None:
    try:
        return {
            tok.start[0]
            for tok in tokenize.generate_tokens(io.StringIO(text).readline)
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
                             start_byte, end_byte))
    return out


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
