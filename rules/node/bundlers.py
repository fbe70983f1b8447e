"""Which packages a bundler inlines into the code that runs.

A file that a bundler packs (webpack, esbuild, rollup, vite, tsup, ncc,
parcel) never calls ``require('pkg')`` at run time for a package the bundle
inlines: the bundler resolves the package's ES module at build time. The
evidence is read from the package that owns the file (its nearest
package.json): a bundler's config file next to it, a script that runs one (or
runs a build file that calls a bundler's API: ``node esbuild.js``), or a
bundler in its devDependencies. Each bundler's default for dependencies is
kept, because that decides what is still ``require()``d:

- webpack, esbuild (``--bundle``), ncc, rollup with its node-resolve plugin,
  vite (client build): inline every package, except ``externals`` /
  ``--external:pkg`` / ``packages: 'external'`` / ``webpack-node-externals``;
- tsup, vite's SSR build, parcel: leave ``dependencies`` and
  ``peerDependencies`` external unless ``noExternal`` names them, and inline
  the rest;
- rollup without a resolve plugin leaves every bare import external, and so
  does ``esbuild`` without ``--bundle`` (a transpiler run: not a bundler).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from .pkgjson import nearest_package_json, read_json, show_path

BUNDLERS = ("webpack", "esbuild", "rollup", "vite", "tsup", "ncc", "parcel")

#: config file stems (``webpack.config.js``, ``rollup.config.mjs``, ...) -> bundler
_CONFIGS = {"webpack.config": "webpack", "rollup.config": "rollup", "vite.config": "vite",
            "tsup.config": "tsup", "esbuild.config": "esbuild"}
_CONFIG_EXTS = (".js", ".cjs", ".mjs", ".ts", ".cts", ".mts", ".json")
#: a script command that runs a bundler (``esbuild src/x.ts --bundle``, ``ncc build``, ``vite build``)
_SCRIPT = re.compile(r"(?:^|[\s;&|(/])(webpack|esbuild|rollup|tsup|ncc\s+build|vite\s+build|parcel\s+build)\b(?!\.)")
#: a script that runs a build file with node (``node esbuild.js --production``, VS Code's template)
_BUILD_FILE = re.compile(r"(?:^|[\s;&|(])node\s+(?:-\S+\s+)*([\w./-]+\.[cm]?js)\b")
#: the bundler API such a file imports
_BUNDLER_IMPORT = re.compile(r"""(?:require\(\s*|from\s+)['"](esbuild|webpack|rollup|vite|tsup|@vercel/ncc)['"]""")
#: devDependencies that exist only to bundle (esbuild and vite also serve test runners and dev servers)
_DEV_DEPS = {"webpack": "webpack", "@vercel/ncc": "ncc", "tsup": "tsup", "rollup": "rollup", "parcel": "parcel"}

_QUOTED = r"""['"`]([^'"`\s]+)['"`]"""


@dataclass(frozen=True)
class Bundler:
    """A bundler packs the package's own files; ``external`` are the packages it
    leaves to ``require()`` at run time (None: all of them)."""

    name: str
    evidence: str  # where it was seen, for messages
    external: frozenset[str] | None = frozenset()  # names, or ``@scope/*``

    def inlines(self, package: str) -> bool:
        return self.external is not None and not _matches(package, self.external)


def _matches(package: str, names: frozenset[str]) -> bool:
    return package in names or any(n.endswith("/*") and package.startswith(n[:-1]) for n in names)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(200_000)
    except OSError:
        return ""


@lru_cache(maxsize=None)
def bundler_for(directory: str) -> Bundler | None:
    """The bundler of the package owning files in ``directory`` (absolute), if any."""
    pj = nearest_package_json(directory)
    if pj is None:
        return None
    data = read_json(pj) or {}
    root = os.path.dirname(pj)
    deps = frozenset(n for key in ("dependencies", "peerDependencies")
                     for n in (data.get(key) or {}) if isinstance(data.get(key), dict))
    for stem, name in _CONFIGS.items():
        for ext in _CONFIG_EXTS:
            path = os.path.join(root, stem + ext)
            if os.path.isfile(path):
                return _from_config(name, _read(path), show_path(path), deps)
    scripts = data.get("scripts") if isinstance(data.get("scripts"), dict) else {}
    for key, command in scripts.items():
        if not isinstance(command, str):
            continue
        m = _SCRIPT.search(command)
        bundler = m and _from_script(m.group(1).split()[0], command,
                                     f"scripts.{key} {command!r} in {show_path(pj)}", deps)
        if bundler:
            return bundler
        bundler = _from_build_file(root, command, deps)
        if bundler:
            return bundler
    dev = data.get("devDependencies") if isinstance(data.get("devDependencies"), dict) else {}
    for dep, name in _DEV_DEPS.items():
        if dep in dev:
            return _from_config(name, "", f"{dep} in devDependencies of {show_path(pj)}", deps)
    return None


def _from_build_file(root: str, command: str, deps: frozenset[str]) -> Bundler | None:
    """``node esbuild.js``: a build file that calls a bundler's API."""
    for m in _BUILD_FILE.finditer(command):
        path = os.path.join(root, m.group(1))
        text = _read(path) if os.path.isfile(path) else ""
        api = _BUNDLER_IMPORT.search(text)
        if api:
            return _from_config(api.group(1).rsplit("/", 1)[-1], text, show_path(path), deps)
    return None


def _from_config(name: str, text: str, evidence: str, deps: frozenset[str]) -> Bundler | None:
    if name == "esbuild" and text and not re.search(r"\bbundle\s*:\s*true", text):
        return None  # esbuild's API without `bundle: true` only transpiles
    if name == "tsup" or name == "parcel" or (name == "vite" and re.search(r"\bssr\b", text)):
        return Bundler(name, evidence, deps - set(_strings_after(text, "noExternal")))
    if name == "rollup" and not re.search(r"node-?resolve", text, re.IGNORECASE):
        return Bundler(name, evidence, None)
    if re.search(r"webpack-node-externals|nodeExternals|packages\s*:\s*['\"]external", text):
        return Bundler(name, evidence, None)
    return Bundler(name, evidence, frozenset(_strings_after(text, "external")))


def _from_script(name: str, command: str, evidence: str, deps: frozenset[str]) -> Bundler | None:
    if name == "esbuild" and "--bundle" not in command:
        return None  # a transpiler run: every require stays
    if name == "tsup" or name == "parcel" or (name == "vite" and "--ssr" in command):
        return Bundler(name, evidence, deps - set(re.findall(r"--no-?[eE]xternal[=\s]+([^\s]+)", command)))
    if "--packages=external" in command:
        return Bundler(name, evidence, None)
    return Bundler(name, evidence, frozenset(re.findall(r"--external[:=]([^\s]+)", command)))


def _strings_after(text: str, key: str) -> list[str]:
    """The quoted names and object keys in the value of ``key:`` in a config file:
    ``externals: {vscode: 'commonjs vscode'}``, ``external: ['sharp']``."""
    out = []
    for m in re.finditer(rf"\b{key}s?\s*:\s*([\[{{])", text):
        close = "]" if m.group(1) == "[" else "}"
        end = text.find(close, m.end())
        body = text[m.end():end if end >= 0 else m.end() + 2000]
        out += re.findall(_QUOTED, body)
        out += re.findall(r"([\w@/.-]+)\s*:", body) if close == "}" else []
    return out
