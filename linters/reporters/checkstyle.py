"""``--format checkstyle``: Checkstyle's XML report, read by Jenkins warnings-ng,
reviewdog (``-f=checkstyle``), SonarQube and most code-review bots.

    <?xml version="1.0" encoding="UTF-8"?>
    <checkstyle version="4.3">
      <file name="src/main.go">
        <error line="3" column="5" severity="error" message="..." source="cnlint.SEC001"/>
      </file>
    </checkstyle>

The shape follows checkstyle's published schema (checkstyle-report-1.0.0.xsd):
``file/@name`` is required, ``error`` has ``line``, ``column`` (positive
integers), ``severity`` (error, warning, info), ``message`` and ``source``.
Severities map error→error, warning→warning, note→info. Columns count code
points. Paths are relative to the repository root. Errors of the run (a rule
crashed, a bad configuration, a path that does not exist) are ``error``
elements too, with ``source="cnlint.<kind>"``, on the file they name or on a
``file`` named after the path (so the report is never silently empty).
Control characters are shown as visible escapes (``xmlout``).
"""

from __future__ import annotations

from ..model import Severity, merge_order
from ..runner import RunResult
from .ci_common import report_path, report_root
from .xmlout import attr

_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "info"}


def render(result: RunResult, *, repo_root: str | None = None, include_suppressed: bool = False) -> str:
    root = report_root(result, repo_root)
    files: dict[str, list[str]] = {}
    findings = list(result.findings) + (list(result.suppressed) if include_suppressed else [])
    for f in sorted(findings, key=merge_order):
        message = f.message + (f" (suppressed: {f.suppressed_by})" if f.suppressed_by is not None else "")
        files.setdefault(report_path(f.path, root), []).append(
            f"<error line={attr(max(1, f.span.start_line))} column={attr(max(1, f.span.start_column))} "
            f"severity={attr(_SEVERITY[f.severity])} message={attr(message)} source={attr('cnlint.' + f.rule_id)}/>")
    for n in result.notices:
        if not n.is_error:
            continue
        name = report_path(n.path, root) if n.path else "cnlint"
        files.setdefault(name, []).append(
            f"<error severity=\"error\" message={attr(n.message)} source={attr('cnlint.' + n.kind.value)}/>")
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<checkstyle version="4.3">']
    for name, errors in files.items():
        out.append(f"  <file name={attr(name)}>")
        out.extend("    " + e for e in dict.fromkeys(errors))
        out.append("  </file>")
    out.append("</checkstyle>")
    return "\n".join(out) + "\n"
