"""A whole run: config -> rules -> files -> parallel checks -> sorted results."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field, replace

from . import pool, profiling
from .cache import Cache, open_for_run, salt
from .config import Config, ConfigError, drop_untrusted, located, validate_rules
from .discovery import NO_SUCH_PATH, Excluder, Target, discover
from .engine import Engine, Selection, resolve_selection
from .loader import Registry, rules_for
from .model import FileResult, Finding, Notice, NoticeKind, merge_order

# Below this many files a process pool costs more than it saves.
_PARALLEL_MIN_FILES = 24


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    files: int = 0  # files considered
    parsed: int = 0  # files parsed (the rest were prefiltered out or skipped)
    generated: int = 0  # files not linted because they are generated code
    enabled: list[str] = field(default_factory=list)
    registry: Registry | None = None
    root: str = "."  # where relative paths in the output are anchored
    hidden: list[Finding] = field(default_factory=list)  # by a baseline or --new-from-rev
    baseline_fixed: int = 0  # baseline entries that no longer occur
    hidden_unchanged_lines: int = 0  # of ``hidden``: those hidden by --new-from-rev (not by the baseline)

    @property
    def has_errors(self) -> bool:
        return any(n.is_error for n in self.notices)


def load(cfg: Config, *, select=None, extend_select=(), ignore=()) -> tuple[Registry, Selection]:
    """Load rules for ``cfg`` and resolve which run (raises ConfigError)."""
    registry = rules_for(cfg)
    cli = Config(select=select, extend_select=list(extend_select), ignore=list(ignore), root=cfg.root)
    try:
        validate_rules(cli, registry.rules, registry.packs, lambda rid: registry.rules[rid].meta.options)
    except ConfigError as e:  # "select: ..." -> "--select: ...": the option, not the config key
        raise ConfigError(f"--{e}") from e
    try:
        validate_rules(cfg, registry.rules, registry.packs, lambda rid: registry.rules[rid].meta.options)
    except ConfigError as e:  # name the config file and the key's line
        raise ConfigError(located(cfg.path, str(e))) from e
    if not cfg.trusted:
        dropped = drop_untrusted(cfg, lambda rid: registry.rules[rid].meta.options)
        if dropped:
            registry.notices.append(Notice(NoticeKind.SKIPPED, cfg.path or cfg.root,
                                           "repository code not trusted; ignored: " + ", ".join(dropped)))
    return registry, resolve_selection(cfg, registry, select=select, extend_select=extend_select, ignore=ignore)


# ---- worker processes: one Engine each, built once ----
_ENGINE: Engine | None = None


def _init_worker(cfg: Config, selection: Selection, cwd: str, cache_salt: str | None,
                 profile: bool = False) -> None:
    global _ENGINE
    if profile:
        profiling.enable()
    registry = rules_for(cfg)  # cached in sys.modules under fork
    _ENGINE = Engine(cfg, registry, selection, cwd=cwd, cache=_cache(cfg, cache_salt))


def _cache(cfg: Config, cache_salt: str | None) -> Cache | None:
    return Cache(cfg.root, cache_salt) if cache_salt else None


def _bounded_jobs(wanted: int, notices: list[Notice]) -> int:
    """Worker processes: as many as asked, but never more than the CPUs we may use
    (a repository's config saying ``jobs = 100000`` must not fork 100,000 workers)."""
    cpus = pool.cpu_count()
    if wanted > cpus:
        notices.append(Notice(NoticeKind.SKIPPED, "jobs",
                              f"{wanted} worker processes asked for, but only {cpus} CPUs available; using {cpus}"))
    return min(wanted, cpus) if wanted else cpus


def shard_of(path: str, shards: int) -> int:
    """Deterministic shard (0-based) of a file: stable whatever else changes in the repo."""
    return int(hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()[:8], 16) % shards


def _check_chunk(chunk: list[Target]):
    assert _ENGINE is not None
    with profiling.timed("check (read, parse, rules)"):
        results = [_ENGINE.check(t.path, t.language) for t in chunk]
    if _ENGINE.cache is not None:
        _ENGINE.cache.flush()  # one transaction per chunk
    return results, profiling.take()


def run(paths, cfg: Config, registry: Registry, selection: Selection, *, jobs: int = 0,
        force_exclude: bool = False, cwd: str | None = None, use_cache: bool = False,
        shard: tuple[int, int] | None = None, progress=None, profile: Counter | None = None) -> RunResult:
    """Lint ``paths``. ``shard`` = (K, N) keeps the K-th of N deterministic parts (1-based);
    ``progress(n, total)`` is called as files complete; ``profile`` (a Counter) collects timings."""
    cwd = cwd or os.getcwd()
    result = RunResult(enabled=selection.enabled, registry=registry, root=cfg.root)
    result.notices.extend(registry.notices)
    excluder = Excluder(cfg.excludes, cfg.root)
    if profile is not None:
        profiling.enable()
    with profiling.timed("discover files"):
        targets, problems = discover(paths, excluder, respect_gitignore=cfg.respect_gitignore,
                                     force_exclude=force_exclude, cwd=cwd)
    for path, message in problems:
        # a path that does not exist is a typo, not a clean run (ruff's E902): exit 2
        kind = NoticeKind.USAGE if message == NO_SUCH_PATH else NoticeKind.SKIPPED
        result.notices.append(Notice(kind, path, message))
    if shard is not None:
        k, n = shard
        targets = [t for t in targets if shard_of(t.path, n) == k - 1]
    result.files = len(targets)
    cache_salt = open_for_run(cfg.root, salt(selection.enabled, registry, selection, cfg), result.notices) \
        if use_cache else None  # checks and creates the database before any worker opens it

    jobs = _bounded_jobs(jobs or cfg.jobs, result.notices)
    if jobs == 1 or len(targets) < _PARALLEL_MIN_FILES:
        engine = Engine(cfg, registry, selection, cwd=cwd, cache=_cache(cfg, cache_salt))
        file_results = []
        for t in targets:
            with profiling.timed("check (read, parse, rules)"):
                file_results.append(engine.check(t.path, t.language))
            if progress:
                progress(1, len(targets))
        if engine.cache is not None:
            engine.cache.close()
    else:
        # Many small chunks balance uneven file sizes; order is restored by sorting.
        n = max(1, min(64, len(targets) // (jobs * 8)))
        chunks = [targets[i:i + n] for i in range(0, len(targets), n)]
        file_results = []

        def done(chunk, value):
            rs, stats = value
            file_results.extend(rs)
            if stats and profile is not None:
                profile.update(stats)
            if progress:
                progress(len(rs), len(targets))

        def crashed(target: Target, exitcode) -> None:
            file_results.append(FileResult(target.path, notices=[Notice(
                NoticeKind.INTERNAL_ERROR, target.path,
                f"the parser or a rule crashed on this file ({pool.describe_exit(exitcode)}); skipped")]))
            if progress:
                progress(1, len(targets))

        pool.run_chunks(chunks, jobs, _init_worker, (cfg, selection, cwd, cache_salt, profile is not None),
                        _check_chunk, done, crashed)

    for fr in file_results:
        result.findings.extend(fr.findings)
        result.suppressed.extend(fr.suppressed)
        result.notices.extend(fr.notices)
        result.parsed += fr.parsed
        result.generated += fr.generated
    # each file's findings are sorted: merge them without comparing dataclasses
    result.findings = assign_fingerprints(sorted(result.findings, key=merge_order))
    result.suppressed = assign_fingerprints(sorted(result.suppressed, key=merge_order))
    result.notices.sort(key=lambda n: (not n.is_error, n.path, n.message))
    if profile is not None:
        profile.update(profiling.take() or {})
        profiling.stats = None
    return result


def fingerprint_base(f: Finding) -> str:
    """The fingerprint without its occurrence index (see ``assign_fingerprints``)."""
    key = "\0".join((f.rule_id, "".join(f.snippet.split()), "".join(f.line_text.split())))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def assign_fingerprints(findings: list[Finding]) -> list[Finding]:
    """A fingerprint per finding that survives unrelated edits.

    Hash of rule id, the flagged code and its source line with all whitespace
    removed (so reformatting and lines added elsewhere do not change it), plus
    the occurrence index among identical hashes in the same file (so two
    identical findings stay distinct). The path is not hashed: the fingerprint
    is read next to the path (SARIF, baselines) and must not depend on the
    directory cnlint ran from. ``findings`` must be sorted.
    """
    seen: dict[tuple[str, str], int] = {}
    out = []
    for f in findings:
        base = fingerprint_base(f)
        k = seen.get((f.path, base), 0)
        seen[(f.path, base)] = k + 1
        out.append(replace(f, fingerprint=f"{base}:{k + 1}"))
    return out
