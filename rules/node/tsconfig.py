"""The tsconfig.json that compiles a TypeScript file, and what it emits.

``config_for(path)`` walks up from the file to the first tsconfig.json that
includes it (``files``/``include``/``exclude``, inherited through ``extends``;
a solution-style config's ``references`` are searched too), falling back to the
nearest tsconfig.json. ``extends`` is followed through relative paths and
packages in node_modules (a string or, TypeScript 5+, a list). Configs are
JSONC (comments, trailing commas). Everything is cached per process.

``emit_mode(path)`` says what the compiled file does with imports:
``"cjs"`` (TypeScript writes ``require()``: ``module`` commonjs/umd, or
node16/node18/node20/nodenext for a ``.cts`` file or a ``.ts`` file under a
package.json without ``"type": "module"``), ``"esm"`` (import syntax is kept),
or ``"none"`` (declaration files).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .pkgjson import is_dir, is_file, node_modules_paths, package_type, read_json, show_path

NODE_MODES = ("node16", "node18", "node20", "nodenext")
CJS_MODES = ("commonjs", "umd")
TS_EXTS = (".ts", ".tsx", ".mts", ".cts")
JS_EXTS = (".js", ".jsx", ".mjs", ".cjs")
DECL_RE = re.compile(r"\.d\.(?:[mc]?ts|[^.]+\.ts)$")

#: Bases from @tsconfig/* used when node_modules is missing (their `module`).
KNOWN_BASES = {
    "@tsconfig/node10": "commonjs", "@tsconfig/node12": "commonjs", "@tsconfig/node14": "commonjs",
    "@tsconfig/node16": "node16", "@tsconfig/node18": "node16", "@tsconfig/node20": "node16",
    "@tsconfig/node21": "node16", "@tsconfig/node22": "node16", "@tsconfig/node23": "nodenext",
    "@tsconfig/node24": "nodenext", "@tsconfig/node-lts": "node16", "@tsconfig/strictest": None,
}


def strip_jsonc(text: str) -> str:
    """Remove comments and trailing commas from JSONC text (strings are kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j == -1 else j + 2
        else:
            out.append(c)
            i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


@lru_cache(maxsize=None)
def read_jsonc(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            data = json.loads(strip_jsonc(f.read()))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class TsConfig:
    path: str
    options: dict[str, Any]  # merged compilerOptions, keys lower-cased, string values lower-cased
    files: tuple[str, ...] | None  # absolute
    include: tuple[str, ...] | None  # absolute patterns
    exclude: tuple[str, ...] | None
    references: tuple[str, ...] = ()
    unknown_base: str = ""  # an `extends` that could not be read
    chain: tuple[str, ...] = field(default=())

    @property
    def module(self) -> str:
        m = self.options.get("module")
        if isinstance(m, str):
            return m.lower()
        target = str(self.options.get("target", "es5")).lower()
        if target in ("es3", "es5"):
            return "commonjs"
        if target in ("esnext",) or target.startswith("es20"):
            return "es2015"
        return "commonjs"

    def flag(self, name: str) -> bool:
        return self.options.get(name.lower()) is True

    def includes(self, path: str) -> bool:
        path = os.path.normpath(path)
        if self.files is not None and path in self.files:
            return True
        include = self.include
        if include is None:
            include = () if self.files is not None else (os.path.join(os.path.dirname(self.path), "**", "*"),)
        if not any(_glob_re(p).match(path) for p in include):
            return False
        ext_ok = path.endswith(TS_EXTS) or (self.flag("allowJs") and path.endswith(JS_EXTS))
        if not ext_ok:
            return False
        exclude = self.exclude
        if exclude is None:
            base = os.path.dirname(self.path)
            exclude = tuple(os.path.join(base, d) for d in ("node_modules", "bower_components", "jspm_packages"))
            out_dir = self.options.get("outdir_abs")
            if out_dir:
                exclude += (out_dir,)
        return not any(_glob_re(p, prefix=True).match(path) for p in exclude)


@lru_cache(maxsize=None)
def _glob_re(pattern: str, prefix: bool = False) -> re.Pattern:
    """tsconfig include/exclude glob -> regex. A last segment without a dot or
    wildcard names a directory (everything below it)."""
    pattern = os.path.normpath(pattern)
    last = os.path.basename(pattern)
    if "*" not in last and "?" not in last and "." not in last:
        pattern = os.path.join(pattern, "**", "*")
    out = []
    i = 0
    sep = re.escape(os.sep)
    while i < len(pattern):
        if pattern.startswith("**" + os.sep, i):
            out.append(f"(?:[^{sep}]*{sep})*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append(f"[^{sep}]*")
            i += 1
        elif pattern[i] == "?":
            out.append(f"[^{sep}]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    return re.compile(body + (f"(?:{sep}.*)?$" if prefix else "$"))


def _resolve_extends(spec: str, base_dir: str) -> str | None:
    if spec.startswith((".", "/")) or os.path.isabs(spec):
        p = os.path.normpath(os.path.join(base_dir, spec))
        for cand in (p, p + ".json", os.path.join(p, "tsconfig.json")):
            if is_file(cand):
                return cand
        return None
    for nm in node_modules_paths(base_dir):
        p = os.path.join(nm, spec)
        for cand in (p, p + ".json"):
            if is_file(cand):
                return cand
        if is_dir(p):
            data = read_json(os.path.join(p, "package.json")) or {}
            t = data.get("tsconfig")
            if isinstance(t, str) and is_file(os.path.join(p, t)):
                return os.path.join(p, t)
            if is_file(os.path.join(p, "tsconfig.json")):
                return os.path.join(p, "tsconfig.json")
    return None


_PATH_OPTIONS = ("outdir", "rootdir")


@lru_cache(maxsize=None)
def load(path: str, depth: int = 0) -> TsConfig | None:
    data = read_jsonc(path)
    if data is None:
        return None
    base_dir = os.path.dirname(path)
    options: dict[str, Any] = {}
    files = include = exclude = None
    unknown = ""
    chain: tuple[str, ...] = ()
    ext = data.get("extends")
    for spec in ([ext] if isinstance(ext, str) else ext if isinstance(ext, list) else []):
        if not isinstance(spec, str):
            continue
        target = _resolve_extends(spec, base_dir) if depth < 16 else None
        parent = load(target, depth + 1) if target else None
        if parent is None:
            unknown = spec
            key = spec[:-len("/tsconfig.json")] if spec.endswith("/tsconfig.json") else spec
            key = key[:-5] if key.endswith(".json") else key
            if KNOWN_BASES.get(key):
                options["module"] = KNOWN_BASES[key]
            continue
        options.update(parent.options)
        files = parent.files if parent.files is not None else files
        include = parent.include if parent.include is not None else include
        exclude = parent.exclude if parent.exclude is not None else exclude
        unknown = unknown or parent.unknown_base
        chain += parent.chain
    co = data.get("compilerOptions")
    if isinstance(co, dict):
        for k, v in co.items():
            key = k.lower()
            options[key] = v.lower() if isinstance(v, str) and key not in _PATH_OPTIONS else v
            if key == "outdir" and isinstance(v, str):
                options["outdir_abs"] = os.path.normpath(os.path.join(base_dir, v))

    def paths(key: str):
        v = data.get(key)
        if isinstance(v, list):
            return tuple(os.path.normpath(os.path.join(base_dir, p)) for p in v if isinstance(p, str))
        return None

    files = paths("files") if paths("files") is not None else files
    include = paths("include") if paths("include") is not None else include
    exclude = paths("exclude") if paths("exclude") is not None else exclude
    refs = []
    for r in data.get("references") or ():
        if isinstance(r, dict) and isinstance(r.get("path"), str):
            p = os.path.normpath(os.path.join(base_dir, r["path"]))
            refs.append(os.path.join(p, "tsconfig.json") if is_dir(p) else p)
    return TsConfig(path, options, files, include, exclude, tuple(refs), unknown, (path,) + chain)


def _including(cfg: TsConfig, path: str, depth: int = 0) -> TsConfig | None:
    if cfg.includes(path) and not (cfg.files == () and cfg.references):
        return cfg
    for ref in cfg.references:
        sub = load(ref) if is_file(ref) else None
        if sub is not None and depth < 8:
            hit = _including(sub, path, depth + 1)
            if hit is not None:
                return hit
    return None


@lru_cache(maxsize=None)
def config_for(path: str) -> TsConfig | None:
    """The tsconfig that compiles ``path`` (absolute), else the nearest one."""
    d = os.path.dirname(path)
    nearest = None
    while True:
        if os.path.basename(d) == "node_modules":
            break
        candidate = os.path.join(d, "tsconfig.json")
        if is_file(candidate):
            cfg = load(candidate)
            if cfg is not None:
                nearest = nearest or cfg
                hit = _including(cfg, path)
                if hit is not None:
                    return hit
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return nearest


@dataclass(frozen=True)
class Emit:
    mode: str  # "cjs" | "esm" | "none"
    module: str  # the tsconfig's module ("" without tsconfig)
    why: str
    config: TsConfig | None = None
    runtime_cjs: bool = False  # Node runs the output as CommonJS (extension, package type)

    @property
    def downlevels_dynamic_import(self) -> bool:
        """`import()` becomes `require()` in CommonJS output, except under node16+."""
        return self.mode == "cjs" and self.module not in NODE_MODES and self.module != ""

    @property
    def equals_is_require(self) -> bool:
        """`import x = require()` is a run-time require(): CommonJS output, or
        `module: preserve` in a file Node runs as CommonJS."""
        if self.mode == "cjs":
            return True
        return self.module == "preserve" and self.runtime_cjs


    @property
    def keeps_all_imports(self) -> bool:
        """Imports used only as types still load the module: verbatimModuleSyntax, or
        the flags it replaced (honoured by TypeScript < 5.5 only)."""
        c = self.config
        if c is None:
            return False
        if c.flag("verbatimModuleSyntax"):
            return True
        legacy = c.flag("preserveValueImports") or str(c.options.get("importsnotusedasvalues", "")).lower() in (
            "preserve", "error")
        return legacy and typescript_version(os.path.dirname(c.path)) < (5, 5)

    @property
    def keeps_type_only_side_effect(self) -> bool:
        """`import {type A} from 'p'` keeps a bare `require('p')` (verbatimModuleSyntax)."""
        return self.config is not None and self.config.flag("verbatimModuleSyntax")


@lru_cache(maxsize=None)
def typescript_version(directory: str) -> tuple[int, int]:
    """The installed TypeScript's (major, minor); (99, 0) when it is not installed."""
    for nm in node_modules_paths(directory):
        data = read_json(os.path.join(nm, "typescript", "package.json"))
        if data and isinstance(data.get("version"), str):
            m = re.match(r"(\d+)\.(\d+)", data["version"])
            if m:
                return int(m.group(1)), int(m.group(2))
    return (99, 0)


def _by_package(path: str, module: str, cfg: TsConfig | None, source: str) -> Emit:
    ext = os.path.splitext(path)[1].lower()
    if ext in (".cts", ".cjs"):
        return Emit("cjs", module, f"a {ext} file is CommonJS", cfg)
    if ext in (".mts", ".mjs"):
        return Emit("esm", module, f"a {ext} file is an ES module", cfg)
    t, pj = package_type(os.path.dirname(path))
    if t == "module":
        return Emit("esm", module, f'{source}, and {show_path(pj)} has "type": "module"', cfg)
    where = f"{show_path(pj)} has no \"type\": \"module\"" if pj else "no package.json gives a \"type\""
    return Emit("cjs", module, f"{source}, and {where}", cfg)


@lru_cache(maxsize=None)
def emit_mode(path: str) -> Emit:
    """What TypeScript emits for the TS file ``path`` (absolute), as tsc 5 does:

    - commonjs/umd: require() everywhere but in ``.mts`` files (ESM);
    - node16/node18/node20/nodenext: by extension and package ``type``;
    - es2015...esnext: import syntax, but ``.cts`` files get require();
    - preserve: import syntax everywhere (``import x = require()`` stays a require()).
    """
    if DECL_RE.search(path):
        return Emit("none", "", "declaration file")
    cfg = config_for(path)
    if cfg is None:
        return _by_package(path, "", None, "no tsconfig.json")
    module = cfg.module
    rel = show_path(cfg.path)
    ext = os.path.splitext(path)[1].lower()
    if module in NODE_MODES:
        return _by_package(path, module, cfg, f'"module": "{module}" in {rel}')
    if module in ("amd", "system", "none"):
        return Emit("none", module, f'"module": "{module}" does not run on Node', cfg)
    if module in CJS_MODES:
        if ext == ".mts":
            return Emit("esm", module, "a .mts file is emitted as an ES module", cfg)
        return Emit("cjs", module, f'"module": "{module}" in {rel}', cfg)
    if ext == ".cts" and module != "preserve":
        return Emit("cjs", module, "a .cts file is emitted as CommonJS", cfg)
    runtime_cjs = _by_package(path, module, cfg, "").mode == "cjs"
    return Emit("esm", module, f'"module": "{module}" in {rel} keeps import syntax', cfg, runtime_cjs)
