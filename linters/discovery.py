"""Which files a run lints.

Directories are walked in sorted order, pruning excluded directories early and
honouring every ``.gitignore`` on the way (and those above the starting
directory up to the repository root, and ``.git/info/exclude``). A file named
explicitly is always linted unless ``force_exclude`` is set, as pre-commit
passes file names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pathspec

from . import languages
from .config import project_root

GITIGNORE = ".gitignore"


@dataclass(frozen=True)
class Target:
    path: str  # display path, "/"-separated
    language: str


def _rel(abs_path: str, base: str) -> str:
    """os.path.relpath for normalised absolute paths, by slicing when ``abs_path``
    is below ``base`` (relpath normalises both paths on every call: a third of
    the discovery time of a large tree)."""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if abs_path.startswith(prefix):
        return abs_path[len(prefix):]
    return os.path.relpath(abs_path, base)


def _display(abs_path: str, cwd: str) -> str:
    rel = _rel(abs_path, cwd)
    if rel.startswith(".."):
        rel = abs_path
    return rel.replace(os.sep, "/")


def _load_ignore(path: str) -> pathspec.PathSpec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return spec if len(spec) else None


class _Ignores:
    """The stack of .gitignore files that apply at one directory."""

    def __init__(self, specs: tuple[tuple[str, pathspec.PathSpec], ...] = ()):
        self.specs = specs

    def child(self, directory: str) -> "_Ignores":
        spec = _load_ignore(os.path.join(directory, GITIGNORE))
        return _Ignores(self.specs + ((directory, spec),)) if spec else self

    def ignored(self, abs_path: str, is_dir: bool) -> bool:
        verdict = False
        for base, spec in self.specs:
            rel = _rel(abs_path, base).replace(os.sep, "/")
            if rel.startswith(".."):
                continue
            res = spec.check_file(rel + "/" if is_dir else rel)
            if res.include is not None:  # later (deeper) files override earlier ones
                verdict = res.include
        return verdict


def _ancestors_ignores(directory: str) -> _Ignores:
    """Ignore files from the repository root down to ``directory`` (exclusive)."""
    chain = []
    d = os.path.dirname(directory)
    while True:
        chain.append(d)
        if os.path.isdir(os.path.join(d, ".git")):
            break
        parent = os.path.dirname(d)
        if parent == d:
            chain = []  # not in a repository: ignore files above us do not apply
            break
        d = parent
    ig = _Ignores()
    if chain:
        spec = _load_ignore(os.path.join(chain[-1], ".git", "info", "exclude"))
        if spec:
            ig = _Ignores(((chain[-1], spec),))
    for d in reversed(chain):
        ig = ig.child(d)
    return ig


class Excluder:
    """``exclude`` globs (gitignore syntax) relative to the config's root."""

    def __init__(self, patterns, root: str):
        self.root = os.path.abspath(root)
        self.patterns = list(patterns)
        self.spec = pathspec.GitIgnoreSpec.from_lines(patterns)

    def excluded(self, abs_path: str, is_dir: bool = False) -> bool:
        rel = _rel(abs_path, self.root).replace(os.sep, "/")
        if rel.startswith(".."):
            # outside the config root: match on the path's own parts
            rel = abs_path.lstrip("/").replace(os.sep, "/")
        return self.spec.match_file(rel + "/" if is_dir else rel)


NO_SUCH_PATH = "no such file or directory"


def discover(paths, excluder: Excluder, *, respect_gitignore: bool = True,
             force_exclude: bool = False, cwd: str | None = None):
    """Yield ``Target``s for ``paths``, then the problems as ``(path, message)``.

    Returns ``(targets, problems)``; ``problems`` holds unreadable directories.
    """
    cwd = cwd or os.getcwd()
    targets: list[Target] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(abs_path: str, explicit: bool, real: str | None = None) -> None:
        # a file and a symlink to it are one file
        real = real or os.path.realpath(abs_path)
        if real in seen:
            return
        lang = languages.detect(abs_path)
        if lang is None and "." not in os.path.basename(abs_path):
            lang = languages.detect(abs_path, _head(abs_path))
        if lang is None:
            if explicit:
                problems.append((_display(abs_path, cwd), "not a Go, TypeScript, JavaScript or Python file"))
            return
        seen.add(real)
        targets.append(Target(_display(abs_path, cwd), lang))

    for raw in paths:
        abs_path = os.path.abspath(os.path.join(cwd, raw))
        if os.path.isfile(abs_path):
            if force_exclude and excluder.excluded(abs_path):
                continue
            add(abs_path, explicit=True)
            continue
        if not os.path.isdir(abs_path):
            problems.append((raw, NO_SUCH_PATH))
            continue
        ignores = _ancestors_ignores(abs_path) if respect_gitignore else _Ignores()
        # A committed symlink must not make cnlint read (and quote, in findings
        # and SARIF) a file outside the repository: ~/.aws/credentials, /etc/...
        boundary = os.path.realpath(project_root(abs_path, cwd)).rstrip(os.sep) + os.sep
        walk_excluder = excluder
        if excluder.excluded(abs_path, True):
            # The user named an excluded directory: lint it, matching the
            # patterns only below it (so `vendor/` deeper down stays excluded).
            walk_excluder = Excluder(excluder.patterns, abs_path)

        def walk(directory: str, ig: _Ignores) -> None:
            if respect_gitignore:
                ig = ig.child(directory)
            real_dir = os.path.realpath(directory)  # once per directory, not per file
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except OSError as e:
                problems.append((_display(directory, cwd), f"cannot read directory: {e.strerror}"))
                return
            for entry in entries:
                full = entry.path
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if walk_excluder.excluded(full, is_dir) or (respect_gitignore and ig.ignored(full, is_dir)):
                    continue
                if is_dir:
                    if not entry.is_symlink():
                        walk(full, ig)
                elif entry.is_file():
                    if entry.is_symlink():
                        real = os.path.realpath(full)
                        if not real.startswith(boundary):
                            if languages.detect(full) is not None:
                                problems.append((_display(full, cwd),
                                                 "symbolic link to a file outside the repository; not followed"))
                            continue
                        add(full, explicit=False, real=real)
                    else:
                        add(full, explicit=False, real=os.path.join(real_dir, entry.name))

        walk(abs_path, ignores)
    return targets, problems


def _head(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(128)
    except OSError:
        return b""
