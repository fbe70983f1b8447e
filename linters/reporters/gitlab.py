"""``--format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array of issues, in the subset of the Code Climate spec that GitLab
documents (docs.gitlab.com/ci/testing/code_quality, "Code Quality report
format"): ``description``, ``check_name``, ``fingerprint``, ``severity`` (one of
info, minor, major, critical, blocker) and ``location.path`` with
``location.lines.begin``; ``type: "issue"``, ``categories`` and
``location.lines.end`` are Code Climate fields GitLab accepts as well.

* Severities: error→major, warning→minor, note→info.
* ``location.path`` is relative to the repository root, without ``./``: GitLab
  matches it against the files of the merge request diff.
* ``fingerprint`` is the SHA-256 of the path and cnlint's own fingerprint (rule,
  flagged code and its line, occurrence counter): unique per issue in a report,
  and stable when unrelated lines move, so GitLab's comparison of the source
  and target branch does not show unchanged findings as new and fixed.
* Errors of the run (a rule crashed, a bad configuration, a path that does not
  exist) are ``blocker`` issues with ``check_name`` ``cnlint/<kind>``, so a broken
  run does not look like a clean one in the merge request widget.

Text is valid UTF-8 (``escape.json_safe``).
"""

from __future__ import annotations

import hashlib
import json

from ..model import Severity
from ..runner import RunResult
from .ci_common import report_path, report_root, rule_url
from .escape import json_safe

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.NOTE: "info"}


def _fingerprint(*parts: str) -> str:
    data = "\0".join(parts).encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).hexdigest()


def render(result: RunResult, *, repo_root: str | None = None) -> str:
    root = report_root(result, repo_root)
    issues = []
    for f in result.findings:
        path = report_path(f.path, root)
        issue = {
            "type": "issue",
            "description": f"{f.rule_id}: {f.message}",
            "check_name": f.rule_id,
            "fingerprint": _fingerprint(path, f.rule_id, f.fingerprint or f"{f.span.start_line}:{f.message}"),
            "severity": _SEVERITY[f.severity],
            "categories": ["Security" if f.rule_id.startswith("SEC") else "Bug Risk"],
            "location": {"path": path, "lines": {"begin": max(1, f.span.start_line),
                                                  "end": max(1, f.span.start_line, f.span.end_line)}},
        }
        url = rule_url(result, f.rule_id)
        if url:
            issue["content"] = {"body": f"{f.rule_name or f.rule_id}: see {url}"}
        issues.append(issue)
    for n in result.notices:
        if not n.is_error:
            continue
        path = report_path(n.path, root) if n.path else ""
        issues.append({
            "type": "issue",
            "description": f"cnlint {n.kind.value}: {n.message}",
            "check_name": f"cnlint/{n.kind.value}",
            "fingerprint": _fingerprint(path, n.kind.value, n.rule_id, n.message),
            "severity": "blocker",
            "categories": ["Bug Risk"],
            "location": {"path": path or ".", "lines": {"begin": 1}},
        })
    # fingerprints are unique per issue: a symlink and its target give the same issue once
    unique = list({i["fingerprint"]: i for i in issues}.values())
    if not unique:
        return "[]\n"
    return json_safe("[\n" + ",\n".join("  " + json.dumps(i, ensure_ascii=False) for i in unique) + "\n]\n")
