"""Human output: ``path:line:col: ID message``, the line, a caret under the span."""

from __future__ import annotations

import unicodedata
from collections import Counter

import click

from ..model import Severity
from ..runner import RunResult

_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def caret_line(line: str, start_col: int, end_col: int | None) -> str:
    """Spaces (tabs kept) up to the 1-based code-point column, then carets."""
    prefix = line[: start_col - 1]
    pad = "".join("\t" if c == "\t" else " " * _width(c) for c in prefix)
    stop = end_col - 1 if end_col is not None else len(line)
    body = line[start_col - 1: max(stop, start_col)]
    n = sum(_width(c) if c != "\t" else 4 for c in body) or 1
    return pad + "^" * n


def render(result: RunResult, *, show_source: bool = True, statistics: bool = False,
           quiet: bool = False) -> str:
    out: list[str] = []
    for f in result.findings:
        color = _COLORS[f.severity]
        head = (click.style(f"{f.path}:{f.span.start_line}:{f.span.start_column}:", bold=True)
                + " " + click.style(f.rule_id, fg=color, bold=True) + " " + f.message)
        if f.fix is not None:
            head += click.style(" [*]" if f.fix.applicability.value == "safe" else
                                f" [{f.fix.applicability.value} fix]", fg="green")
        out.append(head)
        if show_source and f.line_text.strip():
            end = f.span.end_column if f.span.end_line == f.span.start_line else None
            out.append("    " + f.line_text.rstrip())
            out.append("    " + click.style(caret_line(f.line_text, f.span.start_column, end), fg=color))
        for rel in f.related:
            out.append(f"    note: {rel.path}:{rel.span.start_line}:{rel.span.start_column}: {rel.message}")
    if statistics and result.findings:
        out.append("")
        counts = Counter((f.rule_id, f.rule_name) for f in result.findings)
        for (rid, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            fixable = sum(1 for f in result.findings if f.rule_id == rid and f.fix is not None)
            out.append(f"{n:>6}  {rid:<8} {name}" + (f"  ({fixable} fixable)" if fixable else ""))
    if not quiet or result.findings:
        out.append(summary(result))
    return "\n".join(out) + "\n"


def summary(result: RunResult) -> str:
    n = len(result.findings)
    files = f"{result.files} file{'s' * (result.files != 1)}"
    if n == 0:
        line = click.style("All checks passed!", fg="green", bold=True) + f" ({files} checked)"
    else:
        fixable = sum(1 for f in result.findings if f.fix is not None and f.fix.applicability.value == "safe")
        line = click.style(f"Found {n} finding{'s' * (n != 1)}", bold=True) + f" in {files}"
        if fixable:
            line += f" ({fixable} fixable with `--fix`)"
        line += "."
    extra = []
    if result.suppressed:
        extra.append(f"{len(result.suppressed)} suppressed")
    if result.hidden:
        extra.append(f"{len(result.hidden)} hidden by baseline")
    if result.baseline_fixed:
        extra.append(f"{result.baseline_fixed} baseline finding{'s' * (result.baseline_fixed != 1)} fixed")
    skipped = sum(1 for x in result.notices if x.kind.value == "skipped")
    if skipped:
        extra.append(f"{skipped} skipped")
    errors = sum(1 for x in result.notices if x.is_error)
    if errors:
        extra.append(click.style(f"{errors} internal error{'s' * (errors != 1)}", fg="red"))
    return line + (" [" + ", ".join(extra) + "]" if extra else "")


def render_notices(result: RunResult) -> str:
    """Notices go to stderr so they never corrupt machine-readable stdout."""
    lines = []
    for n in result.notices:
        label = "error" if n.is_error else "warning"
        lines.append(click.style(f"cnlint: {label}:", fg="red" if n.is_error else "yellow", bold=True)
                     + f" {n.path}: {n.message}")
    return "\n".join(lines) + ("\n" if lines else "")
