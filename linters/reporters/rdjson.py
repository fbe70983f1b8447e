"""``--format rdjson``: reviewdog's Diagnostic Format, ``reviewdog -f=rdjson``.

One ``DiagnosticResult`` (reviewdog's proto/rdf/reviewdog.proto and its JSON
schema, proto/rdf/jsonschema/DiagnosticResult.json):

    {"source": {"name": "cnlint", "url": ...}, "severity": "WARNING",
     "diagnostics": [{"message": ..., "severity": "ERROR",
                      "location": {"path": "src/main.go", "range": {"start": {"line": 3, "column": 5},
                                                                   "end": {"line": 3, "column": 12}}},
                      "code": {"value": "SEC001", "url": ...},
                      "suggestions": [{"range": ..., "text": ...}]}]}

* Severities: error→ERROR, warning→WARNING, note→INFO.
* Columns are 1-based **UTF-8 byte** columns, as reviewdog defines them
  (``a𐐀b``: ``b`` is column 6), and ``end`` is exclusive. They are computed from
  the file's bytes; when the file cannot be read (or no longer matches, as
  with stdin), code point columns are written instead.
* ``suggestions``: a finding's *safe* fix, as one suggestion (several edits of a
  fix are joined into one replacement of the range they cover, with the text
  between them kept). reviewdog shows it as a suggested change in the review.
  Unsafe fixes and suggestions-only fixes are left out, as in SARIF's
  ``result.fixes``: a one-click change must never be an unsafe one.
* Errors of the run (a rule crashed, a bad configuration, a path that does not
  exist) are ERROR diagnostics with ``code.value`` ``cnlint/<kind>``.

Paths are relative to the repository root. Text is valid UTF-8
(``escape.json_safe``).
"""

from __future__ import annotations

import json
import os

from ..model import Applicability, Edit, Finding, Severity
from ..runner import RunResult
from ..source import BOM
from .ci_common import report_path, report_root, rule_url
from .escape import json_safe

_SEVERITY = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.NOTE: "INFO"}
SOURCE_URL = "https://github.com/cnlint/cnlint"


class _Files:
    """Files' bytes, read once each, for byte columns."""

    def __init__(self) -> None:
        self._data: dict[str, bytes | None] = {}

    def get(self, path: str) -> bytes | None:
        if path not in self._data:
            try:
                with open(path, "rb") as fh:
                    self._data[path] = fh.read()
            except (OSError, ValueError):
                self._data[path] = None
        return self._data[path]

    def position(self, path: str, line: int, column: int, offset: int) -> dict:
        """``{"line", "column"}`` with the column in UTF-8 bytes, when ``offset``
        (a byte offset into the file) is on ``line`` of the file as it is now."""
        line, column = max(1, line), max(1, column)
        data = self.get(path)
        if data is not None and 0 <= offset <= len(data):
            start = data.rfind(b"\n", 0, offset) + 1
            if data.count(b"\n", 0, start) + 1 == line:
                if line == 1 and data.startswith(BOM) and offset >= len(BOM):
                    start = len(BOM)  # a byte order mark is not a column
                return {"line": line, "column": offset - start + 1}
        return {"line": line, "column": column}


def _range(files: _Files, path: str, span) -> dict:
    return {"start": files.position(path, span.start_line, span.start_column, span.start_byte),
            "end": files.position(path, span.end_line, span.end_column, span.end_byte)}


def _suggestion(files: _Files, f: Finding) -> dict | None:
    """One suggestion for ``f``'s safe fix: its edits joined over the range they cover."""
    if f.fix is None or f.fix.applicability is not Applicability.SAFE or not f.fix.edits:
        return None
    edits: list[Edit] = sorted(f.fix.edits, key=lambda e: (e.span.start_byte, e.span.end_byte))
    if len(edits) == 1:
        return {"range": _range(files, f.path, edits[0].span), "text": edits[0].text}
    data = files.get(f.path)
    if data is None or edits[-1].span.end_byte > len(data):
        return None
    parts, at = [], edits[0].span.start_byte
    for e in edits:
        if e.span.start_byte < at:  # overlapping edits: not one replacement
            return None
        parts.append(data[at:e.span.start_byte].decode("utf-8", "surrogateescape"))
        parts.append(e.text)
        at = e.span.end_byte
    first, last = edits[0].span, edits[-1].span
    rng = {"start": files.position(f.path, first.start_line, first.start_column, first.start_byte),
           "end": files.position(f.path, last.end_line, last.end_column, last.end_byte)}
    return {"range": rng, "text": "".join(parts)}


def render(result: RunResult, *, repo_root: str | None = None) -> str:
    root = report_root(result, repo_root)
    files = _Files()
    diagnostics = []
    for f in result.findings:
        d: dict = {
            "message": f.message,
            "location": {"path": report_path(f.path, root), "range": _range(files, f.path, f.span)},
            "severity": _SEVERITY[f.severity],
            "code": {"value": f.rule_id},
        }
        url = rule_url(result, f.rule_id)
        if url:
            d["code"]["url"] = url
        suggestion = _suggestion(files, f)
        if suggestion is not None:
            d["suggestions"] = [suggestion]
        if f.related:
            d["related_locations"] = [
                {"message": r.message,
                 "location": {"path": report_path(r.path, root), "range": _range(files, r.path, r.span)}}
                for r in f.related]
        diagnostics.append(d)
    for n in result.notices:
        if not n.is_error:
            continue
        d = {"message": f"cnlint {n.kind.value}: {n.message}", "severity": "ERROR",
             "code": {"value": f"cnlint/{n.kind.value}"}}
        if n.path and os.path.isfile(n.path):
            d["location"] = {"path": report_path(n.path, root)}
        diagnostics.append(d)
    body = ",\n".join("    " + json.dumps(d, ensure_ascii=False) for d in diagnostics)
    head = json.dumps({"name": "cnlint", "url": SOURCE_URL})
    text = f'{{\n  "source": {head},\n  "diagnostics": [' + (f"\n{body}\n  " if diagnostics else "") + "]\n}\n"
    return json_safe(text)

