"""The ``cnlint`` command line.

Exit codes follow ruff: 0 no findings, 1 findings, 2 usage, configuration or
internal error (a rule that crashed or failed to load).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from dataclasses import replace

import click

from . import __version__
from .config import FAIL_ON, Config, ConfigError, load_config, project_root
from .model import Severity
from .reporters.escape import escape, guard_line, json_safe, verbatim_in_ci
from .runner import load, run

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab", "checkstyle", "rdjson")


def _split(values) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _fail(message: str) -> None:
    click.echo(click.style("cnlint: error: ", fg="red", bold=True) + escape(message), err=True)
    sys.exit(EXIT_ERROR)


def _add_suppressions(result, cfg, registry, selection, reason: str, conflict) -> None:
    """``check --add-suppressions``: comment every reported finding, say what was done, exit."""
    from . import add_suppressions as adder
    from . import languages as langs
    from .engine import Engine
    from .fixes import ChangedMeanwhile, Refused, write_fixed

    if conflict:
        _fail("--add-suppressions works on files: not with `-` (stdin), --fix or --diff")
    if adder.reason_problem(reason):
        _fail(f"--add-suppressions: {adder.reason_problem(reason)}")
    engine = Engine(cfg, registry, selection)
    by_path: dict[str, list] = {}
    for f in result.findings:
        by_path.setdefault(f.path, []).append(f)
    added = files = 0
    failed = []
    for path, findings in sorted(by_path.items()):
        full = os.path.join(engine.cwd, path)
        try:
            with open(full, "rb") as fh:
                original = fh.read()
        except OSError as e:
            click.echo(f"{escape(path)}: not changed: cannot read it: {e.strerror}", err=True)
            failed += findings
            continue
        language = langs.detect(path, original[:512])
        if language is None:
            continue
        out = adder.add_to_file(engine, path, language, original, findings, reason)
        failed += out.failed
        if out.new != original:
            try:
                write_fixed(full, original, out.new, engine.cwd)
            except (ChangedMeanwhile, Refused, OSError) as e:
                click.echo(f"{escape(path)}: not changed: {getattr(e, 'strerror', None) or e}", err=True)
                failed += [f for f in findings if f not in out.failed]
                continue
            added += out.added
            files += 1
    for f in failed:
        click.echo(f"{escape(f.path)}:{f.span.start_line}:{f.span.start_column}: {f.rule_id}: no suppression "
                   "comment could be added here (a string, template literal or JSX text)", err=True)
    click.echo(f"Added suppressions for {added} finding{'s' * (added != 1)} in {files} file{'s' * (files != 1)}"
               + (f"; {len(failed)} could not be suppressed" if failed else "") + ".")
    sys.exit(EXIT_ERROR if result.has_errors else EXIT_FINDINGS if failed else EXIT_CLEAN)


def _load_config(config: str | None, paths, isolated: bool = False) -> object:
    start = paths[0] if paths else "."
    if isolated:
        if config:
            _fail("--isolated and --config cannot be used together")
        # built-in rules only: no config file, no plugins, nothing of the repository's
        return Config(root=project_root(start), plugins=[], trusted=False)
    try:
        return load_config(config, start)
    except ConfigError as e:
        _fail(str(e))


_ISOLATED = click.option("--isolated", is_flag=True,
                         help="Ignore every config file and run only the built-in rules (no plugins).")


def color_choice(flag: str | None, environ=os.environ) -> bool | None:
    """Colour or not: ``--color always|never`` first, then ``FORCE_COLOR`` (set, not "0")
    and ``NO_COLOR`` (set, https://no-color.org), then None: on a terminal only (click's check)."""
    if flag is not None:  # the command line beats the environment; auto: on a terminal only
        return {"always": True, "never": False}.get(flag)
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    if environ.get("NO_COLOR", ""):
        return False
    return None


def _set_color(ctx: click.Context, _param, value: str | None) -> None:
    # a subcommand's own --color wins; without it, the group's (inherited by ctx) stands
    if value is not None or ctx.color is None:
        ctx.color = color_choice(value)


_COLOR = click.option("--color", type=click.Choice(["auto", "always", "never"]), default=None, expose_value=False,
                      is_eager=True, callback=_set_color,
                      help="Colour the output: auto (default: on a terminal), always or never. Without it, "
                           "NO_COLOR turns colour off and FORCE_COLOR (not 0) turns it on.")


def _echo_notices(notices) -> None:
    """Notices in the one style of ``check``: ``cnlint: error|warning|note: path: message`` on stderr."""
    from .reporters.text import render_notices
    from .runner import RunResult

    click.echo(render_notices(RunResult(notices=list(notices))), err=True, nl=False)


class _UsageError(click.ClickException):
    """Every command-line mistake click finds (unknown option, bad value, missing
    file) printed in cnlint's one error style, ``cnlint: error: ...``, and exit 2."""

    exit_code = EXIT_ERROR

    def __init__(self, original: click.ClickException):
        super().__init__(original.format_message())
        self.ctx = getattr(original, "ctx", None)

    def show(self, file=None) -> None:
        color = self.ctx.color if self.ctx is not None else None
        click.echo(click.style("cnlint: error: ", fg="red", bold=True) + escape(self.message), err=True, color=color)
        if self.ctx is not None:
            click.echo(f"{self.ctx.get_usage()}\nTry '{self.ctx.command_path} --help' for help.", err=True,
                       color=color)


def _restyled(call, *args):
    try:
        return call(*args)
    except click.ClickException as e:
        if isinstance(e, _UsageError) or type(e).__name__ == "NoArgsIsHelpError":  # that one shows the help
            raise
        raise _UsageError(e) from None


class _Main(click.Group):
    def make_context(self, info_name, args, parent=None, **extra):
        return _restyled(super().make_context, info_name, args, parent, **extra)

    def invoke(self, ctx):
        try:
            return _restyled(super().invoke, ctx)
        except KeyboardInterrupt:
            # click would print "Aborted!" and exit 1, which reads as "findings"
            click.echo("\ncnlint: interrupted", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cnlint")
@_COLOR
def main() -> None:
    """cnlint: lint cloud-native Go, TypeScript/JavaScript and Python code."""


@main.command(short_help="Lint files and directories (default: the current directory).")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the report to this file instead of stdout.")
@click.option("--select", multiple=True, metavar="IDS",
              help="Rules to run (ids, id prefixes or pack names, comma-separated); replaces the config's "
                   "select and extend-select (the config's ignore still applies).")
@click.option("--extend-select", multiple=True, metavar="IDS",
              help="Rules to run in addition to the selected ones (added to the config's extend-select, "
                   "or to --select).")
@click.option("--ignore", multiple=True, metavar="IDS", help="Rules not to run (added to the config's ignore).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False),
              help="Config file (cnlint.toml or pyproject.toml); default: found by walking up from PATHS.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=None,
              help="Worker processes (default: all cores; 1 runs in-process).")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no source lines or summary when clean.")
@click.option("--statistics", is_flag=True, help="Also print the number of findings per rule.")
@click.option("--exit-zero", is_flag=True, help="Exit with 0 even when there are findings (same as --fail-on never).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default=None,
              help="The least severe finding that makes the exit code 1 (default: the config's fail-on, "
                   "else warning: notes are reported but do not fail).")
@click.option("--force-exclude", is_flag=True,
              help="Apply `exclude` to files named on the command line too (for pre-commit), and to "
                   "--stdin-filename.")
@click.option("--stdin-filename", metavar="PATH",
              help="Lint stdin (PATHS `-` or none) as the file PATH: its config, per-file-ignores and "
                   "language come from PATH (the file need not exist). With --fix, the fixed text is "
                   "printed to stdout and the findings left to stderr.")
@click.option("--include-suppressed", is_flag=True,
              help="Also report suppressed findings (text marks them [suppressed: reason]; json, sarif and "
                   "the CI formats carry them apart; never counted as found).")
@click.option("--sarif-output", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="Also write a SARIF 2.1.0 log to FILE (stdout keeps the --format output).")
@click.option("--sarif-all-rules", is_flag=True,
              help="List every enabled rule in the SARIF log, not only those that reported.")
@click.option("--sarif-category", metavar="TEXT",
              help="SARIF run category (runAutomationDetails.id), to upload several runs for one commit.")
@click.option("--sarif-root-uri", is_flag=True,
              help="Record the repository root's absolute file:// URI in the SARIF log (a local path; off by default).")
@click.option("--column-kind", type=click.Choice(["unicodeCodePoints", "utf16CodeUnits"]),
              default="unicodeCodePoints", show_default=True, help="Unit of SARIF column numbers.")
@click.option("--fix", is_flag=True, help="Apply safe fixes, then report what is left.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, also apply unsafe fixes.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff instead of writing them.")
@click.option("--add-suppressions", "add_suppressions", is_flag=False, flag_value="", default=None,
              metavar="[=REASON]",
              help="Write a `cnlint: ignore[ID] -- REASON` comment for every finding reported (ruff's "
                   "--add-noqa); a second run adds nothing. Give the reason with `=`.")
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit with 1 when --fix changed files (pre-commit).")
@click.option("--rule-option", "rule_options", multiple=True, metavar="ID.NAME=VALUE",
              help="Set a rule option, e.g. PERF001.mode=compiler (VALUE is TOML; bare words are strings).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the .cnlint_cache result cache.")
@click.option("--shard", metavar="K/N", help="Lint only the K-th of N deterministic parts of the files (CI matrix).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Hide findings recorded in this baseline file; report only new ones.")
@click.option("--write-baseline", type=click.Path(dir_okay=False), metavar="FILE",
              help="Record the current findings in FILE (pruning fixed ones) and exit.")
@click.option("--new-from-rev", metavar="REV", help="Report only findings on lines changed since git REV.")
@click.option("--new-from-merge-base", metavar="REV",
              help="Report only findings on lines changed since the merge base of REV and HEAD.")
@click.option("--include-baseline", is_flag=True,
              help="Also emit hidden findings (SARIF baselineState \"unchanged\"; json and text mark them).")
@click.option("--fix-new-only", is_flag=True, help="With --fix, fix only findings that are not hidden.")
@click.option("--profile", "show_profile", is_flag=True, help="Print time per phase and per rule to stderr.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on stderr (default: on for long runs on a terminal).")
@_COLOR
@_ISOLATED
def check(paths, fmt, output, select, extend_select, ignore, config, jobs, quiet, statistics, exit_zero, fail_on,
          force_exclude, include_suppressed, sarif_output, sarif_all_rules, sarif_category, sarif_root_uri, column_kind,
          fix, unsafe_fixes, diff, exit_non_zero_on_fix, rule_options, no_cache, shard, baseline_file,
          write_baseline, new_from_rev, new_from_merge_base, include_baseline, fix_new_only, show_profile,
          progress, isolated, stdin_filename, add_suppressions):
    """Lint PATHS (files or directories; default: the current directory).

    `-` lints stdin; name the file it is with --stdin-filename."""
    if add_suppressions and (add_suppressions == "-" or os.path.exists(add_suppressions)):
        # `--add-suppressions src/`: click took the path for the optional reason
        paths, add_suppressions = (add_suppressions, *paths), ""
    paths = list(paths) or (["-"] if stdin_filename else ["."])
    stdin = "-" in paths
    if stdin and len(paths) > 1:
        _fail("`-` (stdin) cannot be linted together with other paths")
    if stdin_filename is not None and not stdin:
        _fail("--stdin-filename names the file stdin is: use it with `-` and no other path")
    if stdin and fix_new_only:
        _fail("--fix-new-only does not work on stdin")
    cfg = _load_config(config, [stdin_filename or "."] if stdin else paths, isolated)
    if stdin:
        from . import stdin as stdin_mod

        stdin_data = sys.stdin.buffer.read()
        try:
            stdin_language = stdin_mod.language_of(stdin_filename, stdin_data)
        except stdin_mod.UnknownLanguage as e:
            _fail(str(e))
        stdin_skip = force_exclude and stdin_mod.excluded(stdin_filename, cfg)
    threshold = "never" if exit_zero else fail_on or cfg.fail_on
    try:
        _apply_rule_options(cfg, rule_options)
        registry, selection = load(cfg, select=_split(select) or None, extend_select=_split(extend_select),
                                   ignore=_split(ignore))
    except ConfigError as e:
        _fail(str(e))
    shard_kn = _parse_shard(shard) if shard else None

    from . import baseline as bl

    try:
        base = bl.Baseline.read(baseline_file or cfg.baseline) if (baseline_file or cfg.baseline) and \
            not write_baseline else None
        rev = bl.merge_base(new_from_merge_base) if new_from_merge_base else new_from_rev
        changed_lines = bl.changed_since(rev) if rev else None
    except ConfigError as e:
        _fail(str(e))

    profile = Counter() if show_profile else None
    started = time.perf_counter()

    def lint():
        if stdin:
            res = stdin_mod.run_stdin(stdin_data, stdin_filename, cfg, registry, selection,
                                      language=stdin_language, skip=stdin_skip)
        else:
            with _ProgressBar(progress) as tick:
                res = run(paths, cfg, registry, selection, jobs=jobs or 0, force_exclude=force_exclude,
                          use_cache=cfg.cache and not no_cache, shard=shard_kn, progress=tick, profile=profile)
        if base is not None:
            res.findings, res.hidden, res.baseline_fixed = base.split(res.findings)
        if changed_lines is not None:
            cwd = os.getcwd()
            keep = [f for f in res.findings if changed_lines.covers(f, cwd)]
            res.hidden_unchanged_lines = len(res.findings) - len(keep)
            res.hidden = sorted(res.hidden + [replace(f, baseline="unchanged") for f in res.findings
                                              if not changed_lines.covers(f, cwd)])
            res.findings = [replace(f, baseline="new") for f in keep]
        return res

    result = lint()
    if write_baseline:
        out = bl.Baseline.from_findings(write_baseline, result.findings)
        try:
            out.write()
        except OSError as e:
            _fail(f"cannot write {write_baseline}: {e.strerror or e}")
        click.echo(f"Wrote {len(result.findings)} findings ({len(out.entries)} entries) to {escape(write_baseline)}.")
        sys.exit(EXIT_ERROR if result.has_errors else EXIT_CLEAN)
    if add_suppressions is not None:
        _add_suppressions(result, cfg, registry, selection, add_suppressions, stdin or fix or diff)
    fixed = 0
    if fix or diff:
        from .engine import Engine
        from .fixes import fix_all
        from .reporters import text

        engine = Engine(cfg, registry, selection)
        targets = result.findings if fix_new_only else result.findings + result.hidden
        if stdin:
            from .fixes import allowed, fix_file

            outcomes = [fix_file(engine, stdin_mod.display_path(stdin_filename), stdin_language, unsafe_fixes,
                                 stdin_data)] if any(allowed(f, unsafe_fixes) for f in targets) else []
            for o in outcomes:
                o.written = o.changed and not diff  # "written" to stdout, below
        else:
            # --fix-new-only: a pass re-lints the file, so hidden findings must be named to stay unfixed
            outcomes = fix_all(targets, engine, unsafe=unsafe_fixes, write=not diff,
                               keep=result.hidden if fix_new_only else ())
        changed = [o for o in outcomes if o.changed]
        if diff:
            click.echo(verbatim_in_ci("".join(o.diff() for o in changed)), nl=False)
            result.notices.extend(n for o in outcomes for n in o.notices)
            click.echo(text.render_notices(result), err=True, nl=False)
            n = sum(o.applied for o in changed)
            click.echo(f"Would fix {n} finding{'s' * (n != 1)} in {len(changed)} file{'s' * (len(changed) != 1)}.",
                       err=True)
            sys.exit(EXIT_ERROR if result.has_errors else
                     EXIT_FINDINGS if changed and threshold != "never" else EXIT_CLEAN)
        written = [o for o in outcomes if o.written]
        fixed = sum(o.applied for o in written)
        if stdin:  # as ruff: the (fixed) text on stdout, the findings left on stderr
            if written:
                stdin_data = written[0].fixed
            sys.stdout.flush()
            out = sys.stdout.buffer
            out.write(stdin_data)
            out.flush()
        if written:
            result = lint()
        for o in outcomes:
            result.notices.extend(o.notices)
        unwritten = [o.path for o in changed if not o.written]
        if unwritten:  # say exactly which files hold the fixes, and which do not
            click.echo(f"Fixes written to {len(written)} file{'s' * (len(written) != 1)}"
                       f"{': ' + ', '.join(escape(o.path) for o in written) if written else ''}; "
                       f"not written to {len(unwritten)}: {', '.join(escape(p) for p in unwritten)}.", err=True)

    from .reporters import text
    from .reporters.output import write_report

    def sarif_log() -> str:
        from .reporters import sarif

        # Shards of one run uploaded under one category would replace each other's alerts.
        category = sarif_category or (f"cnlint/shard-{shard_kn[0]}-of-{shard_kn[1]}" if shard_kn else None)
        return sarif.render(result, column_kind=column_kind, all_rules=sarif_all_rules,
                            include_suppressed=include_suppressed, category=category,
                            include_baseline=include_baseline, root_uri=sarif_root_uri)

    render_started = time.perf_counter()
    if fmt == "text":
        report = text.render(result, show_source=not quiet, statistics=statistics, quiet=quiet,
                             include_baseline=include_baseline, include_suppressed=include_suppressed)
    elif fmt == "json":
        from .reporters import json_format

        report = json_format.render(result, include_suppressed=include_suppressed,
                                    include_baseline=include_baseline)
    elif fmt == "sarif":
        report = sarif_log()
    elif fmt == "github":
        from .reporters import github

        report = github.render(result)
    elif fmt == "junit":
        from .reporters import junit

        report = junit.render(result, fail_on=threshold, include_suppressed=include_suppressed)
    elif fmt == "checkstyle":
        from .reporters import checkstyle

        report = checkstyle.render(result, include_suppressed=include_suppressed)
    elif fmt == "gitlab":
        from .reporters import gitlab

        report = gitlab.render(result)
    elif fmt == "rdjson":
        from .reporters import rdjson

        report = rdjson.render(result)
    else:
        _fail(f"--format {fmt} is not available in this build")
    if sarif_output:
        log = report if fmt == "sarif" else sarif_log()
        try:
            write_report(sarif_output, log)
        except OSError as e:
            _fail(f"cannot write {sarif_output}: {e.strerror or e}")
    if output:
        try:
            write_report(output, click.unstyle(report))
        except OSError as e:
            _fail(f"cannot write {output}: {e.strerror or e}")
    else:
        click.echo(report, nl=False, err=stdin and fix)  # stdout holds the fixed text
    if fixed:
        click.echo(f"Fixed {fixed} finding{'s' * (fixed != 1)}.", err=fmt != "text" or stdin)
    if profile is not None:
        from .profiling import render as render_profile

        profile["render report"] += time.perf_counter() - render_started
        click.echo(render_profile(profile, time.perf_counter() - started), err=True, nl=False)
    err = text.render_notices(result)
    if err:
        click.echo(err, err=True, nl=False)

    if result.has_errors:
        sys.exit(EXIT_ERROR)
    if fixed and exit_non_zero_on_fix:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_FINDINGS if failing(result.findings, threshold) else EXIT_CLEAN)


def failing(findings, threshold: str) -> bool:
    """Whether ``findings`` fail the run under ``fail-on = threshold``."""
    if threshold == "never":
        return False
    least = Severity(threshold).rank
    return any(f.severity.rank >= least for f in findings)


class _ProgressBar:
    """A progress bar on stderr for runs long enough to want one (on a terminal)."""

    def __init__(self, wanted: bool | None):
        self.wanted = wanted
        self.bar = None
        self.started = 0.0

    def __enter__(self):
        if self.wanted is False or (self.wanted is None and not sys.stderr.isatty()):
            return None
        self.started = time.perf_counter()
        return self.tick

    def tick(self, n: int, total: int) -> None:
        if self.bar is None and (self.wanted or time.perf_counter() - self.started > 2.0):
            self.bar = click.progressbar(length=total, label="cnlint", file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)
        return False


def _parse_shard(value: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in value.split("/"))
    except ValueError:
        _fail(f"--shard {value!r}: expected K/N, e.g. 2/4")
    if not 1 <= k <= n:
        _fail(f"--shard {value!r}: K must be between 1 and N")
    return k, n


def _apply_rule_options(cfg, assignments) -> None:
    """``--rule-option ID.name=value`` on top of the config's ``options`` tables."""
    from .config import tomllib

    for item in assignments:
        target, sep, raw = item.partition("=")
        rid, dot, name = target.partition(".")
        if not sep or not dot or not rid or not name:
            raise ConfigError(f"--rule-option {item!r}: expected ID.NAME=VALUE")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word: a string
        cfg.options.setdefault(rid.upper(), {})[name] = value


@main.command("rules")
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Config file with custom rules.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_COLOR
@_ISOLATED
def rules_cmd(config, fmt, isolated):
    """List the available rules, grouped by pack."""
    cfg = _load_config(config, ["."], isolated)
    try:
        registry, selection = load(cfg)
    except ConfigError as e:
        _fail(str(e))
    enabled = set(selection.enabled)
    rows = []
    for rid, info in sorted(registry.rules.items(), key=lambda kv: (kv[1].meta.pack(), kv[0])):
        m = info.meta
        rows.append({"id": rid, "name": m.name, "pack": m.pack(), "languages": list(info.languages),
                     "severity": selection.severities[rid].value, "fixable": info.fixable,
                     "enabled": rid in enabled, "enabled_by_default": m.enabled_by_default,
                     "precision": m.precision, "summary": m.summary, "origin": info.origin})
    # a rule path or plugin that does not load is exit 2, as in `check`
    status = EXIT_ERROR if any(n.is_error for n in registry.notices) else EXIT_CLEAN
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        _echo_notices(registry.notices)
        sys.exit(status)
    click.echo(click.style(f"{'ID':<8} {'NAME':<34} {'ON':<6} {'LANGUAGES':<20} {'SEVERITY':<8} {'FIX':<10} SUMMARY",
                           bold=True))
    pack = None
    for r in rows:
        if r["pack"] != pack:
            pack = r["pack"]
            click.echo(click.style(f"\n{pack}", bold=True))
        langs = ",".join("ts" if x == "typescript" else "js" if x == "javascript" else x for x in r["languages"])
        if len(r["languages"]) == 5:
            langs = "all"
        on = "yes" if r["enabled"] else "no" if r["enabled_by_default"] else "opt-in"
        click.echo(guard_line(f"{escape(r['id']):<8} {escape(r['name']):<34} {on:<6} {langs:<20} {r['severity']:<8} "
                              f"{r['fixable'] or '':<10} {escape(r['summary'])}"))
    click.echo("\nON: whether the current configuration runs the rule; opt-in rules run only when selected "
               "(`cnlint explain ID` says when to turn one on).")
    _echo_notices(registry.notices)
    sys.exit(status)


@main.command(short_help="Show a rule's help page (by id, e.g. SEC001, or by name).")
@click.argument("rule_id", required=False)
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Config file with custom rules.")
@click.option("--write-docs", type=click.Path(file_okay=False), metavar="DIR",
              help="Write every rule's page to DIR/<ID>.md (the docs/rules/ pages), instead of printing one.")
@_ISOLATED
def explain(rule_id, config, write_docs, isolated):
    """Show the help page of RULE_ID (an id like SEC001 or a name like tls-verification-disabled)."""
    cfg = _load_config(config, ["."], isolated)
    from .loader import rules_for

    registry = rules_for(cfg)
    if write_docs:
        os.makedirs(write_docs, exist_ok=True)
        for rid, info in sorted(registry.rules.items()):
            if info.origin == "builtin":
                with open(os.path.join(write_docs, f"{rid}.md"), "w", encoding="utf-8") as f:
                    f.write(rule_page(info))
        return
    if not rule_id:
        _fail("name a rule, e.g. `cnlint explain SEC001`")
    info = registry.rules.get(rule_id.upper()) or next(
        (i for i in registry.rules.values() if i.meta.name == rule_id), None)
    if info is None:
        from .config import did_you_mean

        names = list(registry.rules) + [i.meta.name for i in registry.rules.values()]
        _fail(f"unknown rule {rule_id!r}{did_you_mean(rule_id, names)}")
    # a custom rule's page is the repository's text: escape it like any other
    click.echo("".join(guard_line(escape(line, keep_tabs=True)) + "\n" for line in rule_page(info).split("\n")[:-1]),
               nl=False)


def rule_page(info) -> str:
    """A rule's help page: metadata, options, then its help text (markdown)."""
    m = info.meta
    out = [f"# {m.id} {m.name}\n", f"{m.summary}\n",
           f"- Pack: {m.pack()}\n- Languages: {', '.join(info.languages)}"
           f"\n- On by default: {'yes' if m.enabled_by_default else 'no (opt-in: select it to run it)'}"
           f"\n- Default severity: {m.severity}"
           f"\n- Precision: {m.precision}\n- Tags: {', '.join(m.tags) or '-'}"
           + (f"\n- Security severity: {m.security_severity}" if m.security_severity is not None else "")
           + f"\n- Fix: {info.fixable or 'none'}\n"]
    if m.options:
        out.append("## Options")
        out.extend(f"- `{name}` (default `{opt.default!r}`): {opt.description}" for name, opt in m.options.items())
        out.append("")
    out.append(m.help.rstrip())
    return "\n".join(out) + "\n"


@main.command("test-rules", short_help="Run rule fixtures (default: the built-in ones).")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Config file with custom rules.")
@click.option("--rule", "only", multiple=True, help="Only these rule ids.")
@_COLOR
def test_rules(path, config, only):
    """Run rule fixtures: PATH holds one folder per rule id (default: the built-in fixtures)."""
    from .loader import rules_for
    from .testing import builtin_fixtures_dir, run_fixtures

    cfg = _load_config(config, [path or "."])
    registry = rules_for(cfg)
    _echo_notices(registry.notices)
    reports = run_fixtures(path or builtin_fixtures_dir(), registry, only=set(_split(only)) or None)
    failed = errors = 0
    for rep in reports:
        status = click.style("ok", fg="green") if rep.ok else click.style("FAIL", fg="red", bold=True)
        click.echo(guard_line(f"{escape(rep.rule_id):<8} {status}  {rep.files} files, {rep.expected} expected findings, "
                   f"{rep.trap_files} trap files"))
        for m in rep.mismatches or []:
            click.echo(guard_line(f"    {escape(str(m))}"))
        failed += not rep.ok
        errors += bool(rep.errors)
    click.echo(f"{len(reports) - failed} passed, {failed} failed")
    # a rule that crashed or did not load is exit 2, as in `check`: not a fixture mismatch
    sys.exit(EXIT_ERROR if registry.notices or errors else
             EXIT_FINDINGS if failed or not reports else EXIT_CLEAN)


@main.command("config")
@click.argument("path", required=False, default=".", type=click.Path(exists=True))
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="Config file to resolve.")
@_ISOLATED
def config_cmd(path, config, isolated):
    """Print the configuration that applies to PATH, fully resolved.

    Exits with 2 when anything it resolves is broken (a rule path or plugin that
    does not load, a missing baseline file)."""
    cfg = _load_config(config, [path], isolated)
    try:
        registry, selection = load(cfg)
    except ConfigError as e:
        _fail(str(e))
    doc = cfg.describe()
    doc["enabled-rules"] = selection.enabled
    doc["severity"] = {k: v.value for k, v in sorted(selection.severities.items())}
    click.echo(json.dumps(doc, indent=2, default=str))
    problems = [f"{n.path}: {n.message}" for n in registry.notices]
    if cfg.baseline and not os.path.isfile(cfg.baseline):
        problems.append(f"baseline file {cfg.baseline} does not exist")
    for p in problems:
        click.echo(f"cnlint: error: {escape(p)}", err=True)
    sys.exit(EXIT_ERROR if problems else EXIT_CLEAN)


@main.command("merge-sarif", short_help="Merge the SARIF logs of sharded runs (--shard K/N).")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout.")
@click.option("--category", help="automationDetails.id of the merged run (default: the shards' common one).")
def merge_sarif(files, output, category):
    """Merge the SARIF logs of sharded runs (--shard K/N) into one run."""
    from .sarif_merge import MergeError, merge

    logs = []
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                logs.append(json.load(f))
        except (OSError, ValueError, RecursionError) as e:
            _fail(f"{path}: not a readable SARIF file: {e}")
    try:
        text = json_safe(json.dumps(merge(logs, category), indent=2, ensure_ascii=False) + "\n")
    except (MergeError, KeyError, IndexError, TypeError, AttributeError) as e:
        _fail(f"cannot merge: {e}")
    if output:
        from .reporters.output import write_report

        try:
            write_report(output, text)
        except OSError as e:
            _fail(f"cannot write {output}: {e.strerror or e}")
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--tcp", metavar="[HOST:]PORT", help="Listen on TCP instead of stdio.")
def server(tcp):
    """Run the language server (LSP over stdio) for editors."""
    from .server import serve

    serve(tcp)


if __name__ == "__main__":  # pragma: no cover
    main()
