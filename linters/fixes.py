"""Applying fixes: ``--fix``, ``--unsafe-fixes``, ``--diff``.

Guarantees:
- only fixes whose applicability is allowed are applied; suggestions never;
- edits from several rules in one file are merged; overlapping ones wait for a
  later pass (the file is re-linted between passes), up to ``MAX_PASSES``;
- a pass that would introduce a syntax error is rolled back and its fixes
  skipped with a notice, so a file is never left broken;
- files are written atomically (temp file + rename), keeping their mode;
- running ``--fix`` again on fixed output changes nothing (a fix that keeps
  reappearing is stopped by the pass limit and reported).
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, field

from .engine import SYNTAX_ERROR, Engine
from .model import Applicability, Edit, Finding, Notice, NoticeKind

MAX_PASSES = 10


@dataclass
class FixOutcome:
    path: str
    original: bytes
    fixed: bytes
    applied: int = 0  # fixes applied
    notices: list[Notice] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        a = self.original.decode("utf-8").splitlines(keepends=True)
        b = self.fixed.decode("utf-8").splitlines(keepends=True)
        return "".join(difflib.unified_diff(a, b, f"a/{self.path}", f"b/{self.path}"))


def allowed(finding: Finding, unsafe: bool) -> bool:
    fix = finding.fix
    if fix is None or not fix.edits:
        return False
    return fix.applicability is Applicability.SAFE or (unsafe and fix.applicability is Applicability.UNSAFE)


def apply_edits(data: bytes, edits: list[Edit]) -> bytes:
    """Apply non-overlapping edits (sorted by position)."""
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: (e.span.start_byte, e.span.end_byte)):
        out.append(data[pos:e.span.start_byte])
        out.append(e.text.encode("utf-8"))
        pos = e.span.end_byte
    out.append(data[pos:])
    return b"".join(out)


def _choose(findings: list[Finding], unsafe: bool) -> tuple[list[Finding], int]:
    """Fixes that do not overlap each other (earlier wins); returns (chosen, postponed)."""
    taken: list[tuple[int, int]] = []
    chosen, postponed = [], 0
    for f in sorted((f for f in findings if allowed(f, unsafe)), key=lambda f: f.span.start_byte):
        ranges = [(e.span.start_byte, e.span.end_byte) for e in f.fix.edits]
        if any(a < d and c < b or (a == b == c == d) for a, b in ranges for c, d in taken):
            postponed += 1
            continue
        taken.extend(ranges)
        chosen.append(f)
    return chosen, postponed


def _syntax_errors(engine: Engine, path: str, language: str, data: bytes) -> int:
    res = engine.check(path, language, data, only=(SYNTAX_ERROR,))
    return sum(1 for f in res.findings + res.suppressed if f.rule_id == SYNTAX_ERROR)


def fix_file(engine: Engine, path: str, language: str, unsafe: bool,
             original: bytes | None = None) -> FixOutcome:
    """Fix one file (``original``: its unsaved text, as the language server has it)."""
    if original is None:
        with open(os.path.join(engine.cwd, path), "rb") as fh:
            original = fh.read()
    outcome = FixOutcome(path, original, original)
    data = original
    errors_before = _syntax_errors(engine, path, language, data)
    for _ in range(MAX_PASSES):
        findings = engine.check(path, language, data).findings
        chosen, postponed = _choose(findings, unsafe)
        if not chosen:
            break
        new = apply_edits(data, [e for f in chosen for e in f.fix.edits])
        if _syntax_errors(engine, path, language, new) > errors_before:
            # Roll back this pass; try the fixes one at a time so good ones still land.
            progressed = False
            for f in chosen:
                single = apply_edits(data, list(f.fix.edits))
                if _syntax_errors(engine, path, language, single) > errors_before:
                    outcome.notices.append(Notice(
                        NoticeKind.SKIPPED, path,
                        f"fix for {f.rule_id} at line {f.span.start_line} not applied: it would break the syntax",
                        f.rule_id))
                    continue
                data, progressed = single, True
                outcome.applied += 1
                break  # positions of the others changed: re-lint
            if not progressed:
                break
            continue
        data = new
        outcome.applied += len(chosen)
    else:
        outcome.notices.append(Notice(NoticeKind.SKIPPED, path,
                                      f"fixes still pending after {MAX_PASSES} passes; stopped"))
    outcome.fixed = data
    return outcome


def write_atomic(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=".cnlint-fix-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fix_all(findings: list[Finding], engine: Engine, languages_by_path: dict[str, str], *,
            unsafe: bool, write: bool) -> list[FixOutcome]:
    """Fix every file that has an applicable fix; write it unless ``write`` is False."""
    paths = sorted({f.path for f in findings if allowed(f, unsafe)})
    outcomes = []
    for path in paths:
        outcome = fix_file(engine, path, languages_by_path[path], unsafe)
        if outcome.changed and write:
            write_atomic(os.path.join(engine.cwd, path), outcome.fixed)
            engine.forget_project_stamps()  # its directory's stamp changed
        outcomes.append(outcome)
    return outcomes
