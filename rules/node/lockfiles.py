"""Installed versions from a lockfile, for when node_modules is not there.

Supported: ``package-lock.json`` / ``npm-shrinkwrap.json`` (lockfile v1, v2,
v3), ``pnpm-lock.yaml`` (v5 to v9), ``yarn.lock`` (classic and berry) and
``bun.lock`` (text). The version is the one Node's resolution would find from
the importing file's directory where the lockfile says (npm's nested
``node_modules/...`` keys, pnpm's importers), else the one matching the range in
the nearest package.json, else the only version locked. Without any lockfile,
the lowest version admitted by the package.json range is used, and said so.

Everything is cached per process (each lockfile is parsed once).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from .pkgjson import nearest_package_json, read_json

LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock")
DEP_FIELDS = ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


@dataclass(frozen=True)
class LockedVersion:
    name: str
    version: str  # "5.3.0"
    source: str  # "package-lock.json", "the range '^5.0.0' in package.json"
    path: str  # the file it came from
    exact: bool = True  # False: lowest of a range, or one of several locked versions


@lru_cache(maxsize=None)
def find_lockfile(directory: str) -> str | None:
    d = directory
    while True:
        for name in LOCKFILES:
            p = os.path.join(d, name)
            if os.path.isfile(p):
                return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _clean_version(v: str) -> str | None:
    v = v.strip().strip("'\"")
    v = v.split("(", 1)[0]  # pnpm peer suffix: 5.3.0(react@18.2.0)
    v = re.split(r"_(?=[@a-z])", v, maxsplit=1)[0]  # pnpm v5 peer suffix: 5.3.0_react@18.2.0
    if v.startswith("npm:") and "@" in v[4:]:
        v = v.rsplit("@", 1)[1]
    m = re.match(r"^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)", v)
    return m.group(1) if m else None


# ---------------------------------------------------------------- npm

@lru_cache(maxsize=None)
def _npm_lock(path: str) -> dict:
    data = read_json(path) or {}
    return data


def _from_npm(path: str, name: str, rel_dir: str) -> list[str]:
    data = _npm_lock(path)
    packages = data.get("packages")
    if isinstance(packages, dict):
        parts = [p for p in rel_dir.replace(os.sep, "/").split("/") if p and p != "."]
        for i in range(len(parts), -1, -1):
            prefix = "/".join(parts[:i])
            key = (prefix + "/" if prefix else "") + "node_modules/" + name
            entry = packages.get(key)
            if isinstance(entry, dict) and isinstance(entry.get("version"), str):
                return [entry["version"]]
        return []
    deps = data.get("dependencies")
    if isinstance(deps, dict) and isinstance(deps.get(name), dict):
        v = deps[name].get("version")
        return [v] if isinstance(v, str) else []
    return []


# ---------------------------------------------------------------- pnpm (a YAML subset)

def _yaml_key(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


@lru_cache(maxsize=None)
def _pnpm_lock(path: str) -> dict:
    """Block mappings of a pnpm lockfile as nested dicts (sequences and flow
    collections are kept as strings)."""
    root: dict = {}
    stack: list[tuple[int, dict]] = [(-1, root)]
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return root
    for line in lines:
        if not line.strip() or line.lstrip().startswith(("#", "- ")):
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        m = re.match(r"^((?:'[^']*'|\"[^\"]*\"|[^:\s][^:]*?)):(?:\s+(.*))?$", body)
        if not m:
            continue
        key, value = _yaml_key(m.group(1)), m.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if value is None or value == "":
            child: dict = {}
            parent[key] = child
            stack.append((indent, child))
        else:
            parent[key] = _yaml_key(value)
    return root


def _from_pnpm(path: str, name: str, rel_dir: str) -> list[str]:
    data = _pnpm_lock(path)
    importers = data.get("importers")
    candidates: list[dict] = []
    if isinstance(importers, dict):
        parts = [p for p in rel_dir.replace(os.sep, "/").split("/") if p and p != "."]
        for i in range(len(parts), -1, -1):
            imp = importers.get("/".join(parts[:i]) or ".")
            if isinstance(imp, dict):
                candidates.append(imp)
    candidates.append(data)
    for section in candidates:
        for fld in DEP_FIELDS:
            deps = section.get(fld)
            if isinstance(deps, dict) and name in deps:
                entry = deps[name]
                v = entry.get("version") if isinstance(entry, dict) else entry
                if isinstance(v, str) and not v.startswith(("link:", "file:", "workspace:")):
                    c = _clean_version(v)
                    if c:
                        return [c]
    # any locked version of the package
    out = []
    for key in (data.get("packages") or {}):
        k = key.lstrip("/")
        m = re.match(r"^(@?[^@/]+(?:/[^@/]+)?)[@/](\d[^(/_]*)", k)
        if m and m.group(1) == name:
            c = _clean_version(m.group(2))
            if c and c not in out:
                out.append(c)
    return out


# ---------------------------------------------------------------- yarn

@lru_cache(maxsize=None)
def _yarn_lock(path: str) -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """name -> [(ranges, version)]"""
    out: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return out
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" ") and line.rstrip().endswith(":"):
            header = [d.strip().strip('"') for d in line.rstrip()[:-1].split(",")]
            continue
        m = re.match(r'^\s+version:?\s+"?([^"\s]+)"?', line)
        if m and header:
            version = _clean_version(m.group(1))
            by_name: dict[str, list[str]] = {}
            for desc in header:
                at = desc.rfind("@")
                if at <= 0:
                    continue
                nm, rng = desc[:at], desc[at + 1:]
                rng = rng[4:] if rng.startswith("npm:") else rng
                by_name.setdefault(nm, []).append(rng)
            if version:
                for nm, ranges in by_name.items():
                    out.setdefault(nm, []).append((tuple(ranges), version))
            header = None
    return out


def _declared_range(directory: str, name: str) -> tuple[str, str] | None:
    pj = nearest_package_json(directory)
    data = read_json(pj) if pj else None
    if not data:
        return None
    for fld in DEP_FIELDS:
        deps = data.get(fld)
        if isinstance(deps, dict) and isinstance(deps.get(name), str):
            return deps[name], pj
    return None


def _from_yarn(path: str, name: str, directory: str) -> list[str]:
    entries = _yarn_lock(path).get(name, [])
    declared = _declared_range(directory, name)
    if declared:
        rng = declared[0][4:] if declared[0].startswith("npm:") else declared[0]
        for ranges, version in entries:
            if rng in ranges:
                return [version]
    versions = []
    for _, v in entries:
        if v not in versions:
            versions.append(v)
    return versions


# ---------------------------------------------------------------- bun

def _from_bun(path: str, name: str) -> list[str]:
    from .tsconfig import read_jsonc

    data = read_jsonc(path) or {}
    pkgs = data.get("packages")
    entry = pkgs.get(name) if isinstance(pkgs, dict) else None
    if isinstance(entry, list) and entry and isinstance(entry[0], str) and "@" in entry[0][1:]:
        c = _clean_version(entry[0].rsplit("@", 1)[1])
        return [c] if c else []
    return []


# ---------------------------------------------------------------- public

@lru_cache(maxsize=None)
def locked_version(name: str, directory: str) -> LockedVersion | None:
    """The version of ``name`` a file in ``directory`` would load, per the lockfile."""
    lock = find_lockfile(directory)
    if lock is not None:
        base = os.path.basename(lock)
        rel = os.path.relpath(directory, os.path.dirname(lock))
        if base in ("package-lock.json", "npm-shrinkwrap.json"):
            versions = _from_npm(lock, name, rel)
        elif base == "pnpm-lock.yaml":
            versions = _from_pnpm(lock, name, rel)
        elif base == "yarn.lock":
            versions = _from_yarn(lock, name, directory)
        else:
            versions = _from_bun(lock, name)
        versions = [v for v in (_clean_version(v) for v in versions) if v]
        if len(versions) == 1:
            return LockedVersion(name, versions[0], base, lock)
        if versions:
            low = min(versions, key=_vkey)
            return LockedVersion(name, low, f"{base} (lowest of {', '.join(sorted(versions, key=_vkey))})",
                                 lock, exact=False)
    declared = _declared_range(directory, name)
    if declared:
        from .nodeversion import RangeError, fmt, parse_range

        rng, pj = declared
        try:
            low = parse_range(rng[4:].rsplit("@", 1)[-1] if rng.startswith("npm:") else rng).lowest
        except RangeError:
            return None
        if low is not None:
            return LockedVersion(name, fmt(low), f"the range {rng!r} in package.json (no lockfile)", pj, exact=False)
    return None


def _vkey(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def major(version: str) -> int | None:
    m = re.match(r"^(\d+)", version)
    return int(m.group(1)) if m else None

