"""One file's text and the position arithmetic every backend shares.

Tree-sitter speaks in byte offsets, libcst in byte spans and code-point
columns, SARIF and LSP in code points or UTF-16 units. Converting in one place
keeps the backends honest: they hand over byte offsets, this module does the rest.
"""

from __future__ import annotations

import bisect
import re

from .model import Span

_WS = re.compile(r"\s+")
BOM = b"\xef\xbb\xbf"
_LONG_LINE = 4096  # bytes of a line before a column: from here on, columns continue from the last one
MAX_QUOTED_LINE = 20_000  # bytes: longer lines are not quoted in findings (no source line, no line fingerprint)


class SourceFile:
    __slots__ = ("path", "data", "_text", "_line_starts", "_mark")

    def __init__(self, path: str, data: bytes):
        self.path = path
        self.data = data
        self._text: str | None = None
        self._line_starts: list[int] | None = None
        # (line, byte, column, UTF-16 column) of the last point computed on a long
        # line: the next point on it decodes from there, not from the line's start
        self._mark: tuple[int, int, int, int] = (-1, 0, 0, 0)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.data.decode("utf-8")
        return self._text

    @property
    def line_starts(self) -> list[int]:
        """Byte offset of each line; lines end at \\n, \\r\\n or a lone \\r (as
        Python, JavaScript, LSP and SARIF count them)."""
        if self._line_starts is None:
            data = self.data
            if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
                # a lone CR (rare): the same offsets in a copy where every line end is one \n
                data = data.replace(b"\r\n", b" \n").replace(b"\r", b"\n")
            starts = [0]
            find = data.find
            i = find(b"\n")
            while i != -1:
                starts.append(i + 1)
                i = find(b"\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    def line_of(self, byte: int) -> int:
        """0-based line index holding ``byte``."""
        return bisect.bisect_right(self.line_starts, byte) - 1

    def line_bytes(self, line0: int) -> bytes:
        starts = self.line_starts
        end = starts[line0 + 1] if line0 + 1 < len(starts) else len(self.data)
        return self.data[starts[line0]:end].rstrip(b"\r\n")

    def line_text(self, line0: int) -> str:
        return self.line_bytes(line0).decode("utf-8", "replace")

    def byte_of(self, line0: int, byte_col: int) -> int:
        return self.line_starts[line0] + byte_col

    def byte_of_codepoint(self, line0: int, col0: int) -> int:
        """Byte offset of a 0-based code-point column on a 0-based line."""
        prefix = self.line_bytes(line0).decode("utf-8", "replace")[:col0]
        return self.line_starts[line0] + len(prefix.encode("utf-8"))

    def span(self, start_byte: int, end_byte: int) -> Span:
        """The span of ``start_byte:end_byte``. Offsets outside the file (a rule's
        mistake) are clamped into it for the lines and columns, so no position is
        line 0 or column 0; the byte offsets are kept as given, for fix
        validation to see and reject."""
        size = len(self.data)
        start = min(max(start_byte, 0), size)
        end = max(start, min(end_byte, size))
        sl, sc, su = self._point(start)
        el, ec, eu = self._point(end)
        return Span(sl + 1, sc + 1, el + 1, ec + 1, start_byte, end_byte, su + 1, eu + 1)

    def _point(self, byte: int) -> tuple[int, int, int]:
        line0 = self.line_of(byte)
        start = self.line_starts[line0]
        if line0 == 0 and self.data.startswith(BOM):
            start = min(len(BOM), byte)  # a byte order mark is not a column (SARIF, LSP)
        col = col16 = 0
        if byte - start > _LONG_LINE:
            # Minified code: thousands of findings on one line would each decode
            # the line up to their column (quadratic); continue from the last one.
            mark_line, mark_byte, mark_col, mark_col16 = self._mark
            if mark_line == line0 and start <= mark_byte <= byte:
                start, col, col16 = mark_byte, mark_col, mark_col16
        prefix = self.data[start:byte].decode("utf-8", "replace")
        # UTF-16 counts astral characters twice.
        astral = sum(1 for ch in prefix if ord(ch) > 0xFFFF) if not prefix.isascii() else 0
        col, col16 = col + len(prefix), col16 + len(prefix) + astral
        if byte - self.line_starts[line0] > _LONG_LINE and (byte == len(self.data) or self.data[byte] & 0xC0 != 0x80):
            self._mark = (line0, byte, col, col16)  # a character boundary: safe to continue from
        return line0, col, col16

    def quotable_line(self, line0: int) -> str:
        """The line's text for a finding to quote, or "" when the line is too long
        to quote (minified code: a copy of a megabyte per finding)."""
        starts = self.line_starts
        end = starts[line0 + 1] if line0 + 1 < len(starts) else len(self.data)
        return self.line_text(line0) if end - starts[line0] <= MAX_QUOTED_LINE else ""

    def snippet(self, start_byte: int, end_byte: int, limit: int = 400) -> str:
        """The flagged code with whitespace runs collapsed (for fingerprints)."""
        raw = self.data[start_byte:min(end_byte, start_byte + limit)]
        return _WS.sub(" ", raw.decode("utf-8", "replace")).strip()
