"""Project facts (go.mod, package.json, tsconfig.json, node_modules).

Rules ask ``self.ctx.project`` and get the facts of the nearest enclosing
project. Each directory is resolved once per process and each manifest is read
once per process (``functools.lru_cache``), however many files share it, and
nothing is read at all unless a rule asks.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

_MODULE_RE = re.compile(r"^\s*module\s+(\S+)", re.M)
_GO_RE = re.compile(r"^\s*go\s+(\S+)", re.M)


def _find_up(directory: str, name: str) -> str | None:
    return _find_up_cached(os.path.abspath(directory), name)


@lru_cache(maxsize=None)
def _find_up_cached(directory: str, name: str) -> str | None:
    candidate = os.path.join(directory, name)
    if os.path.exists(candidate):
        return candidate
    parent = os.path.dirname(directory)
    if parent == directory:
        return None
    return _find_up_cached(parent, name)


@lru_cache(maxsize=None)
def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class GoModule:
    path: str  # go.mod's path
    module: str
    go_version: str | None
    requires: tuple[tuple[str, str], ...] = ()  # (module path, version)
    replaces: tuple[tuple[str, str], ...] = ()  # (module path, replacement path or module)


_DIRECTIVE_RE = re.compile(r"^\s*(require|replace)\s*(\(\s*$(.*?)^\s*\)|(.*?)$)", re.M | re.S)


def _go_mod_lines(text: str, directive: str) -> list[list[str]]:
    """The fields of each ``require``/``replace`` line (single or in a block)."""
    out = []
    for m in _DIRECTIVE_RE.finditer(text):
        if m.group(1) == directive:
            for line in (m.group(3) if m.group(3) is not None else m.group(4)).splitlines():
                fields = line.split("//", 1)[0].replace('"', "").split()
                if fields:
                    out.append(fields)
    return out


@lru_cache(maxsize=None)
def _read_go_mod(path: str) -> GoModule | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    m = _MODULE_RE.search(text)
    g = _GO_RE.search(text)
    requires = tuple((f[0], f[1]) for f in _go_mod_lines(text, "require") if len(f) >= 2)
    replaces = tuple((f[0], f[f.index("=>") + 1]) for f in _go_mod_lines(text, "replace")
                     if "=>" in f and f.index("=>") + 1 < len(f))
    return GoModule(path, m.group(1).strip('"') if m else "", g.group(1) if g else None, requires, replaces)


class Project:
    """Facts about the project that encloses one directory."""

    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)

    @cached_property
    def go_mod(self) -> GoModule | None:
        p = _find_up(self.directory, "go.mod")
        return _read_go_mod(p) if p else None

    @cached_property
    def package_json_path(self) -> str | None:
        return _find_up(self.directory, "package.json")

    @property
    def package_json(self) -> dict[str, Any] | None:
        p = self.package_json_path
        return _read_json(p) if p else None

    @cached_property
    def tsconfig_path(self) -> str | None:
        return _find_up(self.directory, "tsconfig.json")

    @property
    def tsconfig(self) -> dict[str, Any] | None:
        p = self.tsconfig_path
        return _read_json(p) if p else None

    @cached_property
    def node_modules(self) -> str | None:
        return _find_up(self.directory, "node_modules")

    @property
    def root(self) -> str:
        """The nearest directory holding a manifest, else the directory itself."""
        for p in (self.go_mod.path if self.go_mod else None, self.package_json_path,
                  _find_up(self.directory, "pyproject.toml")):
            if p:
                return os.path.dirname(p)
        return self.directory


@lru_cache(maxsize=4096)
def project_for(directory: str) -> Project:
    return Project(directory)


_CLEAR_HOOKS: list = []


def on_clear(fn) -> None:
    """Register a function that forgets a rule's own cached project facts."""
    _CLEAR_HOOKS.append(fn)


def clear_caches() -> None:
    """Forget every cached project fact. The language server calls this when
    a manifest, lockfile or node_modules changes; a CLI run never needs to."""
    for cached in (_find_up_cached, _read_json, _read_go_mod, project_for):
        cached.cache_clear()
    for fn in _CLEAR_HOOKS:
        fn()
