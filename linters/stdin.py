"""Linting text read from stdin (``cnlint check - --stdin-filename path``), for
editor plugins that pipe a buffer (conform.nvim, none-ls, flymake).

The text is linted as if it were the file ``--stdin-filename`` names (the file
need not exist): config discovery, ``per-file-ignores``, ``exclude`` (with
``--force-exclude``), the language and the project facts (go.mod,
package.json, tsconfig.json around it) all come from that name. Without a
name, the language is guessed from a shebang, and the path shown is ``-``.
"""

from __future__ import annotations

import os

from . import languages
from .config import Config
from .discovery import Excluder, _display
from .engine import Engine, Selection
from .loader import Registry
from .model import merge_order
from .runner import RunResult, assign_fingerprints

STDIN = "-"


class UnknownLanguage(Exception):
    """The language of stdin cannot be told from the name or a shebang."""


def display_path(filename: str | None, cwd: str | None = None) -> str:
    """The path findings name: ``filename`` as discovery would show it, or ``-``."""
    if not filename:
        return STDIN
    cwd = cwd or os.getcwd()
    return _display(os.path.abspath(os.path.join(cwd, filename)), cwd)


def language_of(filename: str | None, data: bytes) -> str:
    """The language of stdin, from ``filename``'s extension or a shebang (raises UnknownLanguage)."""
    head = data[:128]
    lang = languages.detect(filename or "", head) if filename else languages.detect("", head)
    if lang is None:
        if filename:
            raise UnknownLanguage(f"--stdin-filename {filename}: not a Go, TypeScript, JavaScript or Python "
                                  "file name (name it with its extension, e.g. main.go)")
        raise UnknownLanguage("cannot tell the language of stdin: pass --stdin-filename with the file's name "
                              "(e.g. --stdin-filename main.go), or start the text with a shebang")
    return lang


def excluded(filename: str | None, cfg: Config, cwd: str | None = None) -> bool:
    """Whether ``exclude`` matches ``filename`` (only asked with --force-exclude, as ruff does)."""
    if not filename:
        return False
    full = os.path.abspath(os.path.join(cwd or os.getcwd(), filename))
    return Excluder(cfg.excludes, cfg.root).excluded(full)


def run_stdin(data: bytes, filename: str | None, cfg: Config, registry: Registry, selection: Selection, *,
              language: str, skip: bool = False, cwd: str | None = None) -> RunResult:
    """Lint ``data`` as the file ``filename``; ``skip``: excluded, nothing is linted."""
    cwd = cwd or os.getcwd()
    result = RunResult(enabled=selection.enabled, registry=registry, root=cfg.root)
    result.notices.extend(registry.notices)
    if skip:
        return result
    result.files = 1
    fr = Engine(cfg, registry, selection, cwd=cwd).check(display_path(filename, cwd), language, data)
    result.findings = assign_fingerprints(sorted(fr.findings, key=merge_order))
    result.suppressed = assign_fingerprints(sorted(fr.suppressed, key=merge_order))
    result.notices.extend(fr.notices)
    result.notices.sort(key=lambda n: (not n.is_error, n.path, n.message))
    result.parsed = int(fr.parsed)
    result.generated = int(fr.generated)
    return result
