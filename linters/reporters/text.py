"""Human output: ``path:line:col: severity[ID] message``, the line, a caret under the span.

Everything that comes from the linted code or its file names is escaped
(``escape.py``): no control character, no GitHub workflow command. A long
source line is shown as a window around the span.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import click

from ..model import Severity
from ..runner import RunResult
from .escape import char_escapes, display_path, escape, guard_line

_COLORS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.NOTE: "cyan"}
#: Code points of a source line shown around the span; a longer line is cut, with "…" at the cuts.
LINE_WINDOW = 200
#: Code points of a message shown; a rule that quotes a huge expression does not flood the terminal.
MESSAGE_LIMIT = 2000
_ELLIPSIS = "\u2026"
_NOT_TAB = re.compile(r"[^\t]")


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _window(length: int, start0: int, stop0: int) -> tuple[int, int]:
    """The ``LINE_WINDOW`` columns of a line of ``length`` to show for the span start0:stop0."""
    if length <= LINE_WINDOW:
        return 0, length
    context = max(LINE_WINDOW - (stop0 - start0), 0) // 2
    begin = max(0, min(start0 - context, length - LINE_WINDOW))
    return begin, begin + LINE_WINDOW


def source_lines(line: str, start_col: int, end_col: int | None) -> tuple[str, str]:
    """The source line as shown (escaped, cut to a window) and the caret line under
    the 1-based code-point span (to the end of the line when ``end_col`` is None)."""
    line = line.rstrip()
    start0 = min(max(start_col - 1, 0), len(line))
    stop0 = min(end_col - 1, len(line)) if end_col is not None else len(line)
    stop0 = max(stop0, start0 + 1)
    begin, end = _window(len(line), start0, stop0)
    shown = char_escapes(line[begin:end])
    lead = _ELLIPSIS if begin > 0 else ""
    text = lead + "".join(shown) + (_ELLIPSIS if end < len(line) else "")
    a, b = start0 - begin, min(stop0, end) - begin
    if isinstance(shown, str) and shown.isascii():  # the common case: one column per character
        pad = " " * len(lead) + _NOT_TAB.sub(" ", shown[:a])
        return text, pad + "^" * ((b - a) + 3 * shown.count("\t", a, b) or 1)
    pad = " " * len(lead) + "".join("\t" if p == "\t" else " " * _part_width(p) for p in shown[:a])
    return text, pad + "^" * (sum(4 if p == "\t" else _part_width(p) for p in shown[a:b]) or 1)


def _part_width(shown: str) -> int:
    """Columns of one character as shown: an escape is ASCII, one column per character."""
    return len(shown) if len(shown) > 1 else _width(shown)


def caret_line(line: str, start_col: int, end_col: int | None) -> str:
    """Spaces (tabs kept) up to the 1-based code-point column, then carets."""
    return source_lines(line, start_col, end_col)[1]


def _message(text: str) -> str:
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + f"{_ELLIPSIS} ({len(text) - MESSAGE_LIMIT} more characters)"
    return escape(text)


def render(result: RunResult, *, show_source: bool = True, statistics: bool = False,
           quiet: bool = False, include_baseline: bool = False, include_suppressed: bool = False) -> str:
    """``include_baseline``: the hidden findings too (by the baseline or --new-from-rev),
    in order among the new ones and marked ``[unchanged]``; ``include_suppressed``: the
    suppressed ones, marked ``[suppressed: reason]``. Neither is counted as found."""
    out: list[str] = []
    shown = result.findings
    if (include_baseline and result.hidden) or (include_suppressed and result.suppressed):
        shown = sorted(shown + (result.hidden if include_baseline else [])
                       + (result.suppressed if include_suppressed else []))
    for f in shown:
        color = _COLORS[f.severity]
        head = (click.style(f"{display_path(f.path)}:{f.span.start_line}:{f.span.start_column}:", bold=True)
                + " " + click.style(f"{f.severity.value}[{escape(f.rule_id)}]", fg=color, bold=True)
                + " " + _message(f.message))
        if f.fix is not None:
            head += click.style(" [*]" if f.fix.applicability.value == "safe" else
                                f" [{f.fix.applicability.value} fix]", fg="green")
        if f.baseline == "unchanged":
            head += click.style(" [unchanged]", dim=True)
        if f.suppressed_by is not None:
            head += click.style(f" [suppressed{': ' + _message(f.suppressed_by) if f.suppressed_by else ''}]",
                                dim=True)
        out.append(head)
        if show_source and f.line_text.strip():
            end = f.span.end_column if f.span.end_line == f.span.start_line else None
            line, carets = source_lines(f.line_text, f.span.start_column, end)
            out.append("    " + line)
            out.append("    " + click.style(carets, fg=color))
        for rel in f.related:
            out.append(f"    note: {display_path(rel.path)}:{rel.span.start_line}:{rel.span.start_column}: "
                       f"{_message(rel.message)}")
    if statistics and result.findings:
        out.append("")
        counts = Counter((f.rule_id, f.rule_name) for f in result.findings)
        for (rid, name), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            safe, unsafe = fix_counts(f for f in result.findings if f.rule_id == rid)
            out.append(f"{n:>6}  {escape(rid):<8} {escape(name)}" + _fixable_note(safe, unsafe, "  ({})"))
    if not quiet or result.findings:
        out.append(summary(result))
    return "\n".join(map(guard_line, out)) + "\n"


def fix_counts(findings) -> tuple[int, int]:
    """(safe, unsafe): findings ``--fix`` fixes, and those only ``--fix --unsafe-fixes`` fixes.
    The one definition of "fixable" for the summary and ``--statistics`` (suggestions are neither)."""
    safe = unsafe = 0
    for f in findings:
        if f.fix is not None:
            kind = f.fix.applicability.value
            safe += kind == "safe"
            unsafe += kind == "unsafe"
    return safe, unsafe


def _fixable_note(safe: int, unsafe: int, template: str, long: bool = False) -> str:
    parts = []
    if safe:
        parts.append(f"{safe} fixable" + (" with `--fix`" if long else ""))
    if unsafe:
        parts.append(f"{unsafe} with unsafe fixes" + (" (`--fix --unsafe-fixes`)" if long else ""))
    return template.format(", ".join(parts)) if parts else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


#: Messages of SKIPPED notices that mean a whole file was not linted (engine.py, discovery.py).
_FILE_SKIPS = ("cannot read", "larger than max-file-size", "binary file", "not valid UTF-8", "not a Go",
               "no such file", "symbolic link")


def _is_file_skip(notice) -> bool:
    return notice.kind.value == "skipped" and not notice.rule_id and (
        notice.message.startswith(_FILE_SKIPS) or notice.message.endswith("; skipped"))


_ERROR_NAMES = {"internal-error": ("internal error", "internal errors"),
                "config": ("configuration error", "configuration errors"),
                "usage": ("path not found", "paths not found")}  # the only usage notice (model.NoticeKind)


def error_counts(result: RunResult) -> str:
    """``1 internal error, 2 paths not found``: the notices that make exit 2, by kind ('' if none)."""
    counts = Counter(x.kind.value for x in result.notices if x.is_error)
    names = {k: _ERROR_NAMES.get(k, ("error", "errors")) for k in counts}
    return ", ".join(f"{counts[k]} {names[k][counts[k] != 1]}" for k in sorted(counts))


def summary(result: RunResult) -> str:
    """The last line: what was found, in how many files, and everything else the
    reader must know (each count names what it counts)."""
    n = len(result.findings)
    checked = f"{_plural(result.files, 'file')} checked"
    errors = error_counts(result)
    if n == 0 and errors:
        line = click.style(f"No findings, but {errors}", fg="red", bold=True) + f" ({checked})."
    elif n == 0 and result.files == 0:
        line = click.style("No files checked.", fg="yellow", bold=True)
    elif n == 0:
        line = click.style("All checks passed!", fg="green", bold=True) + f" ({checked})"
    else:
        with_findings = len({f.path for f in result.findings})
        line = (click.style(f"Found {_plural(n, 'finding')}", bold=True)
                + f" in {_plural(with_findings, 'file')} ({checked})")
        line += _fixable_note(*fix_counts(result.findings), "; {}", long=True) + "."
    extra = []
    if n and errors:
        extra.append(click.style(errors, fg="red"))
    if result.suppressed:
        extra.append(f"{len(result.suppressed)} suppressed")
    by_rev = result.hidden_unchanged_lines
    if len(result.hidden) - by_rev:
        extra.append(f"{len(result.hidden) - by_rev} hidden by baseline")
    if by_rev:
        extra.append(f"{by_rev} hidden on unchanged lines")
    if result.baseline_fixed:
        extra.append(f"{result.baseline_fixed} baseline finding{'s' * (result.baseline_fixed != 1)} fixed")
    if result.generated:
        extra.append(f"{_plural(result.generated, 'generated file')} not linted")
    skips = [x for x in result.notices if x.kind.value == "skipped"]
    files_skipped = len({x.path for x in skips if _is_file_skip(x)})
    if files_skipped:
        extra.append(f"{_plural(files_skipped, 'file')} skipped")
    stopped = sum(1 for x in skips if x.rule_id)
    if stopped:
        extra.append(f"{stopped} rule run{'s' * (stopped != 1)} stopped by rule-timeout")
    other = sum(1 for x in skips if not x.rule_id and not _is_file_skip(x))
    if other:
        extra.append(_plural(other, "warning"))
    partial = len({x.path for x in result.notices if x.kind.value == "not-analysed"})
    if partial:
        extra.append(f"{_plural(partial, 'file')} partly analysed")
    return line + (" [" + ", ".join(extra) + "]" if extra else "")


def render_notices(result: RunResult) -> str:
    """Notices go to stderr so they never corrupt machine-readable stdout."""
    lines = []
    for n in result.notices:
        label = "error" if n.is_error else "note" if n.kind.value == "not-analysed" else "warning"
        lines.append(click.style(f"cnlint: {label}:", fg="red" if n.is_error else "yellow", bold=True)
                     + f" {escape(n.path)}: {_message(n.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
