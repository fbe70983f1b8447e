"""``--format json``: a documented, versioned shape (see docs/json-format.md).

Version 1. Positions are 1-based; columns count Unicode code points
(``column``) and UTF-16 units (``column_utf16``). New keys may be added in a
version; removing or changing one bumps ``version``.

The output is always valid UTF-8: a byte of a file name that is not UTF-8 is
written as the text ``\\xff`` (``escape.json_safe``).
"""

from __future__ import annotations

import json

from .. import __version__
from ..model import Finding, Span
from ..runner import RunResult
from .escape import json_safe

FORMAT_VERSION = 1


def _pos(span: Span) -> dict:
    return {
        "start": {"line": span.start_line, "column": span.start_column, "column_utf16": span.start_column_utf16},
        "end": {"line": span.end_line, "column": span.end_column, "column_utf16": span.end_column_utf16},
    }


def finding_dict(f: Finding) -> dict:
    d = {
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "severity": f.severity.value,
        "message": f.message,
        "path": f.path,
        **_pos(f.span),
        "fingerprint": f.fingerprint,
        "fix": None,
        "related": [{"path": r.path, "message": r.message, **_pos(r.span)} for r in f.related],
    }
    if f.fix is not None:
        d["fix"] = {
            "description": f.fix.description,
            "applicability": f.fix.applicability.value,
            "edits": [{"content": e.text, **_pos(e.span)} for e in f.fix.edits],
        }
    if f.suppressed_by is not None:
        d["suppressed"] = {"reason": f.suppressed_by}
    if f.baseline is not None:
        d["baseline_state"] = f.baseline
    return d


def render(result: RunResult, include_suppressed: bool = False, include_baseline: bool = False) -> str:
    doc = {
        "version": FORMAT_VERSION,
        "tool": {"name": "cnlint", "version": __version__},
        "findings": [finding_dict(f) for f in result.findings],
        "notices": [{"kind": n.kind.value, "path": n.path, "message": n.message, "rule_id": n.rule_id or None}
                    for n in result.notices],
        "summary": {"files": result.files, "parsed": result.parsed, "generated": result.generated,
                    "findings": len(result.findings),
                    "suppressed": len(result.suppressed), "errors": sum(n.is_error for n in result.notices),
                    "hidden_by_baseline": len(result.hidden) - result.hidden_unchanged_lines,
                    "hidden_on_unchanged_lines": result.hidden_unchanged_lines,
                    "baseline_fixed": result.baseline_fixed},
    }
    if include_baseline:
        doc["hidden"] = [finding_dict(f) for f in result.hidden]
    if include_suppressed:
        doc["suppressed"] = [finding_dict(f) for f in result.suppressed]
    return _dumps(doc)


def _dumps(doc: dict) -> str:
    """Indented at the top, one finding per line: json's indenting encoder is
    pure Python (a second for 5,000 findings); compact items use the C one."""
    parts = []
    for key, value in doc.items():
        if isinstance(value, list) and value:
            items = ",\n".join("    " + json.dumps(x, ensure_ascii=False) for x in value)
            text = "[\n" + items + "\n  ]"
        else:
            text = json.dumps(value, ensure_ascii=False)
        parts.append(f"  {json.dumps(key)}: {text}")
    return json_safe("{\n" + ",\n".join(parts) + "\n}\n")
