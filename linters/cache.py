"""Per-file result cache in ``.cnlint_cache/``.

An entry is keyed by the file's path and content hash, inside a directory
named by the *salt*: cnlint's version, the resolved rule set (ids, options,
severities, per-file ignores, size limit) and the source of every enabled rule
module (so editing a custom rule invalidates its results). Rules that read
project facts (``uses_project = True``) add the stamps of the manifests they
may read (package.json, lockfiles, tsconfig.json, go.mod, go.sum) to the key,
so ``npm install`` or a go.mod bump re-lints the files that depend on them.

Writes go to a temporary file renamed into place, so concurrent runs never see
a torn entry; a corrupt or unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import pickle
from typing import Any

from . import __version__
from .model import FileResult

CACHE_DIR = ".cnlint_cache"
FORMAT = "v1"
PROJECT_FILES = ("package.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "tsconfig.json",
                 "go.mod", "go.sum", ".nvmrc", ".node-version")


def salt(enabled, registry, selection, cfg) -> str:
    h = hashlib.sha256()
    h.update(f"{FORMAT}\0{__version__}\0".encode())
    sources = set()
    for rid in sorted(enabled):
        info = registry.rules[rid]
        h.update(json.dumps([rid, selection.options.get(rid, {}), selection.severities[rid].value],
                            sort_keys=True, default=str).encode())
        for cls in info.impls.values():
            try:
                sources.add(inspect.getsourcefile(cls) or "")
            except TypeError:
                pass
    # A rule's helpers live next to it (rules/perf/go_flow.py, ...): hash every
    # module of the rule's folder, not only the file that defines the class.
    files = set()
    for path in sources:
        d = os.path.dirname(path)
        try:
            files |= {os.path.join(d, n) for n in os.listdir(d) if n.endswith(".py")}
        except OSError:
            files.add(path)
    for path in sorted(files):
        try:
            with open(path, "rb") as f:
                h.update(path.encode() + hashlib.sha256(f.read()).digest())
        except OSError:
            h.update(path.encode())
    h.update(json.dumps([cfg.per_file_ignores, cfg.max_file_size], sort_keys=True).encode())
    return h.hexdigest()[:24]


def project_stamp(directory: str, ext: str = "") -> str:
    """Stamps (mtime, size) of the project files that enclose ``directory``, and
    of the files with extension ``ext`` beside it (a Go package's other files,
    which whole-package rules such as PERF001 read)."""
    parts = []
    if ext:
        try:
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if entry.name.endswith(ext) and entry.is_file():
                    st = entry.stat()
                    parts.append(f"{entry.name}:{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            pass
    d = os.path.abspath(directory)
    while True:
        for name in PROJECT_FILES:
            try:
                st = os.stat(os.path.join(d, name))
                parts.append(f"{d}/{name}:{st.st_mtime_ns}:{st.st_size}")
            except OSError:
                pass
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return "|".join(parts)


class Cache:
    def __init__(self, root: str, salt_value: str):
        self.base = os.path.join(root, CACHE_DIR)
        self.dir = os.path.join(self.base, FORMAT, salt_value)
        self.hits = 0
        self.misses = 0
        self._dirs: set[str] = set()

    def key(self, path: str, data: bytes, extra: str = "") -> str:
        h = hashlib.sha256(data)
        h.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0" + extra.encode())
        return h.hexdigest()

    def _file(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key[2:] + ".pickle")

    def get(self, key: str) -> FileResult | None:
        try:
            with open(self._file(key), "rb") as f:
                value = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return value if isinstance(value, FileResult) else None

    def put(self, key: str, value: Any) -> None:
        target = self._file(key)
        directory = os.path.dirname(target)
        # A temporary name unique to this process (a process writes one entry at a
        # time), renamed into place: readers and concurrent runs never see a torn file.
        tmp = f"{target}.{os.getpid()}.tmp"
        try:
            if directory not in self._dirs:  # once per run, not a makedirs per entry
                os.makedirs(directory, exist_ok=True)
                if not self._dirs:
                    self._ensure_gitignore()
                self._dirs.add(directory)
            with open(tmp, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass  # a read-only checkout must still lint

    def _ensure_gitignore(self) -> None:
        marker = os.path.join(self.base, ".gitignore")
        if not os.path.exists(marker):
            try:
                with open(marker, "w", encoding="utf-8") as f:
                    f.write("# Created by cnlint automatically.\n*\n")
            except OSError:
                pass
