"""The rule API shared by built-in and custom rules.

A rule is a class: metadata as class attributes (ESLint's ``meta``), a check as
methods (Fixit's visitors). The backend base classes in ``cnlint.backends``
add the check protocol for tree-sitter (Go, TypeScript, TSX, JavaScript) and
libcst (Python). One concept keeps one id across languages: write the metadata
once in a base class and subclass it per backend::

    class TlsVerifyDisabled(Rule):          # metadata only
        id = "SEC001"; name = "tls-verification-disabled"; ...

    class TlsVerifyDisabledGo(TlsVerifyDisabled, TreeSitterRule):
        languages = ("go",)
        query = "..."
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable

from .model import Applicability, Edit, Finding, Fix, Location, Severity, Span

HELP_SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead")
#: A pack prefix (capitals, digits inside: K8S) and a 3-4 digit number.
ID_RE = re.compile(r"^(?P<pack>[A-Z](?:[A-Z0-9]{0,3}[A-Z])?)[0-9]{3,4}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")

#: Topic packs: an id's letters name its pack, and ``select`` accepts either.
PACKS = {
    "CN": "core",
    "SEC": "security",
    "PERF": "go-performance",
    "ESM": "node-modules",
    "K8S": "kubernetes",
    "NET": "network",
}

DOCS_URL = "https://github.com/cnlint/cnlint/blob/main/docs/rules/{id}.md"


@dataclass(frozen=True)
class Option:
    """A rule option with its default; the type of the default is enforced.

    ``choices``: the only values allowed. ``trusted_only``: the option names a
    program cnlint would run (a toolchain, a mode that builds the code); where
    the repository is not trusted (docs/security.md) it keeps its default."""

    default: Any
    description: str = ""
    choices: tuple = ()
    trusted_only: bool = False

    def coerce(self, value: Any, where: str) -> Any:
        if self.choices:
            if isinstance(value, str) and value in self.choices:
                return value
            raise ValueError(f"{where}: expected one of {', '.join(map(str, self.choices))}, got {value!r}")
        d = self.default
        ok = (
            isinstance(value, bool) if isinstance(d, bool)
            else isinstance(value, (int, float)) and not isinstance(value, bool) if isinstance(d, (int, float))
            else isinstance(value, (list, tuple)) if isinstance(d, (list, tuple))
            else isinstance(value, type(d)) if d is not None
            else True
        )
        if not ok:
            raise ValueError(f"{where}: expected {type(d).__name__}, got {value!r}")
        return tuple(value) if isinstance(d, tuple) else value


class Rule:
    # ---- metadata (override in subclasses) ----
    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    help: ClassVar[str] = ""  # markdown with HELP_SECTIONS
    severity: ClassVar[str] = "warning"  # error | warning | note
    tags: ClassVar[tuple[str, ...]] = ()
    precision: ClassVar[str] = "high"  # high | medium | low
    security_severity: ClassVar[float | None] = None  # CVSS-like 0.0-10.0, security rules
    languages: ClassVar[tuple[str, ...]] = ()
    options: ClassVar[dict[str, Option]] = {}
    #: Fix kind the rule can offer: None, "safe", "unsafe" or "suggestion".
    fixable: ClassVar[str | None] = None
    enabled_by_default: ClassVar[bool] = True
    #: Prefilter: the rule can only match a file containing one of these words
    #: (raw bytes search before parsing). Empty means "always run".
    requires: ClassVar[tuple[str, ...]] = ()
    #: The rule reads project facts (self.ctx.project: package.json, go.mod, ...):
    #: cached results are keyed on those files' stamps too.
    uses_project: ClassVar[bool] = False
    #: Set by the engine for rules without a backend of their own (syntax errors).
    builtin_pseudo: ClassVar[bool] = False

    def cache_inputs(self, directory: str) -> str:
        """Stamps of the files outside the project manifests that this rule
        reads for a file in ``directory`` (a repository's Kubernetes YAML, ...):
        part of the cache key of every file that passes ``requires``."""
        return ""

    def __init__(self, options: dict[str, Any] | None = None):
        merged = {k: o.default for k, o in type(self).options.items()}
        merged.update(options or {})
        self.options = merged
        self.ctx: FileContextLike | None = None  # set by the backend per file

    # ---- derived metadata ----
    @classmethod
    def pack(cls) -> str:
        m = ID_RE.match(cls.id)
        return PACKS.get(m.group("pack"), m.group("pack").lower()) if m else ""

    @classmethod
    def docs_url(cls) -> str:
        return DOCS_URL.format(id=cls.id)

    @classmethod
    def backend(cls) -> str:
        return ""

    # ---- reporting ----
    def report(
        self,
        node: Any,
        message: str,
        *,
        fix: Fix | None = None,
        related: Iterable[tuple[Any, str]] = (),
        end: Any = None,
        severity: str | None = None,
    ) -> None:
        """Report ``node`` (a syntax node, or a ``(start_byte, end_byte)`` pair).

        ``end`` extends the span to the end of another node. ``related`` is a
        list of ``(node, message)`` for other places that explain the finding
        (a ``Location`` instead of a node points into another file).
        ``severity`` overrides the rule's default for this finding (a milder
        variant of the problem); a severity set in the user's config still wins.
        """
        ctx = self.ctx
        start, stop = self.byte_range(node)
        if end is not None:
            stop = self.byte_range(end)[1]
        rel = tuple(
            Location(n.path, n.span, m) if isinstance(n, Location)  # another file (a manifest)
            else Location(ctx.path, ctx.source.span(*self.byte_range(n)), m) for n, m in related
        )
        ctx.add(self, ctx.source.span(start, stop), message, fix, rel, severity)

    def byte_range(self, node: Any) -> tuple[int, int]:
        if isinstance(node, tuple):
            return node
        raise TypeError(f"{type(self).__name__}: cannot report a {type(node).__name__}")

    def edit(self, node: Any, text: str) -> Edit:
        """A text edit replacing ``node`` (or a byte range) with ``text``."""
        start, stop = self.byte_range(node)
        return Edit(self.ctx.source.span(start, stop), text)

    def insert(self, byte: int, text: str) -> Edit:
        return Edit(self.ctx.source.span(byte, byte), text)

    @staticmethod
    def fix(description: str, *edits: Edit, applicability: str | Applicability = "safe") -> Fix:
        return Fix(description, tuple(sorted(edits)), Applicability(applicability))


class EngineRule(Rule):
    """A rule the engine itself checks (syntax errors, unused suppressions):
    it has metadata, a help page and an id like any rule, but no visitor."""

    builtin_pseudo: ClassVar[bool] = True

    @classmethod
    def backend(cls) -> str:
        return "engine"


class FileContextLike:  # documentation of what ``rule.ctx`` offers; see context.py
    path: str
    language: str
    source: Any
    tree: Any
    project: Any
    go: Any  # the Go semantic layer (cnlint.golang.GoSemantics) of a Go file

    def add(self, rule: Rule, span: Span, message: str, fix: Fix | None,
            related: tuple[Location, ...], severity: str | None = None) -> None: ...


def validate_metadata(cls: type[Rule]) -> list[str]:
    """Problems with a rule class's metadata, as readable sentences."""
    errs = []
    if not ID_RE.match(cls.id or ""):
        errs.append(f"id {cls.id!r} must look like ABC123 or K8S001 (a capitalised prefix, 3-4 digits)")
    if not NAME_RE.match(cls.name or ""):
        errs.append(f"name {cls.name!r} must be kebab-case")
    if not cls.summary:
        errs.append("summary is empty")
    try:
        Severity(cls.severity)
    except ValueError:
        errs.append(f"severity {cls.severity!r} must be error, warning or note")
    if cls.precision not in ("high", "medium", "low"):
        errs.append(f"precision {cls.precision!r} must be high, medium or low")
    if cls.fixable not in (None, "safe", "unsafe", "suggestion"):
        errs.append(f"fixable {cls.fixable!r} must be None, safe, unsafe or suggestion")
    if cls.security_severity is not None and not 0 <= float(cls.security_severity) <= 10:
        errs.append("security_severity must be between 0 and 10")
    if not cls.builtin_pseudo and not cls.languages:
        errs.append("languages is empty")
    return errs


__all__ = ["Rule", "Option", "Finding", "Fix", "Edit", "Applicability", "Severity", "EngineRule"]
