"""``--format github``: GitHub Actions workflow commands, one annotation per finding.

    ::error file=src/main.go,line=3,col=5,endLine=3,endColumn=12,title=SEC001 tls-verification-disabled::message

Paths are relative to the repository root (as in the SARIF log), so the
annotations land on the right file even when cnlint runs in a subdirectory.
Columns count code points. ``col``/``endColumn`` are given only for a span on
one line: GitHub's annotations accept columns only when start and end line are
the same. Errors, warnings and notes map to ``::error``, ``::warning`` and
``::notice``. Notices of the run (skipped files, crashed rules) become
annotations too, so they are seen on the workflow summary.

Escaping follows the runner's rules (``@actions/core``): in the message ``%``,
CR and LF are percent-encoded; in property values ``:`` and ``,`` are too, so
nothing a finding says can end the command early or start another one. Other
control characters (ESC, bidi controls, ...) are shown as visible escapes
(``escape.py``), and a byte of a file name that is not UTF-8 as ``\\xff``.
"""

from __future__ import annotations

import os

from ..model import NoticeKind, Severity
from ..runner import RunResult
from .escape import escape_controls
from .sarif import find_repo_root, repo_relative

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}
_FILE_NOTICES = (NoticeKind.SKIPPED, NoticeKind.NOT_ANALYSED)  # their path names a file


def escape_data(text: str) -> str:
    text = escape_controls(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props) -> str:
    parts = [f"{k}={escape_property(str(v))}" for k, v in props.items() if v is not None and v != ""]
    return f"::{name}" + (" " + ",".join(parts) if parts else "") + "::" + escape_data(message)


def _path(path: str, root: str) -> str:
    rel = repo_relative(path, root)
    return rel if rel is not None else os.path.abspath(path).replace(os.sep, "/")


def render(result: RunResult, *, repo_root: str | None = None) -> str:
    root = os.path.abspath(repo_root) if repo_root else find_repo_root(result.root)
    lines = []
    for f in result.findings:
        s = f.span
        one_line = s.start_line == s.end_line
        props = {
            "file": _path(f.path, root),
            "line": s.start_line,
            "col": s.start_column if one_line else None,
            "endLine": s.end_line,
            "endColumn": s.end_column if one_line else None,
            "title": f"{f.rule_id} {f.rule_name}".strip(),
        }
        lines.append(command(_COMMAND[f.severity], f.message, **props))
    for n in result.notices:
        where = _path(n.path, root) if n.path and (n.kind in _FILE_NOTICES or os.path.isfile(n.path)) else None
        title = {NoticeKind.SKIPPED: "cnlint: file skipped", NoticeKind.CONFIG: "cnlint: configuration error",
                 NoticeKind.INTERNAL_ERROR: "cnlint: internal error", NoticeKind.USAGE: "cnlint: no such path",
                 NoticeKind.NOT_ANALYSED: "cnlint: lines not analysed"}[n.kind]
        text = n.message if where else (f"{n.path}: {n.message}" if n.path else n.message)
        level = "error" if n.is_error else "notice" if n.kind == NoticeKind.NOT_ANALYSED else "warning"
        lines.append(command(level, text, file=where, title=title))
    # dict.fromkeys: a symlink and its target give the same annotation once
    return "".join(line + "\n" for line in dict.fromkeys(lines))
