"""FileContext: what every rule sees of the file it checks."""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .code_kinds import DEFAULT, CodeKinds
from .golang import GoSemantics
from .model import Finding, Fix, Location, Severity, Span
from .project import Project, project_for
from .source import SourceFile

if TYPE_CHECKING:
    from .rule import Rule


class FileContext:
    """One file, parsed once, shared by all rules of its language."""

    def __init__(self, path: str, language: str, source: SourceFile,
                 severities: dict[str, Severity], kinds: CodeKinds = DEFAULT):
        self.path = path
        self.language = language
        self.source = source
        self.tree: Any = None  # tree_sitter.Tree or libcst.Module
        self.findings: list[Finding] = []
        self._severities = severities
        self.kinds = kinds  # the config's test-code / generated-code globs

    @property
    def project(self) -> Project:
        return project_for(os.path.dirname(os.path.abspath(self.path)))

    @cached_property
    def go(self) -> GoSemantics:
        """The Go semantic layer of this file (imports, call targets, scopes,
        constants), built on first use and shared by every Go rule."""
        return GoSemantics(self.tree, self.project.go_mod)

    @cached_property
    def is_test_code(self) -> bool:
        """Tests, test data, test helpers and test doubles, by name (``*_test.go``,
        ``tests/``, ``mock_*.go``, ...; config ``test-code``): rules may stay quiet there."""
        return self.kinds.is_test_code(self.path)

    @cached_property
    def is_generated(self) -> bool:
        """Written by a program: by name (``*.pb.go``; config ``generated-code``)
        or by the header generators write (``// Code generated ... DO NOT EDIT.``)."""
        return self.kinds.is_generated(self.path, self.source.data, self.language)

    def add(self, rule: Rule, span: Span, message: str, fix: Fix | None,
            related: tuple[Location, ...] = (), severity: str | None = None) -> None:
        # A custom rule's mistake fails in the rule (a notice naming it), not
        # later in a reporter where nobody can tell which rule it was.
        if not isinstance(message, str):
            raise TypeError(f"report(): message must be a str, got {type(message).__name__}")
        if fix is not None and not isinstance(fix, Fix):
            raise TypeError(f"report(): fix must come from self.fix(...), got {type(fix).__name__}")
        src = self.source
        level = self._severities.get(rule.id, Severity(rule.severity))
        if severity is not None and level is Severity(rule.severity):
            level = Severity(severity)  # the config did not re-level this rule
        line_text = src.quotable_line(span.start_line - 1)
        self.findings.append(Finding(
            path=self.path,
            span=span,
            rule_id=rule.id,
            message=message,
            severity=level,
            rule_name=rule.name,
            fix=fix,
            related=related,
            snippet=src.snippet(span.start_byte, span.end_byte),
            line_text=line_text,
        ))
