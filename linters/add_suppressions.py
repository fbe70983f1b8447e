"""``cnlint check --add-suppressions[=REASON]``: write ``cnlint: ignore[ID] -- reason``
comments for the current findings, as ruff's ``--add-noqa`` does.

Each finding's first line gets a comment at its end (``//`` for Go, TypeScript
and JavaScript, ``#`` for Python), or its ids are added to the
``cnlint: ignore[...]`` already there. Every change is checked by linting the
new text: the findings must be suppressed, nothing else may change (no syntax
error, no unused suppression). A line where the comment would land in a string,
a template literal or JSX text, or after a ``\\`` continuation, is tried with
``cnlint: ignore-next-line[...]`` on a line of its own above it, and is left
alone (and counted as not suppressed) when neither works. A second run adds
nothing: the findings are suppressed by then.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .engine import SYNTAX_ERROR, UNUSED_SUPPRESSION, Engine
from .model import Finding
from .source import SourceFile
from .suppressions import _DIRECTIVE

SKIP = (SYNTAX_ERROR, UNUSED_SUPPRESSION)


@dataclass
class Added:
    path: str
    original: bytes
    new: bytes
    added: int = 0  # findings now suppressed
    failed: list[Finding] = field(default_factory=list)


def _leader(language: str) -> str:
    return "#" if language == "python" else "//"


def _directive(ids: list[str], reason: str, kind: str = "ignore") -> str:
    return f"cnlint: {kind}[{', '.join(ids)}]" + (f" -- {reason}" if reason else "")


def _edit_line(data: bytes, source: SourceFile, line0: int, ids: list[str], reason: str, language: str,
               above: bool) -> bytes:
    start = source.line_starts[line0]
    line = source.line_text(line0)
    end = start + len(line.encode("utf-8"))
    if above:
        indent = line[: len(line) - len(line.lstrip())]
        eol = b"\r\n" if data[end:end + 2] == b"\r\n" else b"\n"
        text = f"{indent}{_leader(language)} {_directive(ids, reason, 'ignore-next-line')}".encode() + eol
        return data[:start] + text + data[start:]
    m = next((m for m in _DIRECTIVE.finditer(line) if m.group("kind") == "ignore" and m.group("ids")), None)
    if m:  # extend the ids of the directive on the line
        a, b = m.span("ids")
        have = [i.strip() for i in m.group("ids").split(",") if i.strip()]
        merged = ", ".join(have + [i for i in ids if i not in have])
        pre = len(line[:a].encode("utf-8"))
        post = len(line[:b].encode("utf-8"))
        return data[: start + pre] + merged.encode() + data[start + post:]
    code = line.rstrip()
    cut = start + len(code.encode("utf-8"))
    sep = "  " if language == "python" else " "
    return data[:cut] + f"{sep}{_leader(language)} {_directive(ids, reason)}".encode() + data[end:]


def _counts(engine: Engine, path: str, language: str, data: bytes) -> tuple[Counter, int]:
    res = engine.check(path, language, data)
    syntax = engine.check(path, language, data, only=(SYNTAX_ERROR,))
    kept = Counter(f.rule_id for f in res.findings)
    return kept, sum(1 for f in syntax.findings + syntax.suppressed if f.rule_id == SYNTAX_ERROR)


def add_to_file(engine: Engine, path: str, language: str, original: bytes, findings: list[Finding],
                reason: str) -> Added:
    out = Added(path, original, original)
    targets = [f for f in findings if f.rule_id not in SKIP]
    if not targets:
        return out
    by_line: dict[int, list[Finding]] = {}
    for f in targets:
        by_line.setdefault(f.span.start_line - 1, []).append(f)
    base_kept, base_syntax = _counts(engine, path, language, original)

    def works(data: bytes, done: list[Finding]) -> bool:
        kept, syntax = _counts(engine, path, language, data)
        return syntax <= base_syntax and kept == base_kept - Counter(f.rule_id for f in done)

    def build(data: bytes, lines: list[int], above: bool) -> bytes:
        source = SourceFile(path, data)
        for line0 in sorted(lines, reverse=True):  # bottom up: earlier lines keep their offsets
            ids = sorted({f.rule_id for f in by_line[line0]})
            data = _edit_line(data, source, line0, ids, reason, language, above)
        return data

    lines = sorted(by_line)
    every = build(original, lines, False)
    if works(every, targets):
        out.new, out.added = every, len(targets)
        return out
    # one line at a time, bottom up, so the lines above keep their numbers
    data = original
    done: list[Finding] = []
    for line0 in reversed(lines):
        for above in (False, True):
            trial = build(data, [line0], above)
            if works(trial, done + by_line[line0]):
                data = trial
                done += by_line[line0]
                break
        else:
            out.failed += by_line[line0]
    out.new, out.added = data, len(done)
    return out


_BAD_REASON = re.compile(r"[\r\n]|\*/")


def reason_problem(reason: str) -> str | None:
    if _BAD_REASON.search(reason):
        return "the reason must be one line of text without `*/`"
    return None
