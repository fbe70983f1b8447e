"""Applying fixes: ``--fix``, ``--unsafe-fixes``, ``--diff``.

Guarantees (docs/security.md, "--fix"):
- only fixes whose applicability is allowed are applied; suggestions never;
- every fix is checked against the text it edits: each edit inside the file,
  on UTF-8 character boundaries, the edits of one fix not overlapping; a fix
  that fails is rejected with a notice naming its rule;
- edits from several rules in one file are merged; overlapping ones wait for a
  later pass (the file is re-linted between passes), up to ``MAX_PASSES``;
- a pass that would introduce a syntax error is rolled back and its fixes
  skipped with a notice, so a file is never left broken;
- a file is written as an editor saves it: atomically (temp file + rename in
  the file's real directory, so a symlink stays a link and its target is
  fixed), keeping its mode, and only if its bytes are still those that were
  read (otherwise it is left alone: someone saved it meanwhile). A read-only
  file, or a symlink whose target lies outside the project, is refused;
- one file that cannot be read or written never stops the others: each
  outcome says whether its file was written, and why not;
- running ``--fix`` again on fixed output changes nothing (a fix that keeps
  reappearing is stopped by the pass limit and reported).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, field

from . import languages
from .config import project_root
from .engine import SYNTAX_ERROR, Engine
from .runner import fingerprint_base
from .model import Applicability, Edit, Finding, Fix, Notice, NoticeKind

MAX_PASSES = 10
_HEAD = 256  # bytes read for a shebang


@dataclass
class FixOutcome:
    path: str
    original: bytes
    fixed: bytes
    applied: int = 0  # fixes applied
    notices: list[Notice] = field(default_factory=list)
    written: bool = False  # the fixed text is on disk

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        a = self.original.decode("utf-8").splitlines(keepends=True)
        b = self.fixed.decode("utf-8").splitlines(keepends=True)
        # an absolute path keeps its own name (`a//home/...` named no file); a relative one gets git's a/ b/
        old, new = (self.path, self.path) if self.path.startswith("/") else (f"a/{self.path}", f"b/{self.path}")
        return "".join(difflib.unified_diff(a, b, old, new))

    def note(self, kind: NoticeKind, message: str, rule_id: str = "") -> None:
        """Add a notice once (a rejected fix comes back on every pass)."""
        notice = Notice(kind, self.path, message, rule_id)
        if notice not in self.notices:
            self.notices.append(notice)


class Refused(Exception):
    """The fixed text is not written: the file must not be replaced (the message says why)."""


class ChangedMeanwhile(Exception):
    """The file changed since it was read: the newer text wins, and is what gets reported."""


def allowed(finding: Finding, unsafe: bool) -> bool:
    fix = finding.fix
    if fix is None or not fix.edits:
        return False
    return fix.applicability is Applicability.SAFE or (unsafe and fix.applicability is Applicability.UNSAFE)


def edit_problem(fix: Fix, data: bytes) -> str | None:
    """Why ``fix`` cannot apply to ``data`` (a bug in the rule), or None."""
    prev: tuple[int, int] | None = None
    for e in sorted(fix.edits, key=lambda e: (e.span.start_byte, e.span.end_byte)):
        a, b = e.span.start_byte, e.span.end_byte
        if type(a) is not int or type(b) is not int or not isinstance(e.text, str):
            return "an edit is malformed"
        if not 0 <= a <= b <= len(data):
            return f"edit of bytes {a}..{b} is outside the file ({len(data)} bytes)"
        if prev is not None and (a < prev[1] or a == b == prev[0] == prev[1]):
            return f"edits of bytes {prev[0]}..{prev[1]} and {a}..{b} overlap"
        if any(i < len(data) and data[i] & 0xC0 == 0x80 for i in (a, b)):
            return f"edit of bytes {a}..{b} splits a UTF-8 character"
        try:
            e.text.encode("utf-8")
        except UnicodeEncodeError:
            return "replacement text is not valid Unicode"
        prev = (a, b)
    return None


def apply_edits(data: bytes, edits: list[Edit]) -> bytes:
    """Apply non-overlapping edits (sorted by position)."""
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: (e.span.start_byte, e.span.end_byte)):
        out.append(data[pos:e.span.start_byte])
        out.append(e.text.encode("utf-8"))
        pos = e.span.end_byte
    out.append(data[pos:])
    return b"".join(out)


def _choose(fixable: list[Finding]) -> list[Finding]:
    """Fixes that do not overlap each other (earlier wins; the others wait for a later pass)."""
    taken: list[tuple[int, int]] = []
    chosen = []
    for f in sorted(fixable, key=lambda f: f.span.start_byte):
        ranges = [(e.span.start_byte, e.span.end_byte) for e in f.fix.edits]
        if any(a < d and c < b or (a == b == c == d) for a, b in ranges for c, d in taken):
            continue
        taken.extend(ranges)
        chosen.append(f)
    return chosen


def _syntax_errors(engine: Engine, path: str, language: str, data: bytes) -> int:
    res = engine.check(path, language, data, only=(SYNTAX_ERROR,))
    return sum(1 for f in res.findings + res.suppressed if f.rule_id == SYNTAX_ERROR)


def fix_file(engine: Engine, path: str, language: str, unsafe: bool,
             original: bytes | None = None, keep: frozenset = frozenset()) -> FixOutcome:
    """Fix one file (``original``: the text to fix, e.g. an editor's unsaved
    one; default: the file's content). Findings whose (rule id, fingerprint
    base) is in ``keep`` are left alone (--fix-new-only: baselined ones)."""
    if original is None:
        with open(os.path.join(engine.cwd, path), "rb") as fh:
            original = fh.read()
    outcome = FixOutcome(path, original, original)
    data = original
    errors_before = _syntax_errors(engine, path, language, data)
    for _ in range(MAX_PASSES):
        fixable = []
        checked = engine.check(path, language, data)
        if data is not original:
            # a rule that crashes on the fixed text: an error of the run (exit 2), never
            # dropped (the lint already reported the crashes on the original text)
            for n in checked.notices:
                if n.is_error:
                    outcome.note(n.kind, f"after fixes: {n.message}", n.rule_id)
        for f in checked.findings:
            if not allowed(f, unsafe) or (keep and (f.rule_id, fingerprint_base(f)) in keep):
                continue
            problem = edit_problem(f.fix, data)
            if problem:
                outcome.note(NoticeKind.SKIPPED, f"fix for {f.rule_id} at line {f.span.start_line} rejected: "
                                                 f"{problem}", f.rule_id)
                continue
            fixable.append(f)
        chosen = _choose(fixable)
        if not chosen:
            break
        new = apply_edits(data, [e for f in chosen for e in f.fix.edits])
        if _syntax_errors(engine, path, language, new) > errors_before:
            # Roll back this pass; try the fixes one at a time so good ones still land.
            progressed = False
            for f in chosen:
                single = apply_edits(data, list(f.fix.edits))
                if _syntax_errors(engine, path, language, single) > errors_before:
                    outcome.note(NoticeKind.SKIPPED, f"fix for {f.rule_id} at line {f.span.start_line} not "
                                                     "applied: it would break the syntax", f.rule_id)
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
        outcome.note(NoticeKind.SKIPPED, f"fixes still pending after {MAX_PASSES} passes; stopped")
    outcome.fixed = data
    return outcome


def write_fixed(path: str, original: bytes, fixed: bytes, cwd: str | None = None) -> None:
    """Replace the content of ``path`` (``original`` when it was read) with
    ``fixed``, as an editor saves. Raises ChangedMeanwhile, Refused, or OSError
    when the system says no (a read-only directory, a full disk)."""
    target = os.path.realpath(path)
    if target != os.path.abspath(path):  # a symlink (or one on the way): fix its target, if ours
        root = os.path.realpath(project_root(path, cwd))
        if not target.startswith(root.rstrip(os.sep) + os.sep):
            raise Refused(f"it is a symbolic link to {target}, outside the project")
    st = os.stat(target)
    if not stat.S_ISREG(st.st_mode):
        raise Refused("it is not a regular file")
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise Refused("it is read-only")
    fd, tmp = tempfile.mkstemp(prefix=".cnlint-fix-", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(fixed)
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                with contextlib.suppress(OSError):  # only root may give a file away
                    os.fchown(f.fileno(), st.st_uid, st.st_gid)
            os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode))
        with open(target, "rb") as f:  # the last moment before replacing it
            if f.read() != original:
                raise ChangedMeanwhile("it changed since it was read (left as it is now)")
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def fix_all(findings: list[Finding], engine: Engine, languages_by_path: dict[str, str] | None = None, *,
            unsafe: bool, write: bool, keep: list[Finding] = ()) -> list[FixOutcome]:
    """Fix every file that has an applicable fix; write it unless ``write`` is
    False, and never fix a finding of ``keep`` (by rule and fingerprint). A
    file that cannot be written gets an error notice in its outcome (a warning
    when it changed or vanished meanwhile) and the others go on. The language
    is detected from the name and the first bytes (a shebang) unless
    ``languages_by_path`` gives it."""
    paths = sorted({f.path for f in findings if allowed(f, unsafe)})
    protected: dict[str, set] = {}  # path -> (rule id, fingerprint base) of the findings to keep
    for f in keep:
        protected.setdefault(f.path, set()).add((f.rule_id, fingerprint_base(f)))
    outcomes = []
    for path in paths:
        full = os.path.join(engine.cwd, path)
        try:
            with open(full, "rb") as fh:
                original = fh.read()
        except OSError as e:  # it was readable when linted: deleted or replaced meanwhile
            outcome = FixOutcome(path, b"", b"")
            outcome.note(NoticeKind.SKIPPED, f"not fixed: cannot read it: {e.strerror}")
            outcomes.append(outcome)
            continue
        language = (languages_by_path or {}).get(path) or languages.detect(path, original[:_HEAD])
        if language is None:  # its shebang changed since it was linted
            outcome = FixOutcome(path, original, original)
            outcome.note(NoticeKind.SKIPPED, "not fixed: no longer a Go, TypeScript, JavaScript or Python file")
            outcomes.append(outcome)
            continue
        outcome = fix_file(engine, path, language, unsafe, original, frozenset(protected.get(path, ())))
        if outcome.changed and write:
            try:
                write_fixed(full, original, outcome.fixed, engine.cwd)
                outcome.written = True
                engine.forget_project_stamps()  # its directory's stamp changed
            except ChangedMeanwhile as e:
                outcome.note(NoticeKind.SKIPPED, f"fixes not written: {e}")
            except Refused as e:
                outcome.note(NoticeKind.INTERNAL_ERROR, f"fixes not written: {e}")
            except OSError as e:
                outcome.note(NoticeKind.INTERNAL_ERROR, f"fixes not written: {e.strerror or e}")
        outcomes.append(outcome)
    return outcomes
