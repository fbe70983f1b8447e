"""The values a run produces: positions, fixes, findings and notices.

Everything here is a small frozen dataclass so it pickles cheaply between
worker processes and sorts deterministically, whatever the parallelism.
"""

from __future__ import annotations

import enum
import operator
from dataclasses import dataclass, field


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


class Applicability(str, enum.Enum):
    """How far a fix can be trusted (ruff's and ESLint's vocabulary)."""

    SAFE = "safe"  # keeps behaviour; applied by --fix
    UNSAFE = "unsafe"  # may change behaviour; applied only with --unsafe-fixes
    SUGGESTION = "suggestion"  # shown to the user, never applied automatically


@dataclass(frozen=True, order=True)
class Span:
    """A region of one file.

    Lines are 1-based. Columns are 1-based and counted in Unicode code points
    (``column``) and in UTF-16 code units (``column_utf16``), so every
    reporter (text, SARIF with either ``columnKind``, LSP) can use the unit it
    declares without going back to the source. Byte offsets are 0-based into the
    file's bytes; fixes edit by bytes.
    """

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    start_byte: int = 0
    end_byte: int = 0
    start_column_utf16: int = 0
    end_column_utf16: int = 0


@dataclass(frozen=True, order=True)
class Location:
    path: str  # as the user named it / relative to the working directory, with "/"
    span: Span
    message: str = ""  # for related locations: what this place is


@dataclass(frozen=True, order=True)
class Edit:
    """Replace the bytes ``span.start_byte:span.end_byte`` with ``text``."""

    span: Span
    text: str


@dataclass(frozen=True, order=True)
class Fix:
    description: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE


@dataclass(frozen=True, order=True)
class Finding:
    """One reported problem. Sort order = output order: path, position, rule."""

    path: str
    span: Span
    rule_id: str
    message: str
    severity: Severity
    rule_name: str = ""
    fix: Fix | None = None
    related: tuple[Location, ...] = ()
    # Text of the flagged code, whitespace-normalised, and the source line, for
    # fingerprints and for the text reporter's caret line.
    snippet: str = ""
    line_text: str = ""
    suppressed_by: str | None = None  # the reason from the comment, when suppressed
    fingerprint: str = ""  # filled by the runner, stable across unrelated edits
    baseline: str | None = None  # "new" | "unchanged" when a baseline or --new-from-rev applies


def merge_order(f: Finding) -> tuple:
    """A sort key for findings gathered from many files, each file's list
    already sorted: the order of comparing findings (path, span, rule,
    message), computed once per finding instead of one tuple per comparison.
    Findings equal on all of these keep their (sorted) order: sort stably."""
    s = f.span
    return (f.path, s.start_line, s.start_column, s.end_line, s.end_column, s.start_byte, s.end_byte,
            s.start_column_utf16, s.end_column_utf16, f.rule_id, f.message)


class NoticeKind(str, enum.Enum):
    SKIPPED = "skipped"  # binary, not UTF-8, too large, unreadable
    NOT_ANALYSED = "not-analysed"  # lines of a file the parser could not read; the rules checked the rest
    INTERNAL_ERROR = "internal-error"  # a rule or the engine raised
    CONFIG = "config"  # the configuration is invalid or names something missing (a rule-paths entry)
    USAGE = "usage"  # the command line names a path that does not exist


@dataclass(frozen=True, order=True)
class Notice:
    """Something the user must know about the run that is not a finding."""

    kind: NoticeKind
    path: str
    message: str
    rule_id: str = ""

    @property
    def is_error(self) -> bool:
        return self.kind in (NoticeKind.INTERNAL_ERROR, NoticeKind.CONFIG, NoticeKind.USAGE)


@dataclass
class FileResult:
    """What a worker returns for one file."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)  # with suppressed_by set
    notices: list[Notice] = field(default_factory=list)
    parsed: bool = False
    generated: bool = False  # skipped as generated code (config skip-generated-code)


# ---- plain data for the result cache (JSON: no pickle, nothing that can run code) ----
# Positional lists, not dicts: they parse and check faster, and a warm run reads
# thousands of entries. The field order is the dataclasses' order.

def result_to_data(r: FileResult) -> list:
    """``r`` as JSON-ready data (lists, strings, ints, bools, None; enums by value)."""
    return [r.path, r.parsed, [_finding_data(f) for f in r.findings], [_finding_data(f) for f in r.suppressed],
            [[n.kind.value, n.path, n.message, n.rule_id] for n in r.notices]]


def result_from_data(d) -> FileResult:
    """The inverse of ``result_to_data``, checking every type, enum value and
    span on the way; raises ValueError on anything else."""
    _expect(type(d) is list and len(d) == 5 and type(d[0]) is str and type(d[1]) is bool
            and type(d[2]) is list and type(d[3]) is list and type(d[4]) is list)
    return FileResult(d[0], [_finding(f) for f in d[2]], [_finding(f) for f in d[3]],
                      [_notice(n) for n in d[4]], d[1])


_SEVERITIES = {s.value: s for s in Severity}
_APPLICABILITIES = {a.value: a for a in Applicability}
_NOTICE_KINDS = {k.value: k for k in NoticeKind}


def _span_data(s: Span) -> list[int]:
    return [s.start_line, s.start_column, s.end_line, s.end_column, s.start_byte, s.end_byte,
            s.start_column_utf16, s.end_column_utf16]


def _finding_data(f: Finding) -> list:
    fix = f.fix and [f.fix.description, f.fix.applicability.value,
                     [[_span_data(e.span), e.text] for e in f.fix.edits]]
    return [f.path, _span_data(f.span), f.rule_id, f.message, f.severity.value, f.rule_name, fix,
            [[r.path, _span_data(r.span), r.message] for r in f.related], f.snippet, f.line_text,
            f.suppressed_by, f.fingerprint, f.baseline]


def _expect(ok: bool) -> None:
    if not ok:
        raise ValueError("malformed cached result")


_EIGHT_INTS = [int] * 8


def _span(v) -> Span:
    _expect(type(v) is list and list(map(type, v)) == _EIGHT_INTS and min(v) >= 0 and v[4] <= v[5])
    return Span(*v)


def _enum(table: dict, v):
    _expect(type(v) is str and v in table)
    return table[v]


# path, rule_id, message, rule_name, snippet, line_text, fingerprint; then suppressed_by, baseline
_STRINGS, _STR_TYPES = operator.itemgetter(0, 2, 3, 5, 8, 9, 11), (str,) * 7
_OPTIONAL = operator.itemgetter(10, 12)
_OPTIONAL_TYPES = {(str, str), (str, type(None)), (type(None), str), (type(None), type(None))}


def _finding(d) -> Finding:
    _expect(type(d) is list and len(d) == 13 and tuple(map(type, _STRINGS(d))) == _STR_TYPES
            and tuple(map(type, _OPTIONAL(d))) in _OPTIONAL_TYPES and type(d[7]) is list)
    fix = d[6]
    if fix is not None:
        _expect(type(fix) is list and len(fix) == 3 and type(fix[0]) is str and type(fix[2]) is list)
        edits = []
        for e in fix[2]:
            _expect(type(e) is list and len(e) == 2 and type(e[1]) is str)
            edits.append(Edit(_span(e[0]), e[1]))
        fix = Fix(fix[0], tuple(edits), _enum(_APPLICABILITIES, fix[1]))
    related = []
    for r in d[7]:
        _expect(type(r) is list and len(r) == 3 and type(r[0]) is str and type(r[2]) is str)
        related.append(Location(r[0], _span(r[1]), r[2]))
    return Finding(d[0], _span(d[1]), d[2], d[3], _enum(_SEVERITIES, d[4]), d[5], fix, tuple(related),
                   d[8], d[9], d[10], d[11], d[12])


def _notice(v) -> Notice:
    _expect(type(v) is list and len(v) == 4 and type(v[1]) is str and type(v[2]) is str and type(v[3]) is str)
    return Notice(_enum(_NOTICE_KINDS, v[0]), v[1], v[2], v[3])
