"""Checking one file: read, prefilter, parse once, run every rule, suppress.

An ``Engine`` is built once per process (rules instantiated with their
options, queries compiled lazily once) and then checks files one by one.
"""

from __future__ import annotations

import os
import stat
import traceback
from dataclasses import dataclass, field, replace

import pathspec

from . import languages
from .cache import Cache, project_stamp
from .backends import parse_gaps, treesitter as ts_backend
from .code_kinds import CodeKinds
from .config import Config, matches, specificity
from .context import FileContext
from .loader import Registry
from .model import FileResult, Finding, Notice, NoticeKind, Severity
from .rule import Rule
from .source import BOM, SourceFile
from . import profiling, suppressions, timeouts

SYNTAX_ERROR = "CN001"
UNUSED_SUPPRESSION = "CN002"
_WHERE = {"ignore-file": "in this file", "ignore-next-line": "on the next line"}
_BINARY_SNIFF = 8192


@dataclass
class Selection:
    """Which rules run and how severe they are, resolved from config + CLI."""

    enabled: list[str]
    severities: dict[str, Severity]
    options: dict[str, dict]
    per_file_ignores: list[tuple[pathspec.PathSpec, tuple[str, ...]]] = field(default_factory=list)


def resolve_selection(cfg: Config, registry: Registry, *, select=None, extend_select=(),
                      ignore=()) -> Selection:
    # ruff's rule: `--select` on the command line replaces the config's select
    # *and* extend-select; `--extend-select` on the command line still adds
    extra = (list(cfg.extend_select) if select is None else []) + list(extend_select)
    select = select if select is not None else cfg.select
    ignore = list(cfg.ignore) + list(ignore)
    enabled = []
    for rid, info in sorted(registry.rules.items()):
        pack = info.meta.pack()
        chosen = [s for s in (select or []) + extra if matches(s, rid, pack)]
        if select is None and not chosen:
            on = info.meta.enabled_by_default
            best_on = 0
        else:
            on = bool(chosen)
            best_on = max((specificity(s) for s in chosen), default=-1)
        dropped = [s for s in ignore if matches(s, rid, pack)]
        # ruff's rule: the more specific selector wins; on a tie, ignore wins
        if on and dropped and max(specificity(s) for s in dropped) >= best_on:
            on = False
        if on:
            enabled.append(rid)
    severities = {}
    for rid, info in registry.rules.items():
        best = None
        for sel, level in cfg.severity.items():
            if matches(sel, rid, info.meta.pack()) and (best is None or specificity(sel) >= best[0]):
                best = (specificity(sel), level)
        severities[rid] = Severity(best[1] if best else info.meta.severity)
    pfi = [(pathspec.GitIgnoreSpec.from_lines([glob]), tuple(ids)) for glob, ids in cfg.per_file_ignores.items()]
    return Selection(enabled, severities, dict(cfg.options), pfi)


# A libcst tree takes ~500 bytes per source byte, allocated with malloc, which
# keeps the pages after the tree is freed: without giving them back, a worker
# stays at the size of the largest Python file it has seen, and the workers'
# high-water marks add up (480 MB on the Python standard library; 408 MB with
# this). Only after the largest files: trimming costs page faults later (11 CPU s
# over the stdlib when done after every file over 64 KB, 2 s above 160 KB).
_TRIM_AFTER_BYTES = 160 * 1024
_malloc_trim = None


def _release_memory() -> None:
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL(None).malloc_trim  # glibc only
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


class Engine:
    def __init__(self, cfg: Config, registry: Registry, selection: Selection, *,
                 cwd: str | None = None, cache: Cache | None = None):
        self.cfg = cfg
        self.cache = cache
        self.registry = registry
        self.selection = selection
        self.cwd = cwd or os.getcwd()
        self.code_kinds = CodeKinds.from_config(cfg, self.cwd)
        self.enabled = set(selection.enabled)
        # language -> rule instances (one instance per class per process)
        self.rules: dict[str, list[Rule]] = {lang: [] for lang in languages.ALL}
        instances: dict[type, Rule] = {}
        for rid in selection.enabled:
            info = registry.rules[rid]
            for lang, cls in info.impls.items():
                if cls.backend() == "engine":
                    continue
                if cls not in instances:
                    instances[cls] = cls(selection.options.get(rid, {}))
                self.rules[lang].append(instances[cls])
        self._uses_project = any(getattr(r, "uses_project", False) for rs in self.rules.values() for r in rs)
        # path -> incremental parse state of open documents; set by the language
        # server, None for batch runs (every file is parsed once)
        self.documents: dict | None = None
        self._stamps: dict[tuple[str, str], str] = {}  # project stamps of this run, per directory
        self._enclosing: dict[str, list[str]] = {}  # stamps of enclosing directories' project files
        self._prefilter = {lang: [(r, tuple(w.encode() for w in r.requires)) for r in rs]
                           for lang, rs in self.rules.items()}
        # rules that read files beyond the project manifests (Rule.cache_inputs)
        self._extra_inputs = {lang: [(r, words) for r, words in rs if type(r).cache_inputs is not Rule.cache_inputs]
                              for lang, rs in self._prefilter.items()}

    # ---- one file ----
    def check(self, path: str, language: str, data: bytes | None = None,
              only: tuple[str, ...] | None = None) -> FileResult:
        """Check one file; ``data`` is the unsaved text (editor, fixes), else the
        file is read. ``only`` restricts the run to these rule ids (enabled or not
        for the engine rules CN001/CN002)."""
        result = FileResult(path)
        if data is None:
            try:
                with open(os.path.join(self.cwd, path), "rb") as f:
                    # read() of a file known to fit is ~3x cheaper than read(n) with a
                    # large n (no max-size buffer to allocate and shrink per file)
                    limit = self.cfg.max_file_size + 1
                    st = os.fstat(f.fileno())
                    data = f.read() if stat.S_ISREG(st.st_mode) and st.st_size < limit else f.read(limit)
            except OSError as e:
                result.notices.append(Notice(NoticeKind.SKIPPED, path, f"cannot read: {e.strerror}"))
                return result
        if self.cfg.skip_generated_code and self.code_kinds.is_generated(path, data, language):
            result.generated = True  # counted, not linted: before the cache, it costs a glob and a regex
            return result
        if self.cache is None or only is not None:
            return self._check(result, path, language, data, only)
        extra = ""
        if self._uses_project:
            ext = ".go" if language == languages.GO else ""
            where = (os.path.dirname(os.path.join(self.cwd, path)), ext)
            extra = self._stamps.get(where)
            if extra is None:  # once per directory and run: ~80 stat calls each
                extra = self._stamps[where] = project_stamp(*where, memo=self._enclosing)
        for rule, words in self._extra_inputs[language]:
            if not words or any(w in data for w in words):  # only files the rule may read them for
                extra += "|" + rule.cache_inputs(os.path.dirname(os.path.join(self.cwd, path)))
        key = self.cache.key(path, data, extra)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        result = self._check(result, path, language, data, only)
        if not any(n.is_error for n in result.notices):
            self.cache.put(key, result)
        return result

    def forget_project_stamps(self) -> None:
        """After writing files (fixes): the directories' stamps changed."""
        self._stamps.clear()
        self._enclosing.clear()

    def _check(self, result: FileResult, path: str, language: str, data: bytes,
               only: tuple[str, ...] | None) -> FileResult:
        if len(data) > self.cfg.max_file_size:
            result.notices.append(Notice(NoticeKind.SKIPPED, path,
                                         f"larger than max-file-size ({self.cfg.max_file_size} bytes)"))
            return result
        if b"\0" in data[:_BINARY_SNIFF]:
            result.notices.append(Notice(NoticeKind.SKIPPED, path, "binary file"))
            return result
        try:
            source = SourceFile(path, data)
            source.text  # noqa: B018 - decode now to reject bad encodings early
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            result.notices.append(Notice(NoticeKind.SKIPPED, path,
                                         f"not valid UTF-8 (line {line}, byte offset {e.start})"))
            return result

        enabled = self.enabled if only is None else set(only)
        active = [r for r in self._active_rules(language, data) if r.id in enabled]
        want_unused = UNUSED_SUPPRESSION in enabled and suppressions.has_marker(data)
        if not active and not want_unused and SYNTAX_ERROR not in enabled:
            profiling.add("files prefiltered out (not parsed)", 1)
            return result  # prefilter: no rule can match, so do not even parse

        ctx = FileContext(path, language, source, self.selection.severities, self.code_kinds)
        result.parsed = True

        def on_crash(rule: Rule, exc: BaseException) -> None:
            if isinstance(exc, timeouts.RuleTimeout):
                # a resource bound like max-file-size, not a broken rule: a warning
                # (a committed minified bundle must not fail CI), and the other rules' findings stand
                result.notices.append(Notice(NoticeKind.SKIPPED, path,
                                             f"rule {rule.id} ({type(rule).__name__}) stopped: {exc}", rule.id))
                return
            frame = traceback.extract_tb(exc.__traceback__)[-1:]
            where = f" at {os.path.basename(frame[0].filename)}:{frame[0].lineno}" if frame else ""
            result.notices.append(Notice(NoticeKind.INTERNAL_ERROR, path,
                                         f"rule {rule.id} ({type(rule).__name__}) crashed{where}: "
                                         f"{type(exc).__name__}: {exc}", rule.id))

        syntax = SYNTAX_ERROR in enabled
        try:
            with timeouts.limit(self.cfg.rule_timeout):
                if language == languages.PYTHON:
                    skipped = self._run_python(ctx, active, on_crash, syntax)
                    if skipped:
                        result.notices.append(Notice(NoticeKind.SKIPPED, path, skipped))
                else:
                    self._run_treesitter(ctx, active, on_crash, syntax, result.notices)
        except timeouts.RuleTimeout as e:  # raised just as the rule returned: the rest of the file is lost
            on_crash(e.rule, e)

        findings = [f for f in ctx.findings if f.rule_id in enabled]
        findings = self._per_file_ignores(path, findings)
        with profiling.timed("suppressions"):
            directives = suppressions.parse_directives(ctx)
        kept, suppressed = suppressions.apply(findings, directives, ctx)
        if want_unused:
            # A rule enabled in this run that reported nothing here (prefiltered
            # out, or not written for this language) cannot need the suppression;
            # a rule that crashed on this file might, so it is left out.
            crashed = {n.rule_id for n in result.notices}
            kept += self._unused(ctx, directives, enabled - crashed)
        result.findings = sorted(kept)
        result.suppressed = sorted(replace(f, suppressed_by=d.reason) for f, d in suppressed)
        if language == languages.PYTHON and len(data) > _TRIM_AFTER_BYTES and self.documents is None:
            del ctx  # the last reference to the libcst tree
            _release_memory()
        return result

    def _active_rules(self, language: str, data: bytes) -> list[Rule]:
        return [r for r, words in self._prefilter.get(language, ())
                if not words or any(w in data for w in words)]

    def _run_treesitter(self, ctx: FileContext, active, on_crash, syntax: bool, notices: list[Notice]) -> None:
        with profiling.timed(f"parse {ctx.language}"):
            tree = ts_backend.parse(ctx)
        if tree.root_node.has_error:
            # judged whether CN001 is selected or not: a file is never linted in part silently
            with profiling.timed("judge parse errors"):
                problems = parse_gaps.check(ctx.language, ctx.source.data, tree)
            if problems.repaired is not None:
                ctx.tree = problems.repaired
            elif problems.error and syntax:
                self._syntax_error(ctx, *problems.error)
            else:
                notices.append(Notice(NoticeKind.NOT_ANALYSED, ctx.path, self._unanalysed(ctx, problems)))
        ts_backend.run_rules(ctx, active, on_crash)

    @staticmethod
    def _unanalysed(ctx: FileContext, problems: parse_gaps.ParseProblems) -> str:
        lines = parse_gaps.describe_lines(parse_gaps.line_ranges(ctx.source.line_starts, problems.regions))
        if problems.error is None:
            return f"{lines} not analysed: {problems.gap_reason}; the rules checked the rest of the file"
        at = ctx.source.line_of(problems.error[0]) + 1
        return (f"does not parse (line {at}: {problems.error[2]}); {lines} not analysed, "
                "the rules checked the rest of the file")

    def _run_python(self, ctx: FileContext, active, on_crash, syntax: bool) -> str | None:
        """Parse and run the Python rules; the reason when the file was skipped."""
        import libcst as cst

        from .backends import python as py_backend
        from .backends.python_depth import too_deep

        if not active:
            # Only the syntax check wants this file: CPython's own parser is ~10x
            # faster than building a libcst tree nobody will visit.
            with profiling.timed("parse python (CPython ast, syntax only)"):
                self._python_syntax_only(ctx)
            return None
        with profiling.timed("nesting depth guard"):
            deep = too_deep(ctx.source.text)
        if deep:
            # libcst would crash the process or take minutes: CPython's parser
            # (hardened against deep input) may still name a syntax error
            if syntax and self._python_syntax_only(ctx):
                return None
            what, n, limit = deep
            return f"too deeply nested for the Python parser ({n} {what} > limit {limit}); skipped"
        with py_backend.deep_recursion():
            try:
                with profiling.timed("parse python (libcst)"):
                    py_backend.parse(ctx, self._document(ctx))
            except cst.ParserSyntaxError as e:
                # CPython's parser is the judge of what is Python, and pinpoints
                # errors better than libcst ("error at 2:0" for an unclosed
                # parameter list on line 1). Code CPython accepts but libcst cannot
                # parse (10,000 implicitly joined strings) is valid: no CN001, and
                # the file is skipped with a warning instead.
                error = self._python_syntax_only(ctx)
                if not error:
                    return f"the Python parser (libcst) cannot parse this valid file ({e.message.splitlines()[0]})" \
                           "; skipped"
                # without CN001 the error is still said: the file was not linted at all
                return None if syntax else f"does not parse ({error}); not linted"
            except (RecursionError, MemoryError) as e:
                return f"too deeply nested or too large for the Python parser ({type(e).__name__}); skipped"
            py_backend.run_rules(ctx, active, on_crash)
        return None

    def _document(self, ctx: FileContext):
        """The incremental parse state of an open editor document (language server only)."""
        if self.documents is None or ctx.source.data.startswith(BOM):
            return None
        doc = self.documents.get(ctx.path)
        if doc is None:
            from .backends.python_incremental import IncrementalModule

            doc = self.documents[ctx.path] = IncrementalModule()
        return doc

    def _python_syntax_only(self, ctx: FileContext) -> str | None:
        """Check syntax with CPython's parser; where and what the error is, if any."""
        import ast
        import warnings

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarning for odd escapes is not our business
                ast.parse(ctx.source.data, ctx.path, feature_version=None)
        except SyntaxError as e:
            line0 = max((e.lineno or 1) - 1, 0)
            if line0 >= len(ctx.source.line_starts):
                line0 = len(ctx.source.line_starts) - 1
            start = ctx.source.byte_of_codepoint(line0, max((e.offset or 1) - 1, 0))
            self._syntax_error(ctx, start, start, f"syntax error: {e.msg}")
            return f"line {line0 + 1}: syntax error: {e.msg}"
        except (ValueError, RecursionError, MemoryError):
            pass
        return None

    def _syntax_error(self, ctx: FileContext, start: int, stop: int, message: str) -> None:
        meta = self.registry.rules[SYNTAX_ERROR].meta
        ctx.add(meta(), ctx.source.span(start, stop), message, None)

    def _unused(self, ctx: FileContext, directives, ran: set[str]) -> list[Finding]:
        rule = self.registry.rules[UNUSED_SUPPRESSION].meta()
        # a context of its own: these findings must not pass through suppression again
        out_ctx = rule.ctx = FileContext(ctx.path, ctx.language, ctx.source, self.selection.severities, ctx.kinds)
        known = set(self.registry.rules)
        for d in directives:
            span = (d.start_byte, d.end_byte)
            if d.problem is not None:
                fix = None
                if d.replacement:
                    fix = rule.fix(f"Rewrite as `{d.replacement}`",
                                   rule.edit((d.start_byte, d.end_byte), d.replacement))
                rule.report(span, f"malformed suppression, it suppresses nothing: {d.problem}"
                                  + (f"; write `{d.replacement}`" if d.replacement else ""), fix=fix)
                continue
            if not d.ids:
                if not d.used:
                    rule.report(span, f"unused suppression `{d.kind}`: no finding here to ignore",
                                fix=self._removal(rule, d, []))
                continue
            unknown = [i for i in d.ids if i not in known]
            unused = [i for i in d.ids if i in ran and i not in d.used]
            if not unknown and not unused:
                continue
            keep = [i for i in d.ids if i not in unknown and i not in unused]
            # one fix per directive, on its first finding, so the two never overlap
            fix = self._removal(rule, d, keep)
            if unknown:
                rule.report(span, f"suppression names unknown rule{'s' * (len(unknown) > 1)} {', '.join(unknown)}",
                            fix=fix)
                fix = None
            if unused:
                rule.report(span, f"unused suppression: no {', '.join(unused)} finding "
                                  f"{_WHERE.get(d.kind, 'on this line')}", fix=fix)
        return out_ctx.findings

    @staticmethod
    def _removal(rule: Rule, d, keep: list[str]):
        start, end, text = suppressions.removal(d, keep, rule.ctx.source)
        what = f"keep only {', '.join(keep)}" if keep else "remove the suppression comment"
        return rule.fix(what.capitalize(), rule.edit((start, end), text))

    def _per_file_ignores(self, path: str, findings: list[Finding]) -> list[Finding]:
        if not self.selection.per_file_ignores or not findings:
            return findings
        rel = os.path.relpath(os.path.join(self.cwd, path), self.cfg.root).replace(os.sep, "/")
        dropped: list[str] = []
        for spec, ids in self.selection.per_file_ignores:
            if spec.match_file(rel):
                dropped.extend(ids)
        if not dropped:
            return findings
        return [f for f in findings
                if not any(matches(s, f.rule_id, self.registry.rules[f.rule_id].meta.pack()) for s in dropped)]
