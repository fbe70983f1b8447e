"""package.json reads and look-ups, each done once per process.

Every function takes absolute paths and is ``lru_cache``d, so a run over a
thousand files reads each package.json once, and asks the file system about
each directory once.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def read_json(path: str) -> dict[str, Any] | None:
    """A JSON object file, or None (missing, unreadable, not an object)."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8-sig"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@lru_cache(maxsize=None)
def is_file(path: str) -> bool:
    return os.path.isfile(path)


@lru_cache(maxsize=None)
def is_dir(path: str) -> bool:
    return os.path.isdir(path)


@lru_cache(maxsize=None)
def nearest_package_json(directory: str) -> str | None:
    """Node's package scope: the nearest package.json at or above ``directory``,
    not looking past a ``node_modules`` folder (as ``readPackageScope`` does)."""
    d = directory
    while True:
        if os.path.basename(d) == "node_modules":
            return None
        candidate = os.path.join(d, "package.json")
        if is_file(candidate):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def package_type(directory: str) -> tuple[str, str | None]:
    """("module" | "commonjs", package.json path or None) for files in ``directory``."""
    pj = nearest_package_json(directory)
    if pj is None:
        return "commonjs", None
    data = read_json(pj)
    t = data.get("type") if data else None
    return ("module" if t == "module" else "commonjs"), pj


def has_explicit_type(directory: str) -> bool:
    pj = nearest_package_json(directory)
    data = read_json(pj) if pj else None
    return bool(data) and data.get("type") in ("module", "commonjs")


@lru_cache(maxsize=None)
def node_modules_paths(directory: str) -> tuple[str, ...]:
    """Node's NODE_MODULES_PATHS(START): every ``<dir>/node_modules`` up the tree
    that exists (a ``node_modules`` segment itself is not searched inside)."""
    out = []
    d = directory
    while True:
        if os.path.basename(d) != "node_modules":
            nm = os.path.join(d, "node_modules")
            if is_dir(nm):
                out.append(nm)
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return tuple(out)


def show_path(path: str | None) -> str:
    """A path for messages: relative to the working directory when below it
    (or one level up), else absolute."""
    if not path:
        return "?"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(".." + os.sep + "..") else rel.replace(os.sep, "/")


def split_package(specifier: str) -> tuple[str, str] | None:
    """("@scope/name" | "name", "./sub/path" | ".") of a bare specifier."""
    if specifier.startswith("@"):
        parts = specifier.split("/", 2)
        if len(parts) < 2 or not parts[1]:
            return None
        name = parts[0] + "/" + parts[1]
        rest = parts[2] if len(parts) > 2 else ""
    else:
        name, _, rest = specifier.partition("/")
    if not name or name.startswith(".") or "%" in name or "\\" in name:
        return None
    return name, ("./" + rest) if rest else "."
