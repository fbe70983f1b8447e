"""What the CI report formats (junit, gitlab, checkstyle, rdjson) share.

Paths are relative to the repository root, as in the SARIF log and the
``github`` format (``sarif.repo_relative``); a file outside the root keeps its
absolute path.
"""

from __future__ import annotations

import os

from ..runner import RunResult
from .sarif import find_repo_root, has_own_docs, repo_relative


def report_root(result: RunResult, repo_root: str | None = None) -> str:
    return os.path.abspath(repo_root) if repo_root else find_repo_root(result.root)


def report_path(path: str, root: str) -> str:
    rel = repo_relative(path, root)
    return rel if rel is not None else os.path.abspath(path).replace(os.sep, "/")


def rule_url(result: RunResult, rule_id: str) -> str | None:
    """The rule's documentation, when it has some (built-in rules, or a custom rule that says where)."""
    info = result.registry.rules.get(rule_id) if result.registry is not None else None
    if info is None or not has_own_docs(info.meta, info.origin):
        return None
    return info.meta.docs_url() or None
