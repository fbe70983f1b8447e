"""The values a run produces: positions, fixes, findings and notices.

Everything here is a small frozen dataclass so it pickles cheaply between
worker processes and sorts deterministically, whatever the parallelism.
"""

from __future__ import annotations

import enum
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
    INTERNAL_ERROR = "internal-error"  # a rule or the engine raised
    CONFIG = "config"


@dataclass(frozen=True, order=True)
class Notice:
    """Something the user must know about the run that is not a finding."""

    kind: NoticeKind
    path: str
    message: str
    rule_id: str = ""

    @property
    def is_error(self) -> bool:
        return self.kind in (NoticeKind.INTERNAL_ERROR, NoticeKind.CONFIG)


@dataclass
class FileResult:
    """What a worker returns for one file."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)  # with suppressed_by set
    notices: list[Notice] = field(default_factory=list)
    parsed: bool = False
