"""libcst backend: Python (.py, .pyi).

A Python rule is a libcst ``BatchableCSTVisitor`` (Fixit's shape): write
``visit_Call(self, node)`` and friends and call ``self.report(node, message,
replacement=new_node)``. All Python rules of a file run in ONE traversal of one
parsed module (``python_walk``). ``self.qualified_names(node)`` resolves imports
through the scopes the walk is in (``python_names``) and ``ParentNodeProvider``
comes from the walk itself, both without libcst's metadata passes; any other
metadata a rule declares in ``METADATA_DEPENDENCIES`` (``ScopeProvider``, or
``QualifiedNameProvider`` for libcst's exact scope analysis) is computed by
libcst, and only when an active rule declared it.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, Callable, ClassVar, Iterable

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, QualifiedNameProvider

from .. import profiling, timeouts
from ..context import FileContext
from ..model import Fix
from ..rule import Rule
from ..source import BOM
from .python_incremental import IncrementalModule
from .python_names import Scopes
from .python_spans import SpanIndex
from .python_walk import ParentMap, Walker


class PythonRule(Rule, cst.BatchableCSTVisitor):
    METADATA_DEPENDENCIES: ClassVar[tuple] = ()
    languages: ClassVar[tuple[str, ...]] = ("python",)

    def __init__(self, options: dict[str, Any] | None = None):
        Rule.__init__(self, options)
        cst.BatchableCSTVisitor.__init__(self)
        self._crashed = False
        self._on_crash: Callable[[Rule, Exception], None] | None = None

    @classmethod
    def backend(cls) -> str:
        return "libcst"

    def byte_range(self, node: Any) -> tuple[int, int]:
        if isinstance(node, cst.CSTNode):
            start, end = self.ctx._py_spans.span(node)
            # libcst counts bytes after a UTF-8 byte order mark; the file's bytes include it
            shift = 3 if self.ctx.source.data.startswith(BOM) else 0
            return start + shift, end + shift
        return super().byte_range(node)

    def report(self, node: Any, message: str, *, fix: Fix | None = None,
               replacement: cst.CSTNode | None = None, applicability: str = "safe",
               related: Iterable[tuple[Any, str]] = (), end: Any = None, severity: str | None = None) -> None:
        """As ``Rule.report``; ``replacement`` is a libcst node that replaces
        ``node`` (turned into a text edit with the module's formatting)."""
        if replacement is not None and fix is None:
            start = self.byte_range(node)[0]
            code = _reindent(self.ctx.tree.code_for_node(replacement), self.ctx.source, start)
            fix = self.fix(f"Replace with `{_short(code)}`", self.edit(node, code),
                           applicability=applicability)
        super().report(node, message, fix=fix, related=related, end=end, severity=severity)

    # ---- helpers for rule authors ----
    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Fully qualified names a ``Name`` or ``a.b.c`` attribute chain may refer
        to, e.g. ``{"requests.get"}`` for ``get`` after ``from requests import get``.
        Uses libcst's QualifiedNameProvider if the rule declared it."""
        if QualifiedNameProvider in self.get_inherited_dependencies():
            return {q.name for q in self.get_metadata(QualifiedNameProvider, node, set())}
        return self.ctx._py_scopes.qualified_names(node)

    def get_visitors(self):
        # Guard each visitor so one crashing rule cannot abort the shared traversal.
        def guard(fn):
            def run(node):
                if self._crashed:
                    return None
                t = time.perf_counter() if profiling.stats is not None else 0.0
                timeouts.running = self
                try:
                    return fn(node)
                except (Exception, timeouts.RuleTimeout) as e:
                    self._crashed = True
                    if self._on_crash:
                        self._on_crash(self, e)
                    return None
                finally:
                    timeouts.running = None
                    if t:
                        profiling.add("rule " + self.id, time.perf_counter() - t)
            return run

        # built once per rule instance: libcst finds the methods with inspect.getmembers
        # (8 ms per rule), and the guards read the rule's state when they run
        visitors = self.__dict__.get("_guarded_visitors")
        if visitors is None:
            visitors = self._guarded_visitors = {name: guard(fn) for name, fn in super().get_visitors().items()}
        return visitors


def _reindent(code: str, source, start_byte: int) -> str:
    """``code_for_node`` renders a node at column 0: give its continuation lines
    the indentation of the line the replaced node starts on."""
    if "\n" not in code:
        return code
    line = source.line_text(source.line_of(start_byte))
    indent = line[: len(line) - len(line.lstrip())]
    first, *rest = code.split("\n")
    return "\n".join([first] + [indent + x if x.strip() else x for x in rest])


def _short(code: str, n: int = 60) -> str:
    code = " ".join(code.split())
    return code if len(code) <= n else code[: n - 1] + "…"


# Python code that walks a libcst tree (this backend, libcst's metadata, the
# rules) recurses once or twice per level of nesting. python_depth lets through
# files up to 3,000 `elif` branches and 1,200 chained operators; the default
# limit of 1,000 frames is too low for them, and on CPython 3.11+ calls between
# Python functions take no C stack, so the limit can be raised while a file is
# checked (and is put back afterwards, whatever happened). Before 3.11 each of
# those frames also takes C stack: a lower limit turns the deepest files into a
# RecursionError (skipped with a notice) instead of a stack overflow.
_RECURSION_LIMIT = 30_000 if sys.version_info >= (3, 11) else 6_000


@contextlib.contextmanager
def deep_recursion():
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, _RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def parse(ctx: FileContext, document: IncrementalModule | None = None) -> cst.Module:
    """Parse the file, or (language server) only what changed since ``document`` was parsed."""
    module = document.parse(ctx.source.text) if document is not None else cst.parse_module(ctx.source.text)
    ctx.tree = module
    ctx._py_document = document
    return module


def syntax_error_position(ctx: FileContext, e: cst.ParserSyntaxError) -> tuple[int, int]:
    """Byte range for a libcst parse error (raw_line is 1-based, raw_column 0-based code points)."""
    starts = ctx.source.line_starts
    line0 = min(max(e.raw_line - 1, 0), len(starts) - 1)
    start = ctx.source.byte_of_codepoint(line0, max(e.raw_column, 0))
    return start, start


def run_rules(ctx: FileContext, rules: Iterable[PythonRule], on_crash) -> None:
    rules = list(rules)
    if not rules:
        return
    for r in rules:
        r.ctx = ctx
        r._crashed = False
        r._on_crash = on_crash
    module = ctx.tree
    deps = set().union(*(r.get_inherited_dependencies() for r in rules))
    parents = ParentMap(module)
    doc = getattr(ctx, "_py_document", None)
    ctx._py_spans = SpanIndex(module, parents) if doc is None else SpanIndex(
        module, parents, doc.spans, doc.byte_starts())
    try:
        with profiling.timed("libcst metadata"):
            # unsafe_skip_copy: the metadata must be keyed by the very nodes the rules see
            resolved = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many(deps - {ParentNodeProvider})
        resolved[ParentNodeProvider] = parents
        visitors: dict[str, list] = {}
        for r in rules:
            r.metadata = {k: resolved[k] for k in r.get_inherited_dependencies()}
            for name, fn in r.get_visitors().items():
                visitors.setdefault(name, []).append(fn)
        ctx._py_scopes = Scopes(module)
        with profiling.timed("python rules traversal"):
            # parents are recorded on the way only when a rule asks for them (memory)
            walk_parents = parents if ParentNodeProvider in deps else None
            Walker(visitors, walk_parents, ctx._py_scopes, ctx._py_spans.enter_statement).walk(module)
    except Exception as e:  # metadata resolution or the walk itself failed: blame every rule of the batch
        for r in rules:
            if not r._crashed:
                on_crash(r, e)
    finally:
        for r in rules:
            # let this file's tree go now, not when the next file's rules start: two
            # large trees alive at once set a worker's peak memory
            r.metadata = {}
            r.ctx = None
