"""Node's module resolution and module format, as Node 18-24 implement them.

``resolve_require(specifier, directory, require_esm)`` follows Node's CommonJS
resolver (``Module._resolveFilename``; the algorithm in the "Modules:
CommonJS" docs): built-ins, relative paths with extension and index probing,
package self-reference, ``#imports``, then every ``node_modules`` up the tree
with the package's ``exports`` (conditions ``node``, ``require``, ``default``,
plus ``module-sync`` where require(esm) is on; ``import``, ``module`` and
``browser`` never match) or, without ``exports``, ``main`` then ``index``
probing. The ``module`` field is ignored, as Node ignores it.

``format_of(path)`` says what Node loads a resolved file as: ``.mjs`` ESM,
``.cjs`` CommonJS, ``.js`` by the nearest package.json's ``type`` (nested
package.json files inside a package count), and a ``.js`` file without a
``type`` that contains module syntax is "detected" ESM (Node 20.19+/22.7+).

``require_outcome(...)`` combines both with the Node floor: does ``require()``
throw (ERR_REQUIRE_ESM, ERR_REQUIRE_ASYNC_MODULE, ERR_PACKAGE_PATH_NOT_EXPORTED
for import-only exports, a SyntaxError for module syntax in a CommonJS file),
or return an ES module namespace?

Every function is cached per process on absolute paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .modinfo import module_info
from .pkgjson import (has_explicit_type, is_dir, is_file, nearest_package_json, node_modules_paths,
                      read_json, show_path, split_package)

BUILTINS = frozenset("""
assert assert/strict async_hooks buffer child_process cluster console constants crypto dgram
diagnostics_channel dns dns/promises domain events fs fs/promises http http2 https inspector
inspector/promises module net os path path/posix path/win32 perf_hooks process punycode querystring
readline readline/promises repl stream stream/consumers stream/promises stream/web string_decoder
sys timers timers/promises tls trace_events tty url util util/types v8 vm wasi worker_threads zlib
test test/reporters sqlite sea
""".split())

_UNDEF = object()  # "no condition matched": keep looking (Node's `undefined`)


class ResolveError(Exception):
    """The specifier cannot be resolved; ``code`` is Node's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def is_builtin(spec: str) -> bool:
    return spec.startswith("node:") or spec in BUILTINS


def conditions(kind: str, require_esm: bool) -> frozenset[str]:
    base = {"node", "require" if kind == "require" else "import"}
    if require_esm:
        base.add("module-sync")
    return frozenset(base)


# ---------------------------------------------------------------- exports / imports

def _pattern_key_compare(a: str) -> tuple:
    """Sort key giving Node's PATTERN_KEY_COMPARE order (most specific first)."""
    i = a.find("*")
    base_len = len(a) if i == -1 else i + 1
    return (-base_len, 0 if i != -1 else 1, -len(a))


def _target_resolve(pkg_dir: str, target: Any, pattern: str | None, is_imports: bool,
                    conds: frozenset[str], via: list[str]) -> Any:
    """PACKAGE_TARGET_RESOLVE: a path, ("bare", spec), None (excluded) or _UNDEF."""
    if isinstance(target, str):
        if not target.startswith("./"):
            if is_imports and not target.startswith(("../", "/")) and ":" not in target.split("/")[0]:
                return ("bare", target.replace("*", pattern) if pattern is not None else target)
            raise ResolveError("ERR_INVALID_PACKAGE_TARGET", f"invalid target {target!r}")
        segs = target[2:].split("/")
        if any(s in ("", ".", "..", "node_modules") for s in segs[:-1]) or segs[-1] in (".", "..", "node_modules"):
            raise ResolveError("ERR_INVALID_PACKAGE_TARGET", f"invalid target {target!r}")
        rel = target.replace("*", pattern) if pattern is not None else target
        return os.path.normpath(os.path.join(pkg_dir, rel))
    if isinstance(target, list):
        last: Any = _UNDEF
        for item in target:
            try:
                r = _target_resolve(pkg_dir, item, pattern, is_imports, conds, via)
            except ResolveError as e:
                last = e
                continue
            if r is _UNDEF:
                continue
            if r is None:
                last = None
                continue
            return r
        if isinstance(last, ResolveError):
            raise last
        return last
    if isinstance(target, dict):
        for key, value in target.items():
            if key == "default" or key in conds:
                via.append(key)
                r = _target_resolve(pkg_dir, value, pattern, is_imports, conds, via)
                if r is _UNDEF:
                    via.pop()
                    continue
                return r
        return _UNDEF
    if target is None:
        return None
    raise ResolveError("ERR_INVALID_PACKAGE_TARGET", f"invalid target {target!r}")


def _match_resolve(key: str, obj: dict, pkg_dir: str, is_imports: bool, conds: frozenset[str],
                   via: list[str]) -> Any:
    """PACKAGE_IMPORTS_EXPORTS_RESOLVE."""
    if key in obj and "*" not in key:
        via.append(key)
        return _target_resolve(pkg_dir, obj[key], None, is_imports, conds, via)
    for k in sorted((k for k in obj if k.count("*") == 1), key=_pattern_key_compare):
        base, trailer = k.split("*", 1)
        if key.startswith(base) and key != base:
            if not trailer or (key.endswith(trailer) and len(key) >= len(k)):
                via.append(k)
                match = key[len(base): len(key) - len(trailer)]
                return _target_resolve(pkg_dir, obj[k], match, is_imports, conds, via)
    return None


def exports_resolve(pkg_dir: str, subpath: str, exports: Any, conds: frozenset[str]) -> tuple[Any, str]:
    """PACKAGE_EXPORTS_RESOLVE: (path | None | _UNDEF, 'exports["."].require' style trail)."""
    via: list[str] = []
    if isinstance(exports, dict) and exports:
        dotted = [k.startswith(".") for k in exports]
        if any(dotted) and not all(dotted):
            raise ResolveError("ERR_INVALID_PACKAGE_CONFIG", "exports mixes subpaths and conditions")
        if all(dotted):
            r = _match_resolve(subpath, exports, pkg_dir, False, conds, via)
            return r, _trail("exports", via)
    if subpath == ".":
        r = _target_resolve(pkg_dir, exports, None, False, conds, via)
        return r, _trail("exports", ["."] + via)
    return None, _trail("exports", via)


def _trail(name: str, via: list[str]) -> str:
    return name + "".join(f"[{v!r}]" for v in via)


# ---------------------------------------------------------------- file probing

def _load_as_file(x: str) -> str | None:
    for cand in (x, x + ".js", x + ".json", x + ".node"):
        if is_file(cand):
            return cand
    return None


def _load_index(x: str) -> str | None:
    for name in ("index.js", "index.json", "index.node"):
        cand = os.path.join(x, name)
        if is_file(cand):
            return cand
    return None


def _load_as_directory(x: str) -> tuple[str | None, str]:
    pj = os.path.join(x, "package.json")
    data = read_json(pj) if is_file(pj) else None
    main = data.get("main") if data else None
    if isinstance(main, str) and main:
        m = os.path.normpath(os.path.join(x, main))
        f = _load_as_file(m) or _load_index(m)
        if f:
            return f, f'"main": {main!r}'
    f = _load_index(x)
    return f, ("index file" if f else "")


def _load_cjs_path(x: str) -> tuple[str | None, str]:
    f = _load_as_file(x)
    if f:
        return f, "file"
    return _load_as_directory(x)


def _realpath(p: str) -> str:
    return _realpath_cached(p)


@lru_cache(maxsize=None)
def _realpath_cached(p: str) -> str:
    return os.path.realpath(p)


# ---------------------------------------------------------------- resolution

@dataclass(frozen=True)
class Resolved:
    """Where a specifier goes. ``path`` is None when it does not resolve."""

    specifier: str
    path: str | None = None
    package: str | None = None  # package name, for bare specifiers
    package_dir: str | None = None
    via: str = ""  # how: 'exports["."]["require"]', '"main": "index.js"', ...
    builtin: bool = False
    error: str | None = None  # Node's error code when resolution throws
    error_detail: str = ""

    @property
    def version(self) -> str | None:
        if not self.package_dir:
            return None
        data = read_json(os.path.join(self.package_dir, "package.json")) or {}
        v = data.get("version")
        return v if isinstance(v, str) else None


def _package_resolve_in(nm: str, name: str, subpath: str, conds: frozenset[str], kind: str,
                        spec: str) -> Resolved | None:
    pkg_dir = os.path.join(nm, name)
    pj = os.path.join(pkg_dir, "package.json")
    data = read_json(pj) if is_file(pj) else None
    if data is not None and "exports" in data and data["exports"] is not None:
        try:
            r, via = exports_resolve(pkg_dir, subpath, data["exports"], conds)
        except ResolveError as e:
            return Resolved(spec, None, name, pkg_dir, error=e.code, error_detail=str(e))
        if r is None or r is _UNDEF or isinstance(r, tuple):
            what = "No \"exports\" main defined" if subpath == "." else f"Package subpath {subpath!r} is not defined by \"exports\""
            return Resolved(spec, None, name, pkg_dir, via=via, error="ERR_PACKAGE_PATH_NOT_EXPORTED",
                            error_detail=f"{what} in {pj}")
        if not is_file(r):
            return Resolved(spec, None, name, pkg_dir, via=via, error="MODULE_NOT_FOUND",
                            error_detail=f"{r} (from {via}) does not exist")
        return Resolved(spec, _realpath(r), name, pkg_dir, via=via)
    if not is_dir(pkg_dir) and not is_file(pkg_dir + ".js"):
        return None
    target = os.path.join(nm, name) if subpath == "." else os.path.join(nm, name, subpath[2:])
    if kind == "require":
        f, how = _load_cjs_path(target)
    else:
        f, how = _esm_legacy(target, subpath)
    if f is None:
        if not is_dir(pkg_dir):
            return None
        return Resolved(spec, None, name, pkg_dir, error="MODULE_NOT_FOUND", error_detail=f"nothing at {target}")
    return Resolved(spec, _realpath(f), name, pkg_dir if is_dir(pkg_dir) else None, via=how)


def _esm_legacy(target: str, subpath: str) -> tuple[str | None, str]:
    """The ESM resolver without exports: LEGACY_MAIN_RESOLVE for ".", exact files otherwise."""
    if subpath != ".":
        return (target, "file") if is_file(target) else (None, "")
    data = read_json(os.path.join(target, "package.json")) or {}
    main = data.get("main")
    if isinstance(main, str) and main:
        m = os.path.normpath(os.path.join(target, main))
        for cand in (m, m + ".js", m + ".json", m + ".node", os.path.join(m, "index.js"),
                     os.path.join(m, "index.json"), os.path.join(m, "index.node")):
            if is_file(cand):
                return cand, f'"main": {main!r}'
    cand = os.path.join(target, "index.js")
    return (cand, "index file") if is_file(cand) else (None, "")


def _self_resolve(spec: str, name: str, subpath: str, directory: str, conds: frozenset[str]) -> Resolved | None:
    pj = nearest_package_json(directory)
    data = read_json(pj) if pj else None
    if not data or data.get("name") != name or data.get("exports") is None:
        return None
    pkg_dir = os.path.dirname(pj)
    try:
        r, via = exports_resolve(pkg_dir, subpath, data["exports"], conds)
    except ResolveError as e:
        return Resolved(spec, None, name, pkg_dir, error=e.code, error_detail=str(e))
    if isinstance(r, str) and is_file(r):
        return Resolved(spec, _realpath(r), name, pkg_dir, via="self-reference " + via)
    return Resolved(spec, None, name, pkg_dir, via=via, error="ERR_PACKAGE_PATH_NOT_EXPORTED",
                    error_detail=f"{subpath!r} is not exported by {pj}")


def _imports_resolve(spec: str, directory: str, conds: frozenset[str], kind: str, depth: int) -> Resolved:
    pj = nearest_package_json(directory)
    data = read_json(pj) if pj else None
    imports = data.get("imports") if data else None
    if not isinstance(imports, dict):
        return Resolved(spec, error="ERR_PACKAGE_IMPORT_NOT_DEFINED", error_detail=f"no \"imports\" in {pj}")
    pkg_dir = os.path.dirname(pj)
    via: list[str] = []
    try:
        r = _match_resolve(spec, imports, pkg_dir, True, conds, via)
    except ResolveError as e:
        return Resolved(spec, error=e.code, error_detail=str(e))
    if isinstance(r, tuple) and depth < 8:
        inner = _resolve(r[1], pkg_dir, kind, conds, depth + 1)
        return inner
    if isinstance(r, str) and is_file(r):
        return Resolved(spec, _realpath(r), None, None, via=_trail("imports", via))
    return Resolved(spec, error="ERR_PACKAGE_IMPORT_NOT_DEFINED", error_detail=f"{spec!r} not in \"imports\" of {pj}")


def _resolve(spec: str, directory: str, kind: str, conds: frozenset[str], depth: int = 0) -> Resolved:
    if is_builtin(spec):
        return Resolved(spec, builtin=True)
    if spec.startswith("#"):
        return _imports_resolve(spec, directory, conds, kind, depth)
    if spec.startswith(("./", "../", "/")) or spec in (".", ".."):
        target = os.path.normpath(os.path.join(directory, spec))
        if kind == "require":
            f, how = _load_cjs_path(target)
        else:
            f, how = (target, "file") if is_file(target) else (None, "")
        if f is None:
            return Resolved(spec, error="MODULE_NOT_FOUND", error_detail=f"nothing at {target}")
        return Resolved(spec, _realpath(f), via=how)
    if spec.startswith("file:") or ":" in spec.split("/")[0]:
        return Resolved(spec, error="UNSUPPORTED", error_detail="URL specifier")
    parts = split_package(spec)
    if parts is None:
        return Resolved(spec, error="MODULE_NOT_FOUND", error_detail="invalid package name")
    name, subpath = parts
    r = _self_resolve(spec, name, subpath, directory, conds)
    if r is not None:
        return r
    for nm in node_modules_paths(directory):
        r = _package_resolve_in(nm, name, subpath, conds, kind, spec)
        if r is not None:
            return r
    return Resolved(spec, package=name, error="MODULE_NOT_FOUND", error_detail="not installed")


@lru_cache(maxsize=None)
def resolve(spec: str, directory: str, kind: str = "require", require_esm: bool = False) -> Resolved:
    """Resolve ``spec`` as ``require()`` (kind "require") or ``import`` (kind
    "import") would from a file in ``directory`` (absolute)."""
    return _resolve(spec, directory, kind, conditions(kind, require_esm))


def resolve_require(spec: str, directory: str, require_esm: bool) -> Resolved:
    """Resolve for require(); package look-ups are shared by every directory
    using the same node_modules folders (cached on (node_modules dirs, spec))."""
    if spec.startswith((".", "/", "#")) or is_builtin(spec):
        return resolve(spec, directory, "require", require_esm)
    parts = split_package(spec)
    if parts is not None:
        pj = nearest_package_json(directory)
        data = read_json(pj) if pj else None
        if data and data.get("name") == parts[0] and data.get("exports") is not None:
            return resolve(spec, directory, "require", require_esm)  # self-reference
    return _resolve_in_node_modules(spec, node_modules_paths(directory), require_esm)


@lru_cache(maxsize=None)
def _resolve_in_node_modules(spec: str, nms: tuple[str, ...], require_esm: bool) -> Resolved:
    parts = split_package(spec)
    if parts is None:
        return Resolved(spec, error="MODULE_NOT_FOUND", error_detail="invalid package name")
    name, subpath = parts
    conds = conditions("require", require_esm)
    for nm in nms:
        r = _package_resolve_in(nm, name, subpath, conds, "require", spec)
        if r is not None:
            return r
    return Resolved(spec, package=name, error="MODULE_NOT_FOUND", error_detail="not installed")


# ---------------------------------------------------------------- formats

@dataclass(frozen=True)
class Format:
    kind: str  # "esm" | "commonjs" | "json" | "addon" | "ambiguous-esm" | "cjs-with-esm-syntax"
    why: str


@lru_cache(maxsize=None)
def format_of(path: str) -> Format:
    ext = os.path.splitext(path)[1].lower()
    if ext == ".mjs":
        return Format("esm", "it is a .mjs file")
    if ext == ".cjs":
        return Format("commonjs", "it is a .cjs file")
    if ext == ".json":
        return Format("json", "JSON")
    if ext == ".node":
        return Format("addon", "native addon")
    directory = os.path.dirname(path)
    pj = nearest_package_json(directory)
    data = read_json(pj) if pj else None
    t = data.get("type") if data else None
    if ext in (".js", "") or ext not in (".mts", ".cts", ".ts"):
        if t == "module" and ext == ".js":
            return Format("esm", f'"type": "module" in {show_path(pj)}')
        info = module_info(path)
        if info.module_syntax:
            if has_explicit_type(directory):
                return Format("cjs-with-esm-syntax",
                              f'it contains import/export syntax but {show_path(pj)} says "type": "commonjs"')
            return Format("ambiguous-esm", "it contains import/export syntax and "
                          + (f"{show_path(pj)} has no \"type\" (Node detects it as ESM)" if pj
                             else "no package.json gives a \"type\""))
        return Format("commonjs", (f'"type": "commonjs" in {show_path(pj)}' if t == "commonjs" else
                                   f'no "type" in {show_path(pj)}' if pj else "no package.json"))
    return Format("commonjs", f"{ext} file")


# ---------------------------------------------------------------- top-level await

@dataclass(frozen=True)
class Tla:
    path: str
    line: int
    text: str
    chain: tuple[str, ...] = field(default=())  # files from the entry to ``path``


def _is_esm(path: str) -> bool:
    return format_of(path).kind in ("esm", "ambiguous-esm")


@lru_cache(maxsize=None)
def find_tla(entry: str, require_esm: bool = True) -> Tla | None:
    """The first top-level await in the ES module graph of ``entry``, following
    static imports (breadth first) through ES modules; CommonJS ends a branch."""
    seen = {entry}
    queue: list[tuple[str, tuple[str, ...]]] = [(entry, (entry,))]
    while queue:
        path, chain = queue.pop(0)
        info = module_info(path)
        if info.tla is not None:
            return Tla(path, info.tla[0], info.tla[1], chain)
        directory = os.path.dirname(path)
        for spec in info.imports:
            if is_builtin(spec):
                continue
            r = resolve(spec, directory, "import", require_esm)
            if r.path and r.path not in seen and _is_esm(r.path):
                seen.add(r.path)
                queue.append((r.path, chain + (r.path,)))
        if len(seen) > 5000:
            break
    return None


@lru_cache(maxsize=None)
def esm_exports(entry: str, require_esm: bool = True) -> frozenset[str] | None:
    """Names the ES module at ``entry`` exports (following ``export *``), or
    None when some of them cannot be known."""
    names: set[str] = set()
    seen = set()
    stack = [(entry, True)]
    while stack:
        path, top = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        info = module_info(path)
        if not info.parsed:
            return None
        names |= info.exports if top else info.exports - {"default"}
        for spec in info.star_from:
            r = resolve(spec, os.path.dirname(path), "import", require_esm)
            if not r.path:
                if r.builtin:
                    return None
                continue
            if not _is_esm(r.path):
                return None  # export * from CommonJS: names known only at run time
            stack.append((r.path, False))
    return frozenset(names)


# ---------------------------------------------------------------- outcome of require()

@dataclass(frozen=True)
class Outcome:
    """What ``require(specifier)`` does on the target Node."""

    status: str  # "ok" | "throws" | "namespace" | "unresolved"
    code: str = ""  # ERR_REQUIRE_ESM, ERR_REQUIRE_ASYNC_MODULE, ERR_PACKAGE_PATH_NOT_EXPORTED, SyntaxError
    resolved: Resolved | None = None
    fmt: Format | None = None
    why: str = ""  # why it is ESM / why it throws
    tla: Tla | None = None
    exports: frozenset[str] | None = None


def _import_only(res: Resolved, spec: str, directory: str) -> Resolved | None:
    """For a not-exported require: does ``import`` resolve it (an ESM-only ``exports``)?"""
    r = resolve(spec, directory, "import", True)
    return r if r.path else None


@lru_cache(maxsize=None)
def require_outcome(spec: str, directory: str, require_esm: bool) -> Outcome:
    res = resolve_require(spec, directory, require_esm)
    if res.builtin:
        return Outcome("ok", resolved=res)
    if res.path is None:
        if res.error == "ERR_PACKAGE_PATH_NOT_EXPORTED":
            imp = _import_only(res, spec, directory)
            if imp is not None:
                return Outcome("throws", "ERR_PACKAGE_PATH_NOT_EXPORTED", res, format_of(imp.path),
                               f'its "exports" only has an "import" entry ({imp.via} -> '
                               f'{os.path.relpath(imp.path, _realpath(res.package_dir or directory))}), '
                               f'none for require')
        return Outcome("unresolved", res.error or "", res)
    fmt = format_of(res.path)
    if fmt.kind in ("commonjs", "json", "addon"):
        return Outcome("ok", resolved=res, fmt=fmt)
    if fmt.kind == "cjs-with-esm-syntax":
        return Outcome("throws", "SyntaxError", res, fmt, fmt.why)
    if not require_esm:
        code = "ERR_REQUIRE_ESM" if fmt.kind == "esm" else "SyntaxError"
        return Outcome("throws", code, res, fmt, fmt.why, tla=find_tla(res.path, True))
    tla = find_tla(res.path, True)
    if tla is not None:
        return Outcome("throws", "ERR_REQUIRE_ASYNC_MODULE", res, fmt, fmt.why, tla=tla)
    return Outcome("namespace", "", res, fmt, fmt.why, exports=esm_exports(res.path, True))


def clear_caches() -> None:
    """Forget every cached project fact (package.json files, tsconfig files,
    lockfiles, resolutions). A long-running process (the editor server) calls
    this when a package.json, tsconfig, lockfile or node_modules changes."""
    from . import lockfiles, modinfo, nodeversion, pkgjson, tsconfig

    for module in (lockfiles, modinfo, nodeversion, pkgjson, tsconfig, __import__(__name__, fromlist=["x"])):
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", "") == module.__name__:
                value.cache_clear()


from cnlint.project import on_clear  # noqa: E402 - registered once the function exists

on_clear(clear_caches)
