"""Finding rules: built-in packs, local paths, installed plugins.

All three go through ``collect_from_module``, so a built-in rule is loaded
exactly as a user's. Load failures do not stop the run: they become
internal-error notices (exit code 2) naming the file or plugin.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import pkgutil
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType

from .model import Notice, NoticeKind
from .rule import Rule, validate_metadata

ENTRY_POINT_GROUP = "cnlint.rules"


@dataclass
class RuleInfo:
    """One rule id: its metadata and one implementation per language."""

    id: str
    meta: type[Rule]  # the first implementation; all share the metadata
    impls: dict[str, type[Rule]] = field(default_factory=dict)
    origin: str = "builtin"

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.impls)

    @property
    def fixable(self) -> str | None:
        kinds = [c.fixable for c in set(self.impls.values()) if c.fixable]
        order = ["safe", "unsafe", "suggestion"]
        return min(kinds, key=order.index) if kinds else None


@dataclass
class Registry:
    rules: dict[str, RuleInfo] = field(default_factory=dict)
    notices: list[Notice] = field(default_factory=list)

    def add(self, cls: type[Rule], origin: str) -> None:
        problems = validate_metadata(cls)
        if not problems and origin != "builtin":
            problems = _query_problems(cls)
        if problems:
            self.notices.append(Notice(NoticeKind.INTERNAL_ERROR, origin,
                                       f"rule {getattr(cls, 'id', '') or '?'} ({cls.__name__}) not loaded: "
                                       + "; ".join(problems), getattr(cls, "id", "") or ""))
            return
        info = self.rules.get(cls.id)
        if info is None:
            info = self.rules[cls.id] = RuleInfo(cls.id, cls, origin=origin)
        elif info.meta.name != cls.name:
            self.notices.append(Notice(
                NoticeKind.INTERNAL_ERROR, origin,
                f"rule id {cls.id} is already used by {info.meta.name!r} ({info.origin}); "
                f"{cls.__name__} ({cls.name!r}) not loaded", cls.id))
            return
        for lang in cls.languages:
            if lang in info.impls and info.impls[lang] is not cls:
                self.notices.append(Notice(
                    NoticeKind.INTERNAL_ERROR, origin,
                    f"rule {cls.id} has two {lang} implementations "
                    f"({info.impls[lang].__name__}, {cls.__name__}); keeping the first", cls.id))
                continue
            info.impls[lang] = cls

    @property
    def packs(self) -> set[str]:
        return {info.meta.pack() for info in self.rules.values()}


def _query_problems(cls: type[Rule]) -> list[str]:
    """A custom tree-sitter rule's queries, compiled now: a query that does not
    compile is a rule that does not load (named with the query position), not a
    crash in the middle of a run. Built-in queries are checked by their fixtures."""
    if cls.backend() != "tree-sitter":
        return []
    import re

    from .backends import treesitter as ts_backend

    try:
        ts_backend.check_queries(cls)
    except ts_backend.QueryCompileError as e:
        # tree-sitter counts rows and columns of the query from 0
        text = re.sub(r"at row (\d+), column (\d+)",
                      lambda m: f"at line {int(m[1]) + 1}, column {int(m[2]) + 1} of the query",
                      str(e).split(": ", 1)[-1])
        return [text]
    return []


def is_concrete_rule(obj: object) -> bool:
    return (inspect.isclass(obj) and issubclass(obj, Rule) and bool(obj.__dict__.get("languages") or
            getattr(obj, "languages", ())) and obj.backend() != "" and not inspect.isabstract(obj)
            and bool(getattr(obj, "id", "")))


def collect_from_module(module: ModuleType) -> list[type[Rule]]:
    """Concrete rule classes defined in (not imported into) ``module``."""
    return [obj for obj in vars(module).values()
            if is_concrete_rule(obj) and obj.__module__ == module.__name__]


def _builtin_modules():
    from . import rules as pkg

    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if not info.ispkg:
            yield info.name


def import_path(path: str) -> ModuleType:
    """Import a rule file under a private, stable module name."""
    path = os.path.abspath(path)
    name = "cnlint_custom_" + hashlib.sha1(path.encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _rule_files(path: str) -> list[str]:
    if os.path.isdir(path):
        out = []
        for d, dirs, files in os.walk(path):
            dirs[:] = sorted(x for x in dirs if not x.startswith((".", "__")))
            out.extend(os.path.join(d, f) for f in sorted(files)
                       if f.endswith(".py") and not f.startswith(("test_", "_")))
        return out
    return [path]


def _error(origin: str, what: str, exc: BaseException) -> Notice:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({os.path.basename(tb[-1].filename)}:{tb[-1].lineno})" if tb else ""
    return Notice(NoticeKind.INTERNAL_ERROR, origin, f"{what}: {type(exc).__name__}: {exc}{where}")


def rules_for(cfg) -> Registry:
    """The rules a config asks for; a repository that is not trusted runs none of its own files."""
    return load_rules(cfg.rule_paths if cfg.trusted else (), cfg.plugins, cfg.root)


def load_rules(rule_paths=(), plugins=None, root: str = ".") -> Registry:
    """Built-in rules, then ``rule_paths`` (relative to ``root``), then plugins.

    ``plugins`` is None for every installed plugin, or a list of entry-point names.
    """
    reg = Registry()
    for modname in _builtin_modules():
        try:
            module = importlib.import_module(modname)
        except Exception as e:
            reg.notices.append(_error(modname, "built-in rule module failed to import", e))
            continue
        for cls in collect_from_module(module):
            reg.add(cls, "builtin")

    for raw in rule_paths:
        path = raw if os.path.isabs(raw) else os.path.join(root, raw)
        if not os.path.exists(path):
            reg.notices.append(Notice(NoticeKind.CONFIG, raw, f"rule-paths entry {raw!r}: {path} does not exist"))
            continue
        for file in _rule_files(path):
            try:
                module = import_path(file)
            except KeyboardInterrupt:
                raise
            except BaseException as e:  # SyntaxError, ImportError, SystemExit from a user file
                reg.notices.append(_error(file, "custom rule file failed to import", e))
                continue
            for cls in collect_from_module(module):
                reg.add(cls, file)

    wanted = None if plugins is None else set(plugins)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if wanted is not None and ep.name not in wanted:
            continue
        origin = f"plugin {ep.name} ({ep.value})"
        try:
            obj = ep.load()
        except KeyboardInterrupt:
            raise
        except BaseException as e:
            reg.notices.append(_error(origin, "plugin failed to load", e))
            continue
        classes = (collect_from_module(obj) if inspect.ismodule(obj)
                   else [c for c in (obj if isinstance(obj, (list, tuple)) else [obj]) if is_concrete_rule(c)])
        if not classes:
            reg.notices.append(Notice(NoticeKind.INTERNAL_ERROR, origin, "plugin provides no rules"))
        for cls in classes:
            reg.add(cls, origin)
    if wanted:
        missing = wanted - {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
        for name in sorted(missing):
            reg.notices.append(Notice(NoticeKind.CONFIG, name, f"plugin {name!r} is not installed"))
    return reg
