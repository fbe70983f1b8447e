"""Re-parse only the top-level statements an edit touched (language server).

libcst has no incremental parser and parses about 10,000 lines a second, so
an editor's 2,000-line file would cost 0.2 s per keystroke. Top-level
statements start at column 0 and cover whole lines, so a document is kept as
its statements with their line ranges; after an edit the lines that changed
(the common prefix and suffix of the old and new lines are kept) are widened
to whole statements, plus one statement on each side (an indented line added
after a function joins its body; a decorator or comment joins the statement
below), and only that chunk is parsed. Its statements replace the old ones;
the nodes of all other statements are reused, so caches keyed by statement
(positions, ``StatementSpans``) stay valid.

A chunk that holds the first (last) statement also holds the module header
(footer). When the chunk would be parsed differently from the whole file
(another default indent or newline) or its lines do not add up, the whole
text is parsed again. A test checks the result against a full parse
on random edits of real files.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Optional

import libcst as cst

from .python_spans import StatementSpans

# Python's line ends (str.splitlines would also split at form feeds and more)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_EOL = re.compile(r"\r\n|\r|\n")


class IncrementalModule:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.module: Optional[cst.Module] = None
        self.starts: list[int] = []  # first line (0-based) of each body statement, plus the footer's
        self.reparsed_lines = 0  # how many lines the last parse read (for tests and profiling)
        self.spans = StatementSpans()  # positions per statement, kept for the statements reused

    def parse(self, text: str) -> cst.Module:
        """The module for ``text``; raises ParserSyntaxError as libcst does."""
        lines = _LINE.findall(text)
        module = None
        if self.module is not None:
            try:
                module = self._update(lines)
            except Exception:  # a syntax error in the chunk, or anything unexpected:
                module = None  # the full parse is always right (and places errors right)
        if module is None:
            module = cst.parse_module(text)
            self._full(module, lines)
        self.lines = lines
        self.module = module
        self.spans.keep_only(module.body)
        return module

    def byte_starts(self) -> list[int]:
        """Byte offset (UTF-8) of each body statement, from this parse's own lines
        (split at \r\n, \r and \n as Python does)."""
        offsets = [0]
        for line in self.lines:
            offsets.append(offsets[-1] + (len(line) if line.isascii() else len(line.encode("utf-8"))))
        return [offsets[min(s, len(self.lines))] for s in self.starts[:-1]]

    # ---- internals ----
    def _full(self, module: cst.Module, lines: list[str]) -> None:
        line = _count_lines(module, module.header)
        starts = []
        for stmt in module.body:
            starts.append(line)
            line += _count_lines(module, (stmt,))
        starts.append(line)
        self.starts = starts
        self.reparsed_lines = len(lines)

    def _update(self, lines: list[str]) -> Optional[cst.Module]:
        old, module, starts = self.lines, self.module, self.starts
        body = module.body
        if not body or (old and not old[-1].endswith(("\n", "\r"))) or (lines and not lines[-1].endswith(
                ("\n", "\r"))):
            return None  # no statements, or no final newline: keep it simple
        n = min(len(old), len(lines))
        prefix = 0
        while prefix < n and old[prefix] == lines[prefix]:
            prefix += 1
        if prefix == len(old) == len(lines):
            return module  # unchanged
        suffix = 0
        while suffix < n - prefix and old[-1 - suffix] == lines[-1 - suffix]:
            suffix += 1
        first_changed, end_changed = prefix, len(old) - suffix  # old lines [first, end) changed
        # statements a..b: the changed lines' statements and one more on each side
        a = max(bisect_right(starts, first_changed) - 2, 0)
        b = min(bisect_right(starts, max(end_changed - 1, first_changed)), len(body) - 1)
        # the first statement's chunk starts with the header, the last one's ends with the footer
        at_top, at_end = a == 0, b == len(body) - 1
        lo, hi = (0 if at_top else starts[a]), (len(old) if at_end else starts[b + 1])
        delta = len(lines) - len(old)
        part = cst.parse_module("".join(lines[lo:hi + delta]))
        if part.default_indent != module.default_indent or part.default_newline != module.default_newline:
            return None  # the chunk alone would read its indented blocks differently
        new_stmts = list(part.body)
        header, footer = module.header, module.footer
        if at_top:
            header = part.header
        elif part.header:  # comments above the chunk's first statement are its leading lines
            if not new_stmts:
                return None
            new_stmts[0] = new_stmts[0].with_changes(leading_lines=(*part.header, *new_stmts[0].leading_lines))
        after = list(body[b + 1:])
        if at_end:
            footer = part.footer
        elif part.footer:  # ...and comments below its last one the next statement's
            after[0] = after[0].with_changes(leading_lines=(*part.footer, *after[0].leading_lines))
        # line starts: kept before the chunk, counted in it, shifted after it
        new_starts = starts[:a]
        line = lo + (_count_lines(part, part.header) if at_top else 0)
        for stmt in new_stmts:
            new_starts.append(line)
            line += _count_lines(part, (stmt,))
        if at_end:
            rest = [line]  # the footer
            if line + _count_lines(part, part.footer) != len(lines):
                return None
        elif after[0] is not body[b + 1]:
            new_starts.append(line)
            line += _count_lines(module, (after[0],))
            rest = [s + delta for s in starts[b + 2:]]
        else:
            rest = [s + delta for s in starts[b + 1:]]
        if rest[0] != line:
            return None  # lines do not add up: do not trust the splice
        self.starts = new_starts + rest
        self.reparsed_lines = hi + delta - lo
        return module.with_changes(header=header, body=(*body[:a], *new_stmts, *after),
                                   footer=footer, has_trailing_newline=part.has_trailing_newline if at_end
                                   else module.has_trailing_newline)


def _count_lines(module: cst.Module, nodes) -> int:
    return sum(len(_EOL.findall(module.code_for_node(n))) for n in nodes)
