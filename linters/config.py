"""Configuration: ``cnlint.toml`` or ``[tool.cnlint]`` in ``pyproject.toml``.

Found by walking up from the first linted path, but never above the
project's root (the nearest directory holding ``.git``; outside a repository,
the working directory): a file in a parent directory belongs to someone else
(see docs/security.md). ``--config`` names one explicitly, ``--isolated``
ignores them all. Paths inside the file (``rule-paths``, ``exclude``,
``per-file-ignores``) are relative to the file's directory. Every key, rule id
and option is validated; mistakes are errors with a did-you-mean, never ignored.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, field, fields
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from .code_kinds import GENERATED_CODE, TEST_CODE
from .model import Severity

CONFIG_FILES = ("cnlint.toml", ".cnlint.toml", "pyproject.toml")

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".cnlint_cache", "node_modules", "vendor", "testdata",
    "dist", "build", "site-packages", "__pypackages__",
    # copies of other people's code, as golangci-lint excludes them by default
    "third_party", "Godeps",
)


class ConfigError(Exception):
    """A mistake in configuration or on the command line (exit code 2)."""


# `fail-on` / `--fail-on`: the least severe finding that fails a run
FAIL_ON = ("error", "warning", "note", "never")


_TOML_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_ASSIGN = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _toml_key(text: str) -> list[str]:
    """``a."b c".d`` -> ["a", "b c", "d"] (enough of TOML's dotted keys to find a line)."""
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+)", text)
    return [next(p for p in groups if p) if any(groups) else "" for groups in parts]


def key_line(path: str | None, dotted: list[str]) -> int | None:
    """The line (1-based) of a config file where the key ``dotted`` (e.g. ["options",
    "SEC001", "mode"], below ``[tool.cnlint]`` in a pyproject.toml) is set, or where
    the longest part of it is: for error messages. None if it cannot be found."""
    if not path or not dotted:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    base = ["tool", "cnlint"] if os.path.basename(path) == "pyproject.toml" else []
    want = base + list(dotted)
    table: list[str] = []
    best: tuple[int, int] | None = None  # (matched parts, line)
    for n, line in enumerate(lines, 1):
        m = _TOML_HEADER.match(line)
        if m:
            table = _toml_key(m.group(1))
            full = table
        else:
            m = _TOML_ASSIGN.match(line)
            if not m:
                continue
            full = table + _toml_key(m.group(1))
        if full[:len(base)] != base:
            continue
        k = 0
        while k < min(len(full), len(want)) and full[k] == want[k]:
            k += 1
        if k > len(base) and (best is None or k > best[0]):
            best = (k, n)
    return best[1] if best else None


def located(path: str | None, message: str) -> str:
    """``message`` (``key: what is wrong``, from validate_rules) prefixed with
    ``file:line:`` of that key in the config file ``path``, when found."""
    if not path:
        return message
    key = message.split(":", 1)[0].split("[", 1)[0]
    line = key_line(path, key.split("."))
    # not found: the value may come from the command line (--rule-option), so no file is named
    return f"{os.path.basename(path)}:{line}: {message}" if line else message


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass
class Config:
    select: list[str] | None = None  # None: every rule enabled by default
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    extend_exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    # which files are test code / generated code (ctx.is_test_code, ctx.is_generated)
    test_code: list[str] = field(default_factory=lambda: list(TEST_CODE))
    extend_test_code: list[str] = field(default_factory=list)
    generated_code: list[str] = field(default_factory=lambda: list(GENERATED_CODE))
    extend_generated_code: list[str] = field(default_factory=list)
    # generated files are not linted (nobody edits them; golangci-lint's default too),
    # only counted; false lints them like any other file
    skip_generated_code: bool = True
    rule_paths: list[str] = field(default_factory=list)
    plugins: list[str] | None = None  # None: every installed plugin
    respect_gitignore: bool = True
    baseline: str | None = None  # baseline file, relative to the config file
    cache: bool = True  # .cnlint_cache/ next to the config (or in the linted root)
    max_file_size: int = 2_000_000
    jobs: int = 0  # 0: all cores
    rule_timeout: float = 10.0  # seconds one rule may spend on one file; 0: no limit
    editor_max_file_size: int = 1_000_000  # the language server skips larger documents
    # the least severe finding that makes `cnlint check` exit 1 (error, warning, note or
    # never); notes are shown and counted but do not fail a run by default (ESLint's warnings)
    fail_on: str = "warning"
    # Where the config came from; relative paths in it resolve against ``root``.
    path: str | None = None
    root: str = "."
    # False where the repository's own code must not run (the language server
    # in an untrusted workspace, --isolated): no rule-paths, and options that
    # name a program (``Option(trusted_only=True)``) keep their defaults.
    trusted: bool = True

    @property
    def excludes(self) -> list[str]:
        return self.exclude + self.extend_exclude

    def describe(self) -> dict[str, Any]:
        """The resolved configuration, for ``cnlint config``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            out[f.name.replace("_", "-")] = getattr(self, f.name)
        return out


_KEYS = {f.name.replace("_", "-"): f for f in fields(Config) if f.name not in ("path", "root", "trusted")}
_GLOB_LIST_KEYS = {"exclude", "extend-exclude", "test-code", "extend-test-code",
                   "generated-code", "extend-generated-code"}
_LIST_KEYS = {"select", "extend-select", "ignore", "rule-paths", "plugins", *_GLOB_LIST_KEYS}


def repository_root(start: str) -> str | None:
    """The nearest directory at or above ``start`` (a file or directory) that
    holds ``.git`` (a directory, or the file of a worktree or submodule)."""
    d = os.path.abspath(start)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    while True:
        if os.path.lexists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def project_root(start: str, cwd: str | None = None) -> str:
    """Where config discovery stops for ``start`` (a file or directory): its
    repository's root; outside a repository, the working directory when
    ``start`` lies under it, else ``start``'s own directory."""
    root = repository_root(start)
    if root is not None:
        return root
    first = os.path.abspath(start)
    if not os.path.isdir(first):
        first = os.path.dirname(first)
    cwd = os.path.abspath(cwd or os.getcwd())
    return cwd if first == cwd or first.startswith(cwd.rstrip(os.sep) + os.sep) else first


def find_config(start: str, stop: str | None = None) -> str | None:
    """The nearest config file at or above ``start`` (a file or directory), up
    to ``stop`` (default: ``project_root(start)``), never above it."""
    d = os.path.abspath(start)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    stop = os.path.abspath(stop) if stop else project_root(d)
    while True:
        for name in CONFIG_FILES:
            p = os.path.join(d, name)
            if os.path.isfile(p):
                if name != "pyproject.toml" or _has_tool_section(p):
                    return p
        parent = os.path.dirname(d)
        if d == stop or parent == d:
            return None
        d = parent


def _has_tool_section(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            tool = tomllib.load(f).get("tool", {})
        return not isinstance(tool, dict) or "cnlint" in tool
    except OSError:
        return False
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
        return True  # we cannot tell: let load_config report the broken file


def load_config(path: str | None, start: str = ".") -> Config:
    path = path or find_config(start)
    if path is None:
        return Config(root=os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or "."))
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not valid UTF-8 (byte offset {e.start})") from e
    except RecursionError as e:
        raise ConfigError(f"{path}: nested too deeply to read") from e
    table = doc
    if os.path.basename(path) == "pyproject.toml":
        tool = doc.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{path}: `tool` must be a table")
        table = tool.get("cnlint", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `tool.cnlint` must be a table")
    return parse_table(table, path)


def parse_table(table: dict[str, Any], path: str) -> Config:
    cfg = Config(path=os.path.abspath(path), root=os.path.dirname(os.path.abspath(path)))
    where = os.path.basename(path) + (" [tool.cnlint]" if path.endswith("pyproject.toml") else "")
    for key, value in table.items():
        try:
            _check_key(cfg, key, value, where)
        except ConfigError as e:
            msg = str(e)
            named = msg[len(where) + 2:].split(" ", 1)[0]  # "severity.SEC001 = ..." names the key exactly
            line = key_line(path, named.split(".") if named.startswith(key + ".") else [key])
            if line and msg.startswith(where):  # name the line, as TOML syntax errors do
                head, _, section = where.partition(" ")
                msg = f"{head}:{line}{' ' + section if section else ''}" + msg[len(where):]
            raise ConfigError(msg) from e
    return cfg


def _check_key(cfg: Config, key: str, value: Any, where: str) -> None:
    if key not in _KEYS:
        raise ConfigError(f"{where}: unknown key {key!r}{did_you_mean(key, _KEYS)}")
    expect = _KEYS[key]
    if key in _LIST_KEYS:
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"{where}: {key} must be a list of strings, got {value!r}")
        if any(not v.strip() for v in value):
            raise ConfigError(f"{where}: {key} has an empty entry {value!r}")
        if key in _GLOB_LIST_KEYS:
            _check_globs(value, f"{where}: {key}")
    elif key in ("severity",):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: severity must be a table of rule -> level")
        for rid, level in value.items():
            if not isinstance(level, str) or level not in {s.value for s in Severity}:
                raise ConfigError(f"{where}: severity.{rid} = {level!r}: use error, warning or note"
                                  f"{did_you_mean(str(level), [s.value for s in Severity])}")
    elif key == "options":
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ConfigError(f"{where}: options must be a table of tables ([tool.cnlint.options.ID])")
    elif key == "per-file-ignores":
        if not isinstance(value, dict) or not all(
                isinstance(v, list) and all(isinstance(i, str) for i in v) for v in value.values()):
            raise ConfigError(f"{where}: per-file-ignores must map globs to lists of rule ids")
        _check_globs(list(value), f"{where}: per-file-ignores")
    elif key in ("respect-gitignore", "cache"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: {key} must be true or false")
    elif key == "baseline":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: baseline must be a path")
        value = os.path.join(cfg.root, value)
    elif key == "rule-timeout":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1e9:
            raise ConfigError(f"{where}: rule-timeout must be a non-negative number of seconds")
    elif key == "fail-on":
        if value not in FAIL_ON:
            raise ConfigError(f"{where}: fail-on = {value!r}: use {', '.join(FAIL_ON)}"
                              f"{did_you_mean(str(value), FAIL_ON)}")
    elif key in ("max-file-size", "jobs", "editor-max-file-size"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where}: {key} must be a non-negative integer")
    setattr(cfg, expect.name, value)


def _check_globs(globs: list[str], where: str) -> None:
    import pathspec

    for glob in globs:
        if not glob.strip():
            raise ConfigError(f"{where}: empty glob")
        try:
            pathspec.GitIgnoreSpec.from_lines([glob])
        except Exception as e:  # pathspec raises its own error types, and ValueError/TypeError
            raise ConfigError(f"{where}: invalid glob {glob!r}: {e}") from e


def validate_rules(cfg: Config, rule_ids, packs, options_of) -> None:
    """Check rule selectors, severities and options against the loaded rules.

    ``options_of(id)`` returns the rule's ``{name: Option}``.
    """
    ids = set(rule_ids)
    known = ids | set(packs) | {"ALL"}

    def check_selector(sel: str, key: str) -> None:
        if not sel.strip():
            # "" would match every rule id: a typo must never select or ignore everything
            raise ConfigError(f"{key}: empty rule selector")
        if sel in known or any(i.startswith(sel) for i in ids):
            return
        raise ConfigError(f"{key}: unknown rule or selector {sel!r}{did_you_mean(sel, known)}")

    for key in ("select", "extend_select", "ignore"):
        for sel in getattr(cfg, key) or []:
            check_selector(sel, key.replace("_", "-"))
    for sel in cfg.severity:
        check_selector(sel, "severity")
    for globs, sels in cfg.per_file_ignores.items():
        for sel in sels:
            check_selector(sel, f"per-file-ignores[{globs!r}]")
    for rid, opts in cfg.options.items():
        if rid not in ids:
            raise ConfigError(f"options: unknown rule {rid!r}{did_you_mean(rid, ids)}")
        declared = options_of(rid)
        for name, value in opts.items():
            if name not in declared:
                hint = did_you_mean(name, declared) or (
                    f" ({rid} has options: {', '.join(sorted(declared))})" if declared else f" ({rid} has no options)")
                raise ConfigError(f"options.{rid}: unknown option {name!r}{hint}")
            try:
                opts[name] = declared[name].coerce(value, f"options.{rid}.{name}")
            except ValueError as e:
                raise ConfigError(str(e)) from e


def drop_untrusted(cfg: Config, options_of) -> list[str]:
    """For a repository that is not trusted: forget what would run its code
    (rule paths, options that name a program); returns what was ignored."""
    dropped = [f"rule-paths {cfg.rule_paths!r}"] if cfg.rule_paths else []
    cfg.rule_paths = []
    for rid, opts in cfg.options.items():
        declared = options_of(rid) if rid else {}
        for name in [n for n in opts if getattr(declared.get(n), "trusted_only", False)]:
            dropped.append(f"options.{rid}.{name}")
            del opts[name]
    return dropped


def matches(selector: str, rule_id: str, pack: str) -> bool:
    return selector == "ALL" or selector == pack or rule_id.startswith(selector)


def specificity(selector: str) -> int:
    """Longer selectors are more specific; ALL and pack names least of all."""
    return 0 if selector == "ALL" or not selector[:1].isupper() else len(selector)
